/**
 * The analyst workflow over HTTP: incidents (list, detail, state, assignment, comments, tags,
 * links, the false-positive verdict), suppressions, and rule tuning. Every change writes an
 * incident event (the incident's history) and an audit entry, in that order, after the
 * incident itself.
 *
 *   GET  /v1/incidents?state=&severity=&kind=&vehicle=&rule=&assignee=&tag=&since=&until=&slaBreached=&sort=-risk
 *   GET  /v1/incidents/{id}                         incident, first page of alerts, history, links
 *   POST /v1/incidents/{id}/transition {to, reason?} 409 with the allowed states when illegal
 *   POST /v1/incidents/{id}/assign     {assignee|null}
 *   GET|POST /v1/incidents/{id}/comments {text}
 *   PUT|POST /v1/incidents/{id}/tags {tags}, DELETE /v1/incidents/{id}/tags/{tag}
 *   POST /v1/incidents/{id}/links      {other, relation}
 *   POST /v1/incidents/{id}/verdict    {verdict: false_positive, reason, suppress?, tune?}
 *   GET|POST /v1/suppressions, DELETE /v1/suppressions/{id}
 *   GET  /v1/rules/tuning
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditLog, Principal } from '../../core/access.js';
import type { Clock } from '../../core/clock.js';
import { NotFoundError } from '../../core/errors.js';
import { SEVERITIES, type Alert } from '../../core/records.js';
import { isVehicleKey } from '../../core/vehicle-key.js';
import { INCIDENT_KINDS, INCIDENT_STATES, type Incident, type IncidentState, type Suppression } from '../../alerts/model.js';
import type { IncidentEvent, IncidentPatch, IncidentQuery, IncidentStore, WorkflowStore } from '../../alerts/ports.js';
import { suppressionMatchProblems } from '../../alerts/suppress.js';
import { DEFAULT_SLA, TRANSITIONS, isClosed, slaBreached, transition, type SlaPolicy } from '../../alerts/workflow.js';
import { ApiError, CsvOf, ErrorBody, PageQuery, Paged, SortQuery, TimeQuery, parseSort, parseTime, principalOf, requestTenant, type FieldError } from './api.js';

/** Applies per-tenant rule tuning to the running detection (Pipeline.tuneRule). */
export interface RuleTuner {
  /** What is wrong with tuning `rule` with `params` (unknown rule, a parameter the rule has not, a bad value); empty when fine. */
  check(rule: string, params: Readonly<Record<string, unknown>>): string[];
  /** From the next evaluation on, `rule` runs with `params` for `tenant`. */
  apply(tenant: string, rule: string, params: Readonly<Record<string, unknown>>): Promise<void>;
}

export interface IncidentRouteDeps {
  readonly incidents: IncidentStore;
  readonly workflow: WorkflowStore;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly defaultTenant: string;
  readonly sla?: SlaPolicy;
  /** The stored alerts, for an incident's first page of alerts (ids only without it). */
  readonly alerts?: { getAlert(tenant: string, id: string): Promise<Alert | undefined> };
  /** Without it, a verdict's `tune` is refused (400). */
  readonly tuner?: RuleTuner;
  /** The running alert pipeline, told of what changes its decisions. */
  readonly alertPipeline?: AlertPipelineHooks;
}

export interface AlertPipelineHooks {
  /** An incident was closed: later alerts of its group open a new one. */
  incidentClosed(tenant: string, id: string): void;
  /** Suppressions were added or ended: reload them before the next alert. */
  suppressionsChanged(): Promise<void>;
}

/** Longest suppression: a suppression must end, so a forgotten one cannot hide attacks for good. */
export const MAX_SUPPRESSION_DAYS = 90;
/** Alerts shown with an incident's detail. */
export const INCIDENT_ALERTS_PAGE = 50;
const DAY_MS = 86_400_000;
const LINK_RELATIONS = ['related', 'duplicate_of', 'caused_by', 'part_of'] as const;

// ---- schemas -------------------------------------------------------------------------------

const Time = z.number().describe('epoch milliseconds');
const IncidentBody = z.object({
  id: z.string(), tenant: z.string(), kind: z.enum(INCIDENT_KINDS), groupKey: z.string(), title: z.string(),
  state: z.enum(INCIDENT_STATES), severity: z.enum(SEVERITIES), risk: z.number(),
  assignee: z.string().optional(), tags: z.array(z.string()), vehicle: z.string().optional(), rules: z.array(z.string()),
  vehicleCount: z.number().int(), alertCount: z.number().int(), firstAlertAt: Time, lastAlertAt: Time, createdAt: Time, updatedAt: Time,
  slaDueAt: Time.optional(), slaBreached: z.boolean().describe('the SLA of the current state has run out'), closedAt: Time.optional(),
  context: z.record(z.string(), z.unknown()),
  allowed: z.array(z.enum(INCIDENT_STATES)).describe('the states the workflow allows it to move to from here (POST .../transition)'),
});
const EventBody = z.object({ id: z.string(), time: Time, actor: z.string(), kind: z.string(), body: z.record(z.string(), z.unknown()) });
const LinkBody = z.object({ a: z.string(), b: z.string(), relation: z.string(), createdBy: z.string(), createdAt: Time });
const SuppressionBody = z.object({
  id: z.string(), tenant: z.string(), rule: z.string().optional(), vehicle: z.string().optional(),
  match: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])), reason: z.string(), createdBy: z.string(),
  createdAt: Time, expiresAt: Time, hits: z.number().int(), active: z.boolean(),
});
const TuningBody = z.object({ rule: z.string(), params: z.record(z.string(), z.unknown()), reason: z.string(), createdBy: z.string(), createdAt: Time });
const CommentBody = z.object({ id: z.string(), time: Time, author: z.string(), authorName: z.string(), text: z.string() });

const IdParams = z.object({ id: z.string().min(1).max(200) });
const TenantQuery = z.object({ tenant: z.string().optional().describe('operator tokens: the tenant to act on') });
const Reason = z.string().trim().min(1).max(2000);
const Tag = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9:._/-]{0,63}$/, 'letters, digits and : . _ / - (max 64), starting with a letter or digit');
const MatchValue = z.union([z.string().max(500), z.number(), z.boolean()]);
/** Conditions on alert details or vehicle attributes, checked as the alert pipeline's matcher reads them. */
const MatchMap = z.record(z.string(), MatchValue).superRefine((m, ctx) => {
  for (const p of suppressionMatchProblems(m)) {
    const [where, ...rest] = p.split(': ');
    ctx.addIssue({ code: 'custom', path: where === 'match' ? [] : [where!.slice('match.'.length)], message: rest.join(': ') });
  }
});
const TuneParams = z.record(z.string(), z.unknown()).refine((p) => Object.keys(p).length > 0, 'give at least one parameter');

const ListQuery = PageQuery.extend({
  state: CsvOf(INCIDENT_STATES).optional(),
  severity: CsvOf(SEVERITIES).optional(),
  kind: z.enum(INCIDENT_KINDS).optional(),
  vehicle: z.string().regex(/^[0-9a-f]{16}$/, 'a vehicle key: 16 lowercase hex digits').optional(),
  rule: z.string().min(1).optional(),
  assignee: z.string().min(1).optional(),
  tag: z.string().min(1).optional(),
  since: TimeQuery.optional().describe('last alert at or after: epoch ms or ISO 8601'),
  until: TimeQuery.optional().describe('last alert before: epoch ms or ISO 8601'),
  slaBreached: z.enum(['true', 'false']).optional().describe('true: the SLA has run out; false: it has not (or none runs)'),
  sort: SortQuery(['createdAt', 'updatedAt', 'lastAlertAt', 'risk', 'severity', 'alertCount', 'slaDueAt'] as const, '-lastAlertAt'),
});

const SuppressScope = z.strictObject({
  scope: z.enum(['rule', 'rule+vehicle', 'rule+model']),
  days: z.number().int().min(1).max(MAX_SUPPRESSION_DAYS),
  /** One of the incident's rules; absent: each of them. */
  rule: z.string().min(1).optional(),
});
const VerdictBody = z.strictObject({
  verdict: z.literal('false_positive'),
  reason: Reason,
  suppress: SuppressScope.optional(),
  tune: z.strictObject({ rule: z.string().min(1).optional(), params: TuneParams }).optional(),
});

const NewSuppression = z
  .strictObject({
    rule: z.string().min(1).max(200).optional(),
    vehicle: z.string().regex(/^[0-9a-f]{16}$/, 'a vehicle key: 16 lowercase hex digits').optional(),
    match: MatchMap.default({}),
    reason: Reason,
    expiresAt: z.union([z.number(), z.string()]).optional().describe('epoch ms or ISO 8601, at most 90 days ahead'),
    days: z.number().positive().max(MAX_SUPPRESSION_DAYS).optional().describe('alternatively: how many days from now'),
  })
  .superRefine((b, ctx) => {
    if ((b.expiresAt === undefined) === (b.days === undefined)) ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: 'give exactly one of expiresAt, days: a suppression must expire' });
    if (b.rule === undefined && b.vehicle === undefined && Object.keys(b.match).length === 0) ctx.addIssue({ code: 'custom', path: ['rule'], message: 'a suppression needs at least one of rule, vehicle, match: it would hide every alert' });
  });

// ---- routes --------------------------------------------------------------------------------

export function registerIncidentRoutes(server: FastifyInstance, deps: IncidentRouteDeps): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const sla = deps.sla ?? DEFAULT_SLA;
  const now = (): number => deps.clock.now();
  const tenantOf = (req: FastifyRequest): string => requestTenant(req, deps.defaultTenant);
  const locks = new IncidentLocks();
  const errors = { 400: ErrorBody, 404: ErrorBody };

  const load = async (tenant: string, id: string): Promise<Incident> => {
    const incident = await deps.incidents.getIncident(tenant, id);
    if (!incident) throw new NotFoundError(`no incident ${id} in tenant ${tenant}`);
    return incident;
  };
  const view = (i: Incident): z.infer<typeof IncidentBody> => ({ ...i, tags: [...i.tags], rules: [...i.rules], context: { ...i.context }, slaBreached: slaBreached(i, now()), allowed: [...TRANSITIONS[i.state]] });

  /** The one way a change is made: patch the incident, append its event, append the audit entry. */
  const change = async (
    req: FastifyRequest, incident: Incident, c: { patch?: IncidentPatch; kind: string; body: Record<string, unknown>; action: string },
  ): Promise<Incident> => {
    const who = principalOf(req);
    const at = now();
    const updated = c.patch ? await deps.incidents.updateIncident(incident.tenant, incident.id, c.patch, at) : incident;
    if (!updated) throw new NotFoundError(`no incident ${incident.id} in tenant ${incident.tenant}`);
    await deps.workflow.appendEvents([eventOf(incident, who, at, c.kind, c.body)]);
    await deps.audit.append([{ principal: who, tenant: incident.tenant, action: c.action, targetType: 'incident', targetId: incident.id, details: c.body }]);
    if (!isClosed(incident.state) && isClosed(updated.state)) deps.alertPipeline?.incidentClosed(incident.tenant, incident.id);
    return updated;
  };

  app.get('/v1/incidents', {
    config: { permission: 'read' },
    schema: { tags: ['incidents'], summary: 'List incidents', querystring: ListQuery, response: { 200: Paged(IncidentBody), 400: ErrorBody } },
  }, async (req) => {
    const q = req.query;
    const tenant = tenantOf(req);
    const sort = parseSort(q.sort) as NonNullable<IncidentQuery['sort']>;
    const query: IncidentQuery = {
      tenant, limit: q.limit, offset: q.offset, sort,
      ...(q.state ? { state: q.state } : {}),
      ...(q.severity ? { severity: q.severity as IncidentQuery['severity'] } : {}),
      ...(q.kind ? { kind: q.kind } : {}),
      ...(q.vehicle ? { vehicle: q.vehicle } : {}),
      ...(q.rule ? { rule: q.rule } : {}),
      ...(q.assignee ? { assignee: q.assignee } : {}),
      ...(q.tag ? { tag: q.tag } : {}),
      ...(q.since !== undefined ? { since: q.since } : {}),
      ...(q.until !== undefined ? { until: q.until } : {}),
      ...(q.slaBreached ? { slaBreached: { breached: q.slaBreached === 'true', at: now() } } : {}),
    };
    const { items, total } = await deps.incidents.listIncidents(query);
    return { items: items.map(view), total, limit: q.limit, offset: q.offset };
  });

  app.get('/v1/incidents/:id', {
    config: { permission: 'read' },
    schema: {
      tags: ['incidents'], summary: 'An incident with its first alerts, history and links', params: IdParams, querystring: TenantQuery,
      response: {
        200: z.object({
          incident: IncidentBody,
          alerts: z.object({ items: z.array(z.object({ id: z.string() }).catchall(z.unknown())), total: z.number().int(), limit: z.number().int() }),
          history: z.array(EventBody),
          links: z.array(LinkBody),
        }),
        ...errors,
      },
    },
  }, async (req) => {
    const tenant = tenantOf(req);
    const incident = await load(tenant, req.params.id);
    const [ids, history, links] = await Promise.all([
      deps.incidents.incidentAlertIds(tenant, incident.id, { limit: INCIDENT_ALERTS_PAGE }),
      deps.workflow.events(tenant, incident.id),
      deps.workflow.links(tenant, incident.id),
    ]);
    const alerts = deps.alerts
      ? (await Promise.all(ids.map(async (id) => (await deps.alerts!.getAlert(tenant, id)) ?? { id }))).map((a) => ({ ...a }))
      : ids.map((id) => ({ id }));
    return {
      incident: view(incident),
      alerts: { items: alerts, total: incident.alertCount, limit: INCIDENT_ALERTS_PAGE },
      history: history.map(({ tenant: _t, incident: _i, ...e }) => ({ ...e, body: { ...e.body } })),
      links: links.map(({ tenant: _t, ...l }) => l),
    };
  });

  app.post('/v1/incidents/:id/transition', {
    config: { permission: 'triage' },
    schema: {
      tags: ['incidents'], summary: 'Move an incident to another state', params: IdParams, querystring: TenantQuery,
      body: z.strictObject({ to: z.enum(INCIDENT_STATES), reason: Reason.optional() }),
      response: { 200: IncidentBody, 409: ErrorBody.extend({ allowed: z.array(z.enum(INCIDENT_STATES)) }), ...errors },
    },
  }, async (req, reply) => {
    const tenant = tenantOf(req);
    return locks.run(`${tenant}/${req.params.id}`, async () => {
      const incident = await load(tenant, req.params.id);
      const r = transition(incident, req.body.to, now(), sla, req.body.reason);
      if (!r.ok) return reply.status(409).send(illegal(incident, req.body.to, r.allowed));
      return view(await change(req, incident, { patch: r.patch, kind: 'state', body: { ...r.event }, action: 'incident.transition' }));
    });
  });

  app.post('/v1/incidents/:id/assign', {
    config: { permission: 'triage' },
    schema: {
      tags: ['incidents'], summary: 'Assign an incident (null: unassign)', params: IdParams, querystring: TenantQuery,
      body: z.strictObject({ assignee: z.string().trim().min(1).max(200).nullable() }), response: { 200: IncidentBody, ...errors },
    },
  }, async (req) => {
    const tenant = tenantOf(req);
    return locks.run(`${tenant}/${req.params.id}`, async () => {
      const incident = await load(tenant, req.params.id);
      const to = req.body.assignee;
      const body = { from: incident.assignee ?? null, to };
      return view(await change(req, incident, { patch: { assignee: to }, kind: 'assign', body, action: 'incident.assign' }));
    });
  });

  app.post('/v1/incidents/:id/comments', {
    config: { permission: 'triage' },
    schema: {
      tags: ['incidents'], summary: 'Comment on an incident', params: IdParams, querystring: TenantQuery,
      body: z.strictObject({ text: z.string().trim().min(1).max(10_000) }), response: { 201: CommentBody, ...errors },
    },
  }, async (req, reply) => {
    const tenant = tenantOf(req);
    const incident = await load(tenant, req.params.id);
    const who = principalOf(req);
    const event = eventOf(incident, who, now(), 'comment', { text: req.body.text, authorName: who.name });
    await deps.workflow.appendEvents([event]);
    await deps.audit.append([{ principal: who, tenant, action: 'incident.comment', targetType: 'incident', targetId: incident.id, details: { comment: event.id, text: req.body.text } }]);
    return reply.status(201).send(commentOf(event));
  });

  app.get('/v1/incidents/:id/comments', {
    config: { permission: 'read' },
    schema: { tags: ['incidents'], summary: 'Comments on an incident, oldest first', params: IdParams, querystring: PageQuery, response: { 200: Paged(CommentBody), ...errors } },
  }, async (req) => {
    const tenant = tenantOf(req);
    const incident = await load(tenant, req.params.id);
    const comments = (await deps.workflow.events(tenant, incident.id)).filter((e) => e.kind === 'comment');
    const { limit, offset } = req.query;
    return { items: comments.slice(offset, offset + limit).map(commentOf), total: comments.length, limit, offset };
  });

  const setTags = async (req: FastifyRequest, tenant: string, id: string, next: (old: readonly string[]) => string[]) =>
    locks.run(`${tenant}/${id}`, async () => {
      const incident = await load(tenant, id);
      const tags = [...new Set(next(incident.tags))].sort();
      const added = tags.filter((t) => !incident.tags.includes(t));
      const removed = incident.tags.filter((t) => !tags.includes(t));
      if (!added.length && !removed.length) return view(incident);
      return view(await change(req, incident, { patch: { tags }, kind: 'tag', body: { added, removed, tags }, action: 'incident.tag' }));
    });
  const TagsBody = z.strictObject({ tags: z.array(Tag).max(50) });

  app.put('/v1/incidents/:id/tags', {
    config: { permission: 'triage' },
    schema: { tags: ['incidents'], summary: 'Replace the tags of an incident', params: IdParams, querystring: TenantQuery, body: TagsBody, response: { 200: IncidentBody, ...errors } },
  }, async (req) => setTags(req, tenantOf(req), req.params.id, () => req.body.tags));

  app.post('/v1/incidents/:id/tags', {
    config: { permission: 'triage' },
    schema: { tags: ['incidents'], summary: 'Add tags to an incident', params: IdParams, querystring: TenantQuery, body: TagsBody, response: { 200: IncidentBody, ...errors } },
  }, async (req) => setTags(req, tenantOf(req), req.params.id, (old) => [...old, ...req.body.tags]));

  app.delete('/v1/incidents/:id/tags/:tag', {
    config: { permission: 'triage' },
    schema: { tags: ['incidents'], summary: 'Remove a tag from an incident', params: IdParams.extend({ tag: Tag }), querystring: TenantQuery, response: { 200: IncidentBody, ...errors } },
  }, async (req) => setTags(req, tenantOf(req), req.params.id, (old) => old.filter((t) => t !== req.params.tag)));

  app.post('/v1/incidents/:id/links', {
    config: { permission: 'triage' },
    schema: {
      tags: ['incidents'], summary: 'Link an incident to another of the same tenant', params: IdParams, querystring: TenantQuery,
      body: z.strictObject({ other: z.string().min(1).max(200), relation: z.enum(LINK_RELATIONS).default('related') }),
      response: { 201: LinkBody, 409: ErrorBody, ...errors },
    },
  }, async (req, reply) => {
    const tenant = tenantOf(req);
    const incident = await load(tenant, req.params.id);
    const { other, relation } = req.body;
    if (other === incident.id) throw bodyError('/other', 'an incident cannot be linked to itself');
    if (!(await deps.incidents.getIncident(tenant, other))) throw bodyError('/other', `no incident ${other} in tenant ${tenant}`);
    const who = principalOf(req);
    const link = { tenant, a: incident.id, b: other, relation, createdBy: who.tokenId, createdAt: now() };
    if (!(await deps.workflow.insertLink(link))) throw new ApiError(409, 'Conflict', `incidents ${incident.id} and ${other} are already linked`);
    await change(req, incident, { kind: 'link', body: { other, relation }, action: 'incident.link' });
    // The other end's history shows the link too.
    await deps.workflow.appendEvents([eventOf({ tenant, id: other }, who, link.createdAt, 'link', { other: incident.id, relation, direction: 'in' })]);
    const { tenant: _t, ...out } = link;
    return reply.status(201).send(out);
  });

  app.post('/v1/incidents/:id/verdict', {
    config: { permission: 'triage' },
    schema: {
      tags: ['incidents'], summary: 'False-positive verdict: close, and optionally suppress or tune the rule', params: IdParams, querystring: TenantQuery,
      body: VerdictBody,
      response: {
        200: z.object({ incident: IncidentBody, suppressions: z.array(SuppressionBody), tuning: TuningBody.optional() }),
        409: ErrorBody.extend({ allowed: z.array(z.enum(INCIDENT_STATES)) }), ...errors,
      },
    },
  }, async (req, reply) => {
    const tenant = tenantOf(req);
    return locks.run(`${tenant}/${req.params.id}`, async () => {
      const incident = await load(tenant, req.params.id);
      const who = principalOf(req);
      const at = now();
      const { reason, suppress, tune } = req.body;
      const r = transition(incident, 'false_positive', at, sla, reason);
      if (!r.ok) return reply.status(409).send(illegal(incident, 'false_positive', r.allowed));
      // Everything is checked before anything is written.
      const suppressions = suppress ? suppressionsFor(incident, suppress, reason, who, at) : [];
      const tuning = tune ? await tuningFor(deps, incident, tune, reason, who, at) : undefined;

      const updated = await change(req, incident, {
        patch: r.patch, kind: 'verdict', action: 'incident.verdict',
        body: { ...r.event, verdict: 'false_positive', ...(suppressions.length ? { suppressions: suppressions.map((s) => s.id) } : {}), ...(tuning ? { tuning: { rule: tuning.rule, params: tuning.params } } : {}) },
      });
      for (const s of suppressions) await deps.incidents.insertSuppression(s);
      if (suppressions.length) {
        await deps.alertPipeline?.suppressionsChanged();
        await deps.audit.append(suppressions.map((s) => ({ principal: who, tenant, action: 'suppression.create', targetType: 'suppression', targetId: s.id, details: { ...suppressionDetails(s), incident: incident.id } })));
      }
      if (tuning) {
        await deps.workflow.saveTuning(tuning);
        await deps.tuner!.apply(tenant, tuning.rule, tuning.params);
        await deps.audit.append([{ principal: who, tenant, action: 'rule.tune', targetType: 'rule', targetId: tuning.rule, details: { params: tuning.params, reason, incident: incident.id } }]);
      }
      return {
        incident: view(updated),
        suppressions: suppressions.map((s) => suppressionView(s, at)),
        ...(tuning ? { tuning: { rule: tuning.rule, params: { ...tuning.params }, reason: tuning.reason, createdBy: tuning.createdBy, createdAt: tuning.createdAt } } : {}),
      };
    });
  });

  app.get('/v1/suppressions', {
    config: { permission: 'read' },
    schema: {
      tags: ['suppressions'], summary: 'Suppressions, newest first',
      querystring: PageQuery.extend({ active: z.enum(['true', 'false']).default('true').describe('true: only those not expired') }),
      response: { 200: Paged(SuppressionBody), 400: ErrorBody },
    },
  }, async (req) => {
    const tenant = tenantOf(req);
    const { limit, offset, active } = req.query;
    const at = now();
    const { items, total } = await deps.incidents.listSuppressions({ tenant, limit, offset, ...(active === 'true' ? { activeAt: at } : {}) });
    return { items: items.map((s) => suppressionView(s, at)), total, limit, offset };
  });

  app.post('/v1/suppressions', {
    config: { permission: 'triage' },
    schema: { tags: ['suppressions'], summary: 'Suppress matching alerts until an expiry', querystring: TenantQuery, body: NewSuppression, response: { 201: SuppressionBody, 400: ErrorBody } },
  }, async (req, reply) => {
    const tenant = tenantOf(req);
    const who = principalOf(req);
    const at = now();
    const b = req.body;
    const expiresAt = b.days !== undefined ? at + b.days * DAY_MS : parseTime(b.expiresAt!);
    if (expiresAt === undefined) throw bodyError('/expiresAt', 'epoch milliseconds or an ISO 8601 time');
    if (expiresAt <= at) throw bodyError('/expiresAt', 'must be in the future');
    if (expiresAt > at + MAX_SUPPRESSION_DAYS * DAY_MS) throw bodyError('/expiresAt', `at most ${MAX_SUPPRESSION_DAYS} days ahead`);
    const s: Suppression = {
      tenant, id: randomUUID(), match: b.match, reason: b.reason, createdBy: who.tokenId, createdAt: at, expiresAt, hits: 0,
      ...(b.rule !== undefined ? { rule: b.rule } : {}), ...(b.vehicle !== undefined ? { vehicle: b.vehicle } : {}),
    };
    await deps.incidents.insertSuppression(s);
    await deps.alertPipeline?.suppressionsChanged();
    await deps.audit.append([{ principal: who, tenant, action: 'suppression.create', targetType: 'suppression', targetId: s.id, details: suppressionDetails(s) }]);
    return reply.status(201).send(suppressionView(s, at));
  });

  app.delete('/v1/suppressions/:id', {
    config: { permission: 'triage' },
    schema: { tags: ['suppressions'], summary: 'End a suppression now', params: IdParams, querystring: TenantQuery, response: { 200: z.object({ id: z.string(), expiresAt: Time }), 404: ErrorBody } },
  }, async (req) => {
    const tenant = tenantOf(req);
    const at = now();
    if (!(await deps.incidents.expireSuppression(tenant, req.params.id, at))) throw new NotFoundError(`no suppression ${req.params.id} in tenant ${tenant}`);
    await deps.alertPipeline?.suppressionsChanged();
    await deps.audit.append([{ principal: principalOf(req), tenant, action: 'suppression.delete', targetType: 'suppression', targetId: req.params.id, details: { expiresAt: at } }]);
    return { id: req.params.id, expiresAt: at };
  });

  app.get('/v1/rules/tuning', {
    config: { permission: 'read' },
    schema: { tags: ['rules'], summary: 'Rule parameter overrides of the tenant (from false-positive verdicts)', querystring: TenantQuery, response: { 200: z.object({ items: z.array(TuningBody) }) } },
  }, async (req) => {
    const items = await deps.workflow.listTuning(tenantOf(req));
    return { items: items.map(({ tenant: _t, ...t }) => ({ ...t, params: { ...t.params } })) };
  });
}

// ---- helpers -------------------------------------------------------------------------------

function eventOf(incident: Pick<Incident, 'tenant' | 'id'>, who: Principal, at: number, kind: string, body: Record<string, unknown>): IncidentEvent {
  return { tenant: incident.tenant, incident: incident.id, id: randomUUID(), time: at, actor: who.tokenId, kind, body: { ...body, actorName: body['actorName'] ?? who.name } };
}

function commentOf(e: IncidentEvent): z.infer<typeof CommentBody> {
  return { id: e.id, time: e.time, author: e.actor, authorName: String(e.body['authorName'] ?? e.body['actorName'] ?? e.actor), text: String(e.body['text'] ?? '') };
}

/** The 409 body of a move the workflow does not allow, with the moves it does. */
function illegal(incident: Incident, to: string, allowed: readonly IncidentState[]) {
  return { error: 'IllegalTransition', message: `incident ${incident.id} is ${incident.state}: it can move to ${allowed.join(', ')}, not ${to}`, allowed: [...allowed] };
}

function bodyError(path: string, message: string): ApiError {
  return new ApiError(400, 'ValidationError', `invalid body: ${path} ${message}`, [{ in: 'body', path, message } satisfies FieldError]);
}

function suppressionView(s: Suppression, at: number): z.infer<typeof SuppressionBody> {
  const { tenant, id, rule, vehicle, match, reason, createdBy, createdAt, expiresAt, hits } = s;
  return { tenant, id, ...(rule !== undefined ? { rule } : {}), ...(vehicle !== undefined ? { vehicle } : {}), match: { ...match }, reason, createdBy, createdAt, expiresAt, hits, active: expiresAt > at };
}

function suppressionDetails(s: Suppression): Record<string, unknown> {
  return { rule: s.rule ?? null, vehicle: s.vehicle ?? null, match: s.match, reason: s.reason, expiresAt: s.expiresAt };
}

/** The model of the incident's vehicle, from its enrichment (`context.model` or `context.identity.model`). */
function modelOf(incident: Incident): string | undefined {
  const c = incident.context;
  const identity = c['identity'] as Record<string, unknown> | undefined;
  const m = c['model'] ?? identity?.['model'];
  return typeof m === 'string' && m !== '' ? m : undefined;
}

/** The suppressions a verdict's `suppress` asks for: one per rule of the incident (or the one named). */
function suppressionsFor(incident: Incident, s: z.infer<typeof SuppressScope>, reason: string, who: Principal, at: number): Suppression[] {
  if (s.rule !== undefined && !incident.rules.includes(s.rule)) throw bodyError('/suppress/rule', `not a rule of this incident (${incident.rules.join(', ')})`);
  const rules = s.rule !== undefined ? [s.rule] : incident.rules;
  if (!rules.length) throw bodyError('/suppress', 'the incident names no rule to suppress');
  let vehicle: string | undefined;
  const match: Record<string, string> = {};
  if (s.scope === 'rule+vehicle') {
    if (incident.vehicle === undefined || !isVehicleKey(incident.vehicle)) throw bodyError('/suppress/scope', `a ${incident.kind} incident has no single vehicle: use rule or rule+model`);
    vehicle = incident.vehicle;
  } else if (s.scope === 'rule+model') {
    const model = modelOf(incident);
    if (model === undefined) throw bodyError('/suppress/scope', 'the vehicle model of this incident is not known: use rule or rule+vehicle');
    match['model'] = model;
  }
  return rules.map((rule) => ({
    tenant: incident.tenant, id: randomUUID(), rule, ...(vehicle !== undefined ? { vehicle } : {}), match,
    reason: `false positive (incident ${incident.id}): ${reason}`, createdBy: who.tokenId, createdAt: at, expiresAt: at + s.days * DAY_MS, hits: 0,
  }));
}

/** The rule tuning a verdict's `tune` asks for, merged over the tenant's tuning of that rule so far. */
async function tuningFor(
  deps: IncidentRouteDeps, incident: Incident, t: { rule?: string | undefined; params: Record<string, unknown> }, reason: string, who: Principal, at: number,
) {
  if (!deps.tuner) throw bodyError('/tune', 'rule tuning is not available on this server (no detection rules run)');
  const rule = t.rule ?? (incident.rules.length === 1 ? incident.rules[0]! : undefined);
  if (rule === undefined) throw bodyError('/tune/rule', `name the rule to tune: the incident has ${incident.rules.length} (${incident.rules.join(', ')})`);
  if (!incident.rules.includes(rule)) throw bodyError('/tune/rule', `not a rule of this incident (${incident.rules.join(', ')})`);
  const problems = deps.tuner.check(rule, t.params);
  if (problems.length) throw new ApiError(400, 'ValidationError', `invalid tuning of ${rule}: ${problems.join('; ')}`, problems.map((p) => ({ in: 'body', path: '/tune/params', message: p })));
  const previous = (await deps.workflow.listTuning(incident.tenant)).find((x) => x.rule === rule);
  return { tenant: incident.tenant, rule, params: { ...previous?.params, ...t.params }, reason, createdBy: who.tokenId, createdAt: at };
}

/** One change at a time per incident: a read-decide-write (a transition) never interleaves with another on the same incident. */
class IncidentLocks {
  private readonly tails = new Map<string, Promise<unknown>>();
  run<T>(key: string, op: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(op, op);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
