/**
 * Threat intelligence over HTTP: vulnerabilities with the tenant's exposure, SBOMs, analyst VEX
 * decisions and feed imports.
 *
 *   GET  /v1/intel/vulnerabilities                    list and search (kev, severity, exposed, q; sort)   read
 *   GET  /v1/intel/vulnerabilities/{id}               one (id or alias): sources, disagreements,
 *                                                      priority and its factors, matches, decisions     read
 *   GET  /v1/intel/vulnerabilities/{id}/exposure      grouped counts and a page of exposed vehicles     read
 *   POST /v1/intel/vulnerabilities/{id}/vex           an analyst's VEX decision for a component        triage
 *   GET  /v1/vehicles/{id}/vulnerabilities            what exposes one vehicle                          read
 *   GET  /v1/intel/sboms, /v1/intel/sboms/{id}        the tenant's SBOMs                               read
 *   POST /v1/intel/sboms                              upload an SBOM (CycloneDX / SPDX JSON)           admin
 *   POST /v1/intel/import                             import feed documents                             admin (operator)
 *   GET  /v1/intel/import-runs, .../{id}/lines        import runs and their per-record report           read
 *
 * Feed content (vulnerabilities, indicators) is shared by every tenant, so only an operator
 * token (admin of every tenant) imports it; a tenant sees the runs it started. SBOMs, matches,
 * decisions and exposure are the tenant's own. Changes are audited (`intel.import`,
 * `intel.sbom`, `intel.vex`).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { OPERATOR_TENANT, type AuditLog } from '../../core/access.js';
import type { Clock } from '../../core/clock.js';
import type { IntelStore, VulnerabilityRow } from '../../intel/ports.js';
import { priority, type PriorityInput } from '../../intel/priority.js';
import type { IntelService } from '../../runtime/intel-service.js';
import { ApiError, CsvOf, ErrorBody, PageQuery, Paged, SortQuery, parseSort, principalOf, requestTenant } from './api.js';

export interface IntelRouteDeps {
  readonly store: IntelStore;
  readonly service: IntelService;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly defaultTenant: string;
}

/** Vulnerabilities a list reads before sorting by priority (which is computed, not stored). */
export const MAX_LISTED = 100_000;
/** Report lines an import answer carries (the run keeps them all). */
const MAX_LINES_IN_ANSWER = 500;

const SEVERITIES = ['NONE', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
/** Answers carry the store's readonly lists. */
const list = <T extends z.ZodType>(t: T) => z.array(t).readonly();
const Factor = z.object({ factor: z.string(), points: z.number(), max: z.number(), why: z.string() });
const Count = { vehicles: z.number().int(), affected: z.number().int(), needsReview: z.number().int() };
const Row = z.object({
  id: z.string(), title: z.string(), description: z.string().optional(), published: z.number().optional(), modified: z.number().optional(),
  cvss: z.number().nullable(), cvssVector: z.string().optional(), severity: z.enum(SEVERITIES).nullable(), epss: z.number().nullable(), epssPercentile: z.number().nullable(),
  kev: z.boolean(), knownRansomware: z.boolean(), withdrawn: z.boolean(), ...Count, ecus: list(z.string()), priority: z.number(),
});
const MatchOut = z.object({
  vulnerabilityId: z.string(), sbom: z.string(), componentRef: z.string(), componentIdentity: z.string(), result: z.string(), basis: z.string(),
  confidence: z.number(), reason: z.string(), source: z.unknown().optional(), vex: z.unknown().optional(),
});
const Decision = z.object({
  vulnerability: z.string(), componentIdentity: z.string(), status: z.string(), justification: z.string().optional(), reason: z.string(), decidedBy: z.string(), decidedAt: z.number(),
});
const ExposedVehicle = z.object({
  vehicle: z.string(), make: z.string().optional(), model: z.string().optional(), year: z.number().optional(), region: z.string().optional(),
  result: z.enum(['affected', 'needs_review']), basis: z.string(), confidence: z.number(),
  ecus: list(z.object({ ecu: z.string(), softwareVersion: z.string() })), components: list(z.string()),
});
const Exposure = z.object({
  vulnerability: z.string(), ...Count,
  byMake: list(z.object({ make: z.string().nullable(), ...Count })),
  byModel: list(z.object({ make: z.string().nullable(), model: z.string().nullable(), ...Count })),
  byYear: list(z.object({ year: z.number().nullable(), ...Count })),
  byRegion: list(z.object({ region: z.string().nullable(), ...Count })),
  bySoftware: list(z.object({ ecu: z.string(), softwareVersion: z.string(), ...Count })),
  list: Paged(ExposedVehicle),
});
const VehicleVuln = Row.omit({ vehicles: true, affected: true, needsReview: true, ecus: true }).extend({
  result: z.enum(['affected', 'needs_review']), basis: z.string(), confidence: z.number(),
  ecus: list(z.object({ ecu: z.string(), softwareVersion: z.string() })), components: list(z.string()),
});
const ReportLine = z.object({ seq: z.number().int().optional(), document: z.string(), format: z.string(), recordId: z.string(), status: z.enum(['ok', 'partial', 'rejected']), problems: list(z.string()), notes: list(z.string()).optional() });
const Run = z.object({
  id: z.string(), tenant: z.string(), actor: z.string(), startedAt: z.number(), finishedAt: z.number().optional(), sources: list(z.string()),
  documents: z.number().int(), records: z.number().int(), ok: z.number().int(), partial: z.number().int(), rejected: z.number().int(),
  vulnerabilities: z.number().int(), indicators: z.number().int(),
});
const SbomOut = z.object({
  id: z.string(), document: z.string(), format: z.string(), subject: z.string().optional(), ecu: z.string().optional(), softwareVersion: z.string().optional(),
  vehicleModel: z.string().optional(), unboundReason: z.string().optional(), components: z.number().int(), problems: list(z.string()), uploadedBy: z.string(), uploadedAt: z.number(),
});
const Document = z.strictObject({
  name: z.string().min(1).max(500).describe('where it came from: report lines name it'),
  text: z.string().max(64 << 20).optional().describe('the document as text (JSON, EPSS CSV)'),
  json: z.unknown().optional().describe('or the JSON document itself'),
});
const IdParams = z.object({ id: z.string().min(1).max(200) });

/** What priority reads, from a list row. */
function priorityInput(r: VulnerabilityRow): PriorityInput {
  return {
    cvss: r.cvssVector && r.cvss !== null ? [{ version: '3.1', vector: r.cvssVector, baseScore: r.cvss, severity: r.severity, source: { kind: 'nvd', document: '' } }] : [],
    ...(r.epss !== null ? { epss: { score: r.epss, percentile: r.epssPercentile ?? 0, source: { kind: 'epss', document: '' } } } : {}),
    ...(r.kev ? { kev: { dateAdded: '', dueDate: '', knownRansomware: r.knownRansomware, requiredAction: '', vendorProject: '', product: '', vulnerabilityName: '', source: { kind: 'kev', document: '' } } } : {}),
    ...(r.withdrawn ? { withdrawn: { source: { kind: 'nvd', document: '' } } } : {}),
    title: r.title, ...(r.description ? { description: r.description } : {}),
  };
}
const withPriority = (r: VulnerabilityRow): VulnerabilityRow & { priority: number } => ({ ...r, priority: priority(priorityInput(r), r.ecus).score });

const textOf = (d: z.infer<typeof Document>): string => {
  if (d.text !== undefined) return d.text;
  if (d.json !== undefined) return JSON.stringify(d.json);
  throw new ApiError(400, 'ValidationError', `document ${d.name}: give text or json`, [{ in: 'body', path: '/documents', message: 'text or json' }]);
};

export function registerIntelRoutes(app: FastifyInstance, deps: IntelRouteDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['intel'];
  const resolve = async (id: string): Promise<string> => {
    const found = await deps.store.resolve(id);
    if (!found) throw new ApiError(404, 'NotFound', `no vulnerability ${id}`);
    return found;
  };

  r.get('/v1/intel/vulnerabilities', {
    config: { permission: 'read' },
    schema: {
      tags, summary: "Vulnerabilities, with the tenant's exposure and priority",
      querystring: PageQuery.extend({
        kev: z.enum(['true', 'false']).optional(), severity: CsvOf(SEVERITIES).optional(), exposed: z.enum(['true', 'false']).optional(),
        q: z.string().max(200).optional().describe('words in the id, an alias, the title or the description'),
        sort: SortQuery(['priority', 'cvss', 'epss', 'exposure', 'published', 'id'], '-priority'),
      }),
      response: { 200: Paged(Row) },
    },
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const q = req.query;
    const { rows, total } = await deps.store.listVulnerabilities({
      tenant, limit: MAX_LISTED, ...(q.kev ? { kev: q.kev === 'true' } : {}), ...(q.severity ? { severity: q.severity } : {}),
      ...(q.exposed ? { exposed: q.exposed === 'true' } : {}), ...(q.q ? { text: q.q } : {}),
    });
    const { field, desc } = parseSort(q.sort);
    const key: Record<string, (x: VulnerabilityRow & { priority: number }) => number | string> = {
      priority: (x) => x.priority, cvss: (x) => x.cvss ?? -1, epss: (x) => x.epss ?? -1, exposure: (x) => x.vehicles, published: (x) => x.published ?? 0, id: (x) => x.id,
    };
    const k = key[field]!;
    const sorted = rows.map(withPriority).sort((a, b) => {
      const ka = k(a);
      const kb = k(b);
      const c = ka < kb ? -1 : ka > kb ? 1 : 0;
      return (desc ? -c : c) || a.id.localeCompare(b.id);
    });
    return { items: sorted.slice(q.offset, q.offset + q.limit), total: Math.max(total, rows.length), limit: q.limit, offset: q.offset };
  });

  r.get('/v1/intel/vulnerabilities/:id', {
    config: { permission: 'read' },
    schema: {
      tags, summary: 'One vulnerability (id or alias): the merged record with its sources and disagreements, priority, matches and decisions',
      params: IdParams, querystring: z.object({ tenant: z.string().optional(), matches: z.coerce.number().int().min(0).max(1000).default(200) }),
      response: {
        200: z.object({ summary: Row, priority: z.object({ score: z.number(), surface: z.string().nullable(), factors: list(Factor) }), vulnerability: z.record(z.string(), z.unknown()), matches: list(MatchOut), decisions: list(Decision) }),
        404: ErrorBody,
      },
    },
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const id = await resolve(req.params.id);
    const [v, [row], matches, decisions] = await Promise.all([
      deps.store.vulnerability(id), deps.store.summaries(tenant, [id]), deps.store.matches(tenant, id, { limit: req.query.matches }), deps.store.vexDecisions(tenant, id),
    ]);
    if (!v || !row) throw new ApiError(404, 'NotFound', `no vulnerability ${id}`);
    const p = priority(v, row.ecus);
    return {
      summary: { ...row, priority: p.score }, priority: { score: p.score, surface: p.surface, factors: [...p.factors] },
      vulnerability: v as unknown as Record<string, unknown>, matches, decisions: decisions.map(({ tenant: _t, ...d }) => d),
    };
  });

  r.get('/v1/intel/vulnerabilities/:id/exposure', {
    config: { permission: 'read' },
    schema: {
      tags, summary: "The tenant's vehicles exposed now: counts by make, model, year, region and ECU software, and a page of vehicles",
      params: IdParams, querystring: PageQuery.extend({ result: z.enum(['affected', 'needs_review']).optional() }),
      response: { 200: Exposure, 404: ErrorBody },
    },
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const id = await resolve(req.params.id);
    const { limit, offset, result } = req.query;
    const { list, ...e } = await deps.store.exposure(tenant, id, { limit, offset, ...(result ? { result } : {}) });
    const items = list ?? [];
    const total = result === 'affected' ? e.affected : result === 'needs_review' ? e.needsReview : e.vehicles;
    return { ...e, list: { items, total, limit, offset } };
  });

  r.post('/v1/intel/vulnerabilities/:id/vex', {
    config: { permission: 'triage' },
    schema: {
      tags, summary: "Record an analyst's VEX decision for a component (by identity: purl without qualifiers, else CPE, else name@version); matches are redone",
      params: IdParams,
      body: z.strictObject({
        componentIdentity: z.string().min(1).max(1000), status: z.enum(['not_affected', 'affected', 'fixed', 'under_investigation']),
        justification: z.enum(['component_not_present', 'vulnerable_code_not_present', 'vulnerable_code_not_in_execute_path', 'vulnerable_code_cannot_be_controlled_by_adversary', 'inline_mitigations_already_exist']).optional(),
        reason: z.string().min(1).max(4000), tenant: z.string().optional(),
      }),
      response: { 200: z.object({ decision: Decision, exposure: z.object(Count), alerts: z.number().int() }), 400: ErrorBody, 404: ErrorBody },
    },
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const id = await resolve(req.params.id);
    const p = principalOf(req);
    const b = req.body;
    const decision = {
      tenant, vulnerability: id, componentIdentity: b.componentIdentity, status: b.status, ...(b.justification ? { justification: b.justification } : {}),
      reason: b.reason, decidedBy: p.name, decidedAt: deps.clock.now(),
    };
    const { alerts } = await deps.service.decideVex(decision);
    await deps.audit.append([{ principal: p, tenant, action: 'intel.vex', targetType: 'vulnerability', targetId: id, details: { componentIdentity: b.componentIdentity, status: b.status, ...(b.justification ? { justification: b.justification } : {}), reason: b.reason } }]);
    const e = await deps.store.exposure(tenant, id);
    const { tenant: _t, ...d } = decision;
    return { decision: d, exposure: { vehicles: e.vehicles, affected: e.affected, needsReview: e.needsReview }, alerts: alerts.length };
  });

  r.get('/v1/vehicles/:id/vulnerabilities', {
    config: { permission: 'read' },
    schema: { tags, summary: 'Vulnerabilities exposing one vehicle now, with the match result, basis and confidence', params: z.object({ id: z.string().regex(/^[0-9a-f]{16}$/) }), querystring: z.object({ tenant: z.string().optional() }), response: { 200: z.object({ items: list(VehicleVuln) }), 400: ErrorBody } },
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const list = await deps.store.vehicleVulnerabilities(tenant, req.params.id);
    return { items: list.map((v) => ({ ...v, priority: priority(priorityInput({ ...v, vehicles: 1, affected: 0, needsReview: 0, ecus: [] }), v.ecus.map((e) => e.ecu)).score })) };
  });

  r.get('/v1/intel/sboms', {
    config: { permission: 'read' },
    schema: { tags, summary: "The tenant's SBOMs and what they bind to", querystring: PageQuery, response: { 200: Paged(SbomOut) } },
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const { limit, offset } = req.query;
    const all = await deps.store.sboms(tenant, { limit: MAX_LISTED });
    return { items: all.slice(offset, offset + limit).map(({ tenant: _t, ...s }) => s), total: all.length, limit, offset };
  });

  r.get('/v1/intel/sboms/:id', {
    config: { permission: 'read' },
    schema: { tags, summary: 'One SBOM with its components', params: IdParams, querystring: z.object({ tenant: z.string().optional() }), response: { 200: SbomOut.extend({ sbom: z.record(z.string(), z.unknown()) }), 404: ErrorBody } },
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const s = await deps.store.sbom(tenant, req.params.id);
    if (!s) throw new ApiError(404, 'NotFound', `no SBOM ${req.params.id} in tenant ${tenant}`);
    const [summary] = (await deps.store.sboms(tenant, { limit: 10_000 })).filter((x) => x.id === s.id);
    const { tenant: _t, ...rest } = summary!;
    return { ...rest, sbom: s.sbom as unknown as Record<string, unknown> };
  });

  r.post('/v1/intel/sboms', {
    // The tenant's asset inventory: its admin keeps it (ingest tokens only send telemetry).
    config: { permission: 'admin' },
    bodyLimit: 64 << 20,
    schema: {
      tags, summary: 'Upload an SBOM (CycloneDX 1.2-1.6 or SPDX 2.3 JSON); the binding (ECU, software version, vehicle model) wins over the document',
      body: z.strictObject({
        document: Document, tenant: z.string().optional(),
        binding: z.strictObject({ ecu: z.string().min(1).max(200).optional(), softwareVersion: z.string().min(1).max(200).optional(), vehicleModel: z.string().min(1).max(200).optional() }).optional(),
      }),
      response: { 201: z.object({ sbom: SbomOut, matches: z.number().int(), alerts: z.number().int() }), 400: ErrorBody },
    },
  }, async (req, reply) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const p = principalOf(req);
    const b = req.body;
    const res = await deps.service.importSbom({ name: b.document.name, text: textOf(b.document) }, { tenant, actor: p.name }, b.binding);
    if (!res.sbom) throw new ApiError(400, 'ValidationError', `not an SBOM: ${res.problems.join('; ')}`, [{ in: 'body', path: '/document', message: res.problems.join('; ') }]);
    const { tenant: _t, ...sbom } = res.sbom;
    await deps.audit.append([{ principal: p, tenant, action: 'intel.sbom', targetType: 'sbom', targetId: sbom.id, details: { document: sbom.document, ...(sbom.ecu ? { ecu: sbom.ecu } : {}), ...(sbom.softwareVersion ? { softwareVersion: sbom.softwareVersion } : {}), components: sbom.components } }]);
    return reply.status(201).send({ sbom, matches: res.matches, alerts: res.alerts.length });
  });

  r.post('/v1/intel/import', {
    config: { permission: 'admin' },
    bodyLimit: 256 << 20,
    schema: {
      tags, summary: 'Import feed documents (CVE 5, NVD 2.0, CSAF, OSV, KEV, EPSS, STIX, CycloneDX VEX): merged with what is stored, with a per-record report (operator tokens only: feeds are shared by every tenant)',
      body: z.strictObject({ documents: z.array(Document).min(1).max(10_000), tenant: z.string().optional() }),
      response: { 201: z.object({ run: Run, added: list(z.string()), changed: list(z.string()), alerts: z.number().int(), lines: list(ReportLine) }), 400: ErrorBody, 403: ErrorBody },
    },
  }, async (req, reply) => {
    const p = principalOf(req);
    if (p.tenant !== OPERATOR_TENANT) throw new ApiError(403, 'Forbidden', 'feeds are shared by every tenant: import them with an operator token');
    const tenant = requestTenant(req, deps.defaultTenant);
    const docs = req.body.documents.map((d) => ({ name: d.name, text: textOf(d) }));
    const res = await deps.service.importFeeds(docs, { tenant, actor: p.name });
    await deps.audit.append([{ principal: p, tenant, action: 'intel.import', targetType: 'import-run', targetId: res.run.id, details: { documents: res.run.documents, records: res.run.records, rejected: res.run.rejected, added: res.added.length, changed: res.changed.length } }]);
    const lines = res.report.filter((l) => l.status !== 'ok').slice(0, MAX_LINES_IN_ANSWER);
    return reply.status(201).send({ run: res.run, added: [...res.added], changed: [...res.changed], alerts: res.alerts.length, lines });
  });

  r.get('/v1/intel/import-runs', {
    config: { permission: 'read' },
    schema: { tags, summary: 'Feed import runs started by the tenant, newest first', querystring: PageQuery, response: { 200: Paged(Run) } },
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const { limit, offset } = req.query;
    const all = await deps.store.importRuns({ tenant, limit: MAX_LISTED });
    return { items: all.slice(offset, offset + limit), total: all.length, limit, offset };
  });

  r.get('/v1/intel/import-runs/:id/lines', {
    config: { permission: 'read' },
    schema: {
      tags, summary: 'The per-record report of an import run',
      params: IdParams, querystring: PageQuery.extend({ status: CsvOf(['ok', 'partial', 'rejected'] as const).optional() }), response: { 200: Paged(ReportLine), 404: ErrorBody },
    },
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const run = await deps.store.importRun(req.params.id);
    if (!run || run.tenant !== tenant) throw new ApiError(404, 'NotFound', `no import run ${req.params.id} in tenant ${tenant}`);
    const { limit, offset, status } = req.query;
    const items = await deps.store.importLines(run.id, { limit, offset, ...(status ? { status } : {}) });
    const total = (status ?? ['ok', 'partial', 'rejected']).reduce((n, s) => n + run[s as 'ok' | 'partial' | 'rejected'], 0);
    return { items, total, limit, offset };
  });
}
