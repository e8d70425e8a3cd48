/**
 * The alerts over HTTP: the stored alerts with what the alert pipeline made of them, one
 * alert with its captured evidence, and the noise reduction (alerts in vs incidents out).
 * Read-only; every route acts on the caller's tenant.
 *
 *   GET /v1/alerts?rule=&vehicle=&severity=high,critical&since=&until=&outcome=incident|duplicate|suppressed|pending&sort=-time&limit=&offset=
 *                                     sorted server-side by time, detectedAt, severity (rank), rule, vehicle or
 *                                     outcome (- for descending; ties newest first, then id: offset pages are stable)
 *   GET /v1/alerts/timeline?since=&until=&buckets=24
 *                                     every stored alert and incident counted per time bucket (alerts by
 *                                     severity, incidents by creation), and alerts by severity all time;
 *                                     by default from the first alert of the last 30 days to now, in buckets
 *                                     of a round width (1 s ... 1 day) so that at most `buckets` cover it
 *   GET /v1/alerts/noise?since=       per rule and totals: alerts, duplicates, suppressed, incidents, reduction %
 *   GET /v1/alerts/{id}               the alert, its outcome and its evidence (null until captured), and the
 *                                     incident it opened or joined with its state and the moves allowed from it
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NotFoundError } from '../../core/errors.js';
import { SEVERITIES } from '../../core/records.js';
import { ALERT_OUTCOMES, INCIDENT_STATES } from '../../alerts/model.js';
import { TRANSITIONS } from '../../alerts/workflow.js';
import { ALERT_SORT_FIELDS, type AlertQueries, type AlertQuery, type AlertTimeline, type AlertSortField, type AlertWithOutcome, type IncidentStore } from '../../alerts/ports.js';
import type { NoiseReport } from '../../runtime/alert-service.js';
import { ApiError, CsvOf, ErrorBody, PageQuery, Paged, SortQuery, TimeQuery, parseSort, requestTenant } from './api.js';

export interface AlertRouteDeps {
  readonly queries: AlertQueries & AlertTimeline;
  readonly incidents: Pick<IncidentStore, 'getEvidence' | 'getIncident'>;
  readonly noise: (tenant: string, since?: number) => Promise<NoiseReport>;
  readonly defaultTenant: string;
  /** Now, for the timeline's default range (the injected clock); default Date.now. */
  readonly now?: () => number;
}

/** The timeline's default reach back: the first alert of the last 30 days. */
export const TIMELINE_DEFAULT_RANGE_MS = 30 * 86_400_000;
/** Round bucket widths, the smallest that fits is taken. */
const BUCKET_WIDTHS_MS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400].map((s) => s * 1000);
const MAX_BUCKETS = 200;

/** The smallest round width cutting `[from, to)` into at most `n` buckets (whole days past the list). */
export function bucketWidth(from: number, to: number, n: number): number {
  const min = Math.max(1, Math.ceil((to - from) / n));
  return BUCKET_WIDTHS_MS.find((w) => w >= min) ?? Math.ceil(min / 86_400_000) * 86_400_000;
}

const Time = z.number().describe('epoch milliseconds');
const Severity = z.enum(SEVERITIES);
const OutcomeBody = z.object({ kind: z.enum(ALERT_OUTCOMES), ref: z.string().describe('the incident joined, the alert duplicated, or the suppression that hid it'), at: Time });
const AlertBody = z.object({
  id: z.string(), tenant: z.string(), vehicle: z.string().optional(), time: Time, detectedAt: Time, rule: z.string(), title: z.string(),
  severity: Severity, tags: z.array(z.string()), details: z.record(z.string(), z.unknown()),
  outcome: OutcomeBody.nullable().describe('null while the alert pipeline has not decided it'),
});
const EvidenceBody = z.object({
  capturedAt: Time, evidence: z.record(z.string(), z.unknown()),
  sharedWith: z.string().optional().describe('the alert of the same vehicle whose capture this alert shares'),
});
const NoiseCounts = { alerts: z.number().int(), duplicates: z.number().int(), suppressed: z.number().int(), incidents: z.number().int(), reductionPct: z.number() };
const NoiseBody = z.object({
  since: Time.nullable(),
  rules: z.array(z.object({ rule: z.string(), incidentAlerts: z.number().int(), ...NoiseCounts })),
  totals: z.object(NoiseCounts),
});

const Severities = CsvOf(SEVERITIES);

const ListQuery = PageQuery.extend({
  rule: z.string().min(1).max(200).optional(),
  vehicle: z.string().regex(/^[0-9a-f]{16}$/, 'a vehicle key: 16 lowercase hex digits').optional(),
  severity: Severities.optional().describe('one or more, comma-separated'),
  since: TimeQuery.optional().describe('alert time at or after: epoch ms or ISO 8601'),
  until: TimeQuery.optional().describe('alert time before: epoch ms or ISO 8601'),
  outcome: z.enum([...ALERT_OUTCOMES, 'pending']).optional().describe('pending: not decided yet'),
  sort: SortQuery(ALERT_SORT_FIELDS, '-time'),
});
const TenantQuery = z.object({ tenant: z.string().optional().describe('operator tokens: the tenant to act on') });

export function registerAlertRoutes(app: FastifyInstance, deps: AlertRouteDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const view = (a: AlertWithOutcome): z.infer<typeof AlertBody> => ({ ...a, tags: [...a.tags], details: { ...a.details }, outcome: a.outcome ?? null });

  r.get('/v1/alerts', {
    config: { permission: 'read' },
    schema: { tags: ['alerts'], summary: 'List alerts with their outcome, sorted (default newest first)', querystring: ListQuery, response: { 200: Paged(AlertBody), 400: ErrorBody } },
  }, async (req) => {
    const q = req.query;
    const query: AlertQuery = {
      tenant: requestTenant(req, deps.defaultTenant), limit: q.limit, offset: q.offset,
      sort: parseSort(q.sort) as { field: AlertSortField; desc: boolean },
      ...(q.rule !== undefined ? { rule: q.rule } : {}),
      ...(q.vehicle !== undefined ? { vehicle: q.vehicle } : {}),
      ...(q.severity ? { severity: q.severity as AlertQuery['severity'] } : {}),
      ...(q.since !== undefined ? { since: q.since } : {}),
      ...(q.until !== undefined ? { until: q.until } : {}),
      ...(q.outcome !== undefined ? { outcome: q.outcome } : {}),
    };
    const { items, total } = await deps.queries.listAlerts(query);
    return { items: items.map(view), total, limit: q.limit, offset: q.offset };
  });

  r.get('/v1/alerts/timeline', {
    config: { permission: 'read' },
    schema: {
      tags: ['alerts'], summary: 'Alerts (by severity) and incidents per time bucket, over every stored one',
      querystring: TenantQuery.extend({
        since: TimeQuery.optional().describe('start: epoch ms or ISO 8601; default the first alert of the last 30 days'),
        until: TimeQuery.optional().describe('end (exclusive): epoch ms or ISO 8601; default now'),
        buckets: z.coerce.number().int().min(1).max(MAX_BUCKETS).default(24).describe('at most this many buckets'),
      }),
      response: {
        200: z.object({
          from: Time, to: Time, bucketMs: z.number().int(),
          buckets: z.array(z.object({ start: Time, ...Object.fromEntries(SEVERITIES.map((s) => [s, z.number().int()])) as Record<(typeof SEVERITIES)[number], z.ZodNumber>, incidents: z.number().int() })),
          bySeverity: z.object(Object.fromEntries(SEVERITIES.map((s) => [s, z.number().int()])) as Record<(typeof SEVERITIES)[number], z.ZodNumber>).describe('stored alerts by severity, all time'),
        }),
        400: ErrorBody,
      },
    },
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const q = req.query;
    const to = q.until ?? (deps.now ?? Date.now)();
    const since = q.since ?? (await deps.queries.firstAlertSince(tenant, to - TIMELINE_DEFAULT_RANGE_MS)) ?? to - 3_600_000;
    if (!(since < to)) throw new ApiError(400, 'ValidationError', `since (${since}) must be before until (${to})`, [{ in: 'querystring', path: '/since', message: 'must be before until' }]);
    const bucketMs = bucketWidth(since, to, q.buckets);
    // Buckets aligned on their width (UTC), so that two reads a moment apart draw the same bars.
    const from = Math.floor(since / bucketMs) * bucketMs;
    const [buckets, bySeverity] = await Promise.all([
      deps.queries.timeline({ tenant, from, to, bucketMs }),
      deps.queries.alertsBySeverity(tenant),
    ]);
    return { from, to, bucketMs, buckets: buckets.map((b) => ({ start: b.start, ...b.alerts, incidents: b.incidents })), bySeverity };
  });

  r.get('/v1/alerts/noise', {
    config: { permission: 'read' },
    schema: {
      tags: ['alerts'], summary: 'Noise reduction: alerts in vs incidents out, per rule and in total',
      querystring: TenantQuery.extend({ since: TimeQuery.optional().describe('alerts decided at or after: epoch ms or ISO 8601') }),
      response: { 200: NoiseBody, 400: ErrorBody },
    },
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const report = await deps.noise(tenant, req.query.since);
    return { since: req.query.since ?? null, ...report, rules: [...report.rules] };
  });

  r.get('/v1/alerts/:id', {
    config: { permission: 'read' },
    schema: {
      tags: ['alerts'], summary: 'One alert with its outcome and evidence',
      params: z.object({ id: z.string().min(1).max(500) }), querystring: TenantQuery,
      response: {
        200: AlertBody.extend({
          evidence: EvidenceBody.nullable().describe('null until captured'),
          incident: z.object({ id: z.string(), state: z.enum(INCIDENT_STATES), allowed: z.array(z.enum(INCIDENT_STATES)).describe('the moves the workflow allows from its state') })
            .nullable().describe('the incident the alert opened or joined (null: none, or not stored)'),
        }),
        400: ErrorBody, 404: ErrorBody,
      },
    },
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const [alert, own] = await Promise.all([deps.queries.getAlert(tenant, req.params.id), deps.incidents.getEvidence(tenant, req.params.id)]);
    if (!alert) throw new NotFoundError(`no alert ${req.params.id} in tenant ${tenant}`);
    // An alert of a burst shares the capture of a nearby alert of its vehicle (runtime/evidence.ts).
    const shared = own?.evidence['sharedWith'];
    const [evidence, incident] = await Promise.all([
      typeof shared === 'string' ? deps.incidents.getEvidence(tenant, shared) : own,
      alert.outcome?.kind === 'incident' ? deps.incidents.getIncident(tenant, alert.outcome.ref) : undefined,
    ]);
    return {
      ...view(alert), evidence: evidence ? { ...evidence, ...(typeof shared === 'string' ? { sharedWith: shared } : {}) } : null,
      incident: incident ? { id: incident.id, state: incident.state, allowed: [...TRANSITIONS[incident.state]] } : null,
    };
  });
}
