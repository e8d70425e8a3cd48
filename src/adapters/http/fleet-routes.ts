/**
 * The fleet views over HTTP (permission `read`; every answer is the caller's tenant only):
 *
 *   GET  /v1/fleet/counts?of=alerts|incidents&by=make,model,year&from=&to=&severity=&rule=&limit=
 *   GET  /v1/fleet/top?what=vehicles|rules&by=alerts|incidents|severity&from=&to=&severity=&rule=&limit=
 *   GET  /v1/fleet/trend?of=alerts|incidents&by=make&from=&to=&severity=&rule=&sort=count|change&limit=
 *   GET  /v1/fleet/commonality?from=&to=&rule=&severity=&minSupport=&minCount=&alpha=&limit=   (the vehicles that alerted)
 *   GET  /v1/fleet/commonality?vehicles=k1,k2,...                                                 (a list, up to 500)
 *   POST /v1/fleet/commonality  { vehicles: [...] | from, to, rule, severity, minSupport, ... }   (a list up to 100,000)
 *
 * Times are ISO 8601 with a zone (`2026-11-01T00:00:00Z`, or a date `2026-11-01` = UTC midnight)
 * or epoch ms; the range is [from, to), by default the 30 days up to now. Lists are comma
 * separated (`severity=high,critical`, `rule=a,b`). Dimensions: make, model, year, trim, region,
 * software.<ECU>. See src/alerts/fleet.ts for what each number means.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  DEFAULT_COMMONALITY, FLEET_MEASURES, MAX_DIMENSIONS, TOP_ORDERS, TOP_SUBJECTS, TREND_ORDERS, parseDimension,
  type AlertFilter, type CommonalityOptions, type Dimension, type FleetViews, type TimeRange, type VehicleSet,
} from '../../alerts/fleet.js';
import { SEVERITIES, type Severity } from '../../core/records.js';
import { isVehicleKey } from '../../core/vehicle-key.js';
import { ApiError, ErrorBody, TIME_HELP, TimeQuery as Time, requestTenant } from './api.js';

export interface FleetRouteDeps {
  readonly views: FleetViews;
  readonly defaultTenant: string;
  /** Now, for the default range (the injected clock). */
  readonly now: () => number;
}

/** The default range: the last 30 days. */
export const DEFAULT_RANGE_MS = 30 * 86_400_000;
/** Most vehicle keys in a GET commonality list (the URL stays under Node's 16 KiB header limit). */
export const MAX_QUERY_VEHICLES = 500;
/** Most vehicle keys in a POST commonality body. */
export const MAX_BODY_VEHICLES = 100_000;
const MAX_RULES = 50;
const split = (s: string): string[] => s.split(',').map((x) => x.trim()).filter((x) => x !== '');

const SeverityList = z.string().describe(`comma list of ${SEVERITIES.join(', ')}`).transform((s, ctx) => {
  const list = split(s);
  const bad = list.filter((x) => !(SEVERITIES as readonly string[]).includes(x));
  if (bad.length) ctx.addIssue({ code: 'custom', message: `unknown severity ${bad.map((b) => JSON.stringify(b.slice(0, 20))).join(', ')}; known: ${SEVERITIES.join(', ')}` });
  return list as Severity[];
});

const RuleList = z.string().describe('comma list of rule ids').transform((s, ctx) => {
  const list = split(s);
  if (list.length > MAX_RULES) ctx.addIssue({ code: 'custom', message: `at most ${MAX_RULES} rules` });
  return list;
});

/** A comma list of dimensions, checked one by one. */
function dimensions(fallback: string) {
  return z.string().default(fallback).describe(`comma list of up to ${MAX_DIMENSIONS} of make, model, year, trim, region, software.<ECU>`).transform((s, ctx) => {
    const out: Dimension[] = [];
    for (const name of split(s)) {
      const d = parseDimension(name);
      if ('problem' in d) ctx.addIssue({ code: 'custom', message: d.problem });
      else if (out.includes(d.dimension)) ctx.addIssue({ code: 'custom', message: `dimension ${d.dimension} named twice` });
      else out.push(d.dimension);
    }
    if (out.length > MAX_DIMENSIONS) ctx.addIssue({ code: 'custom', message: `at most ${MAX_DIMENSIONS} dimensions, got ${out.length}` });
    return out;
  });
}

const limit = (fallback: number) => z.coerce.number().int().min(1).max(1000).default(fallback);

const RangeFields = {
  tenant: z.string().optional().describe('operator tokens: the tenant to act on'),
  from: Time.optional().describe(`start of the range, inclusive (${TIME_HELP}); default: 30 days before to`),
  to: Time.optional().describe(`end of the range, exclusive (${TIME_HELP}); default: now`),
  severity: SeverityList.optional(),
  rule: RuleList.optional(),
};

const CountsQuery = z.strictObject({
  ...RangeFields,
  of: z.enum(FLEET_MEASURES).default('alerts'),
  by: dimensions('make,model,year'),
  limit: limit(100),
});
const TopQuery = z.strictObject({
  ...RangeFields,
  what: z.enum(TOP_SUBJECTS).default('vehicles'),
  by: z.enum(TOP_ORDERS).default('alerts'),
  limit: limit(10),
});
const TrendQuery = z.strictObject({
  ...RangeFields,
  of: z.enum(FLEET_MEASURES).default('alerts'),
  by: dimensions(''),
  sort: z.enum(TREND_ORDERS).default('count'),
  limit: limit(100),
});
const CommonalityFields = {
  minSupport: z.coerce.number().min(0).max(1).default(DEFAULT_COMMONALITY.minSupport).describe('leave out values held by a smaller share of the set'),
  minCount: z.coerce.number().int().min(1).default(DEFAULT_COMMONALITY.minCount).describe('vehicles of the set a significant value needs at least'),
  alpha: z.coerce.number().gt(0).max(1).default(DEFAULT_COMMONALITY.alpha).describe('significance level of the Bonferroni-adjusted p-value'),
  limit: limit(DEFAULT_COMMONALITY.limit),
};
const VehicleKey = z.string().regex(/^[0-9a-f]{16}$/, 'a vehicle key is 16 lowercase hex digits');
const CommonalityQuery = z.strictObject({
  ...RangeFields,
  ...CommonalityFields,
  vehicles: z.string().optional().describe(`comma list of vehicle keys (up to ${MAX_QUERY_VEHICLES}; more through POST)`).transform((s, ctx) => {
    if (s === undefined) return undefined;
    const list = split(s);
    const bad = list.find((k) => !isVehicleKey(k));
    if (bad !== undefined) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(bad.slice(0, 40))} is not a vehicle key (16 lowercase hex digits)` });
    if (list.length === 0) ctx.addIssue({ code: 'custom', message: 'name at least one vehicle' });
    if (list.length > MAX_QUERY_VEHICLES) ctx.addIssue({ code: 'custom', message: `at most ${MAX_QUERY_VEHICLES} vehicles in the URL, got ${list.length}; POST the list` });
    return list;
  }),
});
const CommonalityBody = z.strictObject({
  from: Time.optional(),
  to: Time.optional(),
  severity: z.array(z.enum(SEVERITIES)).optional(),
  rule: z.array(z.string().min(1)).max(MAX_RULES).optional(),
  vehicles: z.array(VehicleKey).min(1).max(MAX_BODY_VEHICLES).optional(),
  minSupport: z.number().min(0).max(1).default(DEFAULT_COMMONALITY.minSupport),
  minCount: z.number().int().min(1).default(DEFAULT_COMMONALITY.minCount),
  alpha: z.number().gt(0).max(1).default(DEFAULT_COMMONALITY.alpha),
  limit: z.number().int().min(1).max(1000).default(DEFAULT_COMMONALITY.limit),
});

// ---- answers -------------------------------------------------------------------------------

const Key = z.record(z.string(), z.union([z.string(), z.number(), z.null()])).describe('the group: dimension -> value (null: no value, or no registered vehicle)');
const Range = { tenant: z.string(), from: z.number().describe('epoch ms, inclusive'), to: z.number().describe('epoch ms, exclusive') };
const SeverityOut = z.enum(SEVERITIES).nullable();
const CountsAnswer = z.object({
  ...Range,
  of: z.enum(FLEET_MEASURES),
  by: z.array(z.string()),
  total: z.object({ count: z.number().int(), vehicles: z.number().int() }),
  groups: z.array(z.object({
    key: Key,
    count: z.number().int().describe('alerts, or distinct incidents touching a vehicle of the group'),
    vehicles: z.number().int().describe('distinct vehicles of the group that alerted (are in a counted incident)'),
    fleetVehicles: z.number().int().describe("vehicles of the group in the tenant's fleet"),
  })),
  truncated: z.boolean(),
});
const TopVehicle = z.object({
  vehicle: z.string(), alerts: z.number().int(), incidents: z.number().int(), maxSeverity: SeverityOut, rules: z.number().int(),
  lastAlertAt: z.number().nullable(), make: z.string().nullable(), model: z.string().nullable(), year: z.number().int().nullable(),
  trim: z.string().nullable(), region: z.string().nullable(),
});
const TopRule = z.object({
  rule: z.string(), alerts: z.number().int(), vehicles: z.number().int(), incidents: z.number().int(), maxSeverity: SeverityOut, lastAlertAt: z.number().nullable(),
});
const TopAnswer = z.object({ ...Range, what: z.enum(TOP_SUBJECTS), by: z.enum(TOP_ORDERS), items: z.array(z.union([TopVehicle, TopRule])), truncated: z.boolean() });
const TrendRow = z.object({ key: Key, now: z.number().int(), before: z.number().int(), change: z.number().int(), changePct: z.number().nullable() });
const TrendAnswer = z.object({
  ...Range, of: z.enum(FLEET_MEASURES), by: z.array(z.string()),
  previous: z.object({ from: z.number(), to: z.number() }), total: TrendRow, groups: z.array(TrendRow), truncated: z.boolean(),
});
const CommonalityAnswer = z.object({
  tenant: z.string(),
  set: z.union([
    z.object({ kind: z.literal('alerted'), from: z.number(), to: z.number(), severity: z.array(z.string()), rule: z.array(z.string()) }),
    z.object({ kind: z.literal('vehicles'), listed: z.number().int() }),
  ]),
  options: z.object({ minSupport: z.number(), minCount: z.number(), alpha: z.number(), limit: z.number() }),
  setSize: z.number().int().describe("vehicles of the set in the tenant's fleet (n)"),
  fleetSize: z.number().int().describe("vehicles in the tenant's fleet (N)"),
  unknownVehicles: z.number().int().describe('vehicles of the set not in the fleet: not compared'),
  tested: z.number().int().describe('attribute values tested (the Bonferroni factor)'),
  items: z.array(z.object({
    attribute: z.string(), value: z.union([z.string(), z.number()]), setCount: z.number().int(), fleetCount: z.number().int(),
    support: z.number(), fleetShare: z.number(), lift: z.number(), expected: z.number(), pValue: z.number(), pAdjusted: z.number(), significant: z.boolean(),
  })),
  truncated: z.boolean(),
});
const Errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody };

// ---- routes ----------------------------------------------------------------------------------

export function registerFleetRoutes(fastify: FastifyInstance, deps: FleetRouteDeps): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const tags = ['fleet'];

  app.get('/v1/fleet/counts', {
    config: { permission: 'read' },
    schema: { tags, summary: 'Alerts or incidents by make, model, year, trim, region or software.<ECU>', querystring: CountsQuery, response: { 200: CountsAnswer, ...Errors } },
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const q = req.query;
    if (q.by.length === 0) throw fieldError('querystring', '/by', 'name at least one dimension');
    const range = resolveRange(q, deps.now(), 'querystring');
    const r = await deps.views.counts({ tenant, of: q.of, by: q.by, range, filter: filterOf(q), limit: q.limit });
    return { tenant, ...range, of: q.of, by: q.by, ...r, groups: [...r.groups] };
  });

  app.get('/v1/fleet/top', {
    config: { permission: 'read' },
    schema: { tags, summary: 'Top vehicles or rules by alerts, incidents or severity', querystring: TopQuery, response: { 200: TopAnswer, ...Errors } },
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const q = req.query;
    const range = resolveRange(q, deps.now(), 'querystring');
    const query = { tenant, by: q.by, range, filter: filterOf(q), limit: q.limit };
    const r = q.what === 'vehicles' ? await deps.views.topVehicles(query) : await deps.views.topRules(query);
    return { tenant, ...range, what: q.what, by: q.by, items: [...r.items], truncated: r.truncated };
  });

  app.get('/v1/fleet/trend', {
    config: { permission: 'read' },
    schema: { tags, summary: 'Counts against the previous period of the same length, overall and per group', querystring: TrendQuery, response: { 200: TrendAnswer, ...Errors } },
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const q = req.query;
    const range = resolveRange(q, deps.now(), 'querystring');
    const r = await deps.views.trend({ tenant, of: q.of, by: q.by, range, filter: filterOf(q), sort: q.sort, limit: q.limit });
    return { tenant, ...range, of: q.of, by: q.by, ...r, groups: [...r.groups] };
  });

  const commonality = async (req: FastifyRequest, where: 'querystring' | 'body', q: CommonalityInput) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const options: CommonalityOptions = { minSupport: q.minSupport, minCount: q.minCount, alpha: q.alpha, limit: q.limit };
    let set: VehicleSet;
    if (q.vehicles !== undefined) {
      const mixed = (['from', 'to', 'rule', 'severity'] as const).filter((f) => q[f] !== undefined);
      if (mixed.length) {
        throw new ApiError(400, 'ValidationError', 'either vehicles, or the alerted set (from, to, rule, severity), not both',
          mixed.map((f) => ({ in: where, path: `/${f}`, message: 'not with vehicles: the list is the set' })));
      }
      set = { kind: 'vehicles', vehicles: q.vehicles };
    } else {
      set = { kind: 'alerted', range: resolveRange(q, deps.now(), where), filter: filterOf(q) };
    }
    const r = await deps.views.commonality({ tenant, set, options });
    const setOut = set.kind === 'vehicles'
      ? { kind: 'vehicles' as const, listed: new Set(set.vehicles).size }
      : { kind: 'alerted' as const, ...set.range, severity: [...(set.filter.severity ?? [])], rule: [...(set.filter.rule ?? [])] };
    return { tenant, set: setOut, options, ...r, items: [...r.items] };
  };

  app.get('/v1/fleet/commonality', {
    config: { permission: 'read' },
    schema: {
      tags, summary: 'Attribute values over-represented among the vehicles that alerted (or a listed set) compared with the fleet',
      querystring: CommonalityQuery, response: { 200: CommonalityAnswer, ...Errors },
    },
  }, async (req) => commonality(req, 'querystring', req.query));

  app.post('/v1/fleet/commonality', {
    config: { permission: 'read' },
    // A read: it changes nothing, so nothing is audited. 100,000 keys are ~2 MB of JSON.
    bodyLimit: 4 << 20,
    schema: {
      tags, summary: 'Commonality of a large vehicle list (or of the alerted set, described in the body)',
      querystring: z.strictObject({ tenant: z.string().optional().describe('operator tokens: the tenant to act on') }),
      body: CommonalityBody, response: { 200: CommonalityAnswer, ...Errors },
    },
  }, async (req) => commonality(req, 'body', req.body));
}

interface CommonalityInput {
  readonly from?: number;
  readonly to?: number;
  readonly severity?: readonly Severity[];
  readonly rule?: readonly string[];
  readonly vehicles?: readonly string[];
  readonly minSupport: number;
  readonly minCount: number;
  readonly alpha: number;
  readonly limit: number;
}

function filterOf(q: { severity?: readonly Severity[]; rule?: readonly string[] }): AlertFilter {
  return { ...(q.severity?.length ? { severity: q.severity } : {}), ...(q.rule?.length ? { rule: q.rule } : {}) };
}

/** [from, to): to defaults to now, from to 30 days before to; from must come before to. */
function resolveRange(q: { from?: number; to?: number }, now: number, where: string): TimeRange {
  const to = q.to ?? now;
  const from = q.from ?? to - DEFAULT_RANGE_MS;
  if (from >= to) throw fieldError(where, '/from', `from (${new Date(from).toISOString()}) must be before to (${new Date(to).toISOString()})`);
  return { from, to };
}

function fieldError(where: string, path: string, message: string): ApiError {
  return new ApiError(400, 'ValidationError', `invalid ${where}: ${path} ${message}`, [{ in: where, path, message }]);
}
