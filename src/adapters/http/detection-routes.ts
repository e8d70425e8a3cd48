/**
 * Detections made from templates (src/intel/templates), over HTTP.
 *
 *   GET    /v1/detections/templates              the templates, with their parameters           read
 *   POST   /v1/detections/templates/suggest      {vulnerability} -> templates that fit, with why read
 *   GET    /v1/intel/vulnerabilities/{id}/templates  the same for a vulnerability of the intel store (id or alias)  read
 *          (registered when `vulnerabilities` is given; startVigil gives the DuckDB intel store)
 *   POST   /v1/detections                        {template, params, vulnerability | vulnerabilityId, id?, dryRun?}
 *                                                -> the rule YAML and its test results           triage
 *   GET    /v1/detections/custom                 the tenant's detections                         read
 *   PATCH  /v1/detections/custom/{id}            {enabled}                                       triage
 *   DELETE /v1/detections/custom/{id}                                                            triage
 *
 * Creating is `triage`, the permission analysts hold: a detection from a template is the
 * analyst's answer to a vulnerability, like tuning a rule in a verdict (also `triage`); it runs
 * for the caller's tenant only, is accepted only after it compiles and passes its own tests, and
 * every change is audited (`detection.create`, `detection.enable`, `detection.disable`,
 * `detection.delete`). A bad parameter is a 400 naming the field (`/params/window`).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditLog } from '../../core/access.js';
import type { SignalCatalog } from '../../core/catalog.js';
import type { Clock } from '../../core/clock.js';
import type { CustomRule } from '../../detect/rules/custom.js';
import { newVulnerability, type Vulnerability } from '../../intel/model.js';
import { checkDetection, renderDetection, suggestTemplates, type DetectionTemplate } from '../../intel/templates/index.js';
import type { CustomDetection, CustomDetectionStore } from '../../intel/templates/ports.js';
import { ApiError, ErrorBody, PageQuery, Paged, principalOf, requestTenant, type FieldError } from './api.js';

/** What the routes need of the running pipeline (Pipeline.checkCustomDetection and friends). */
export interface CustomDetectionRuntime {
  check(rule: CustomRule): string[];
  add(rule: CustomRule): void;
  remove(tenant: string, id: string): boolean;
}

export interface DetectionRouteDeps {
  readonly templates: readonly DetectionTemplate[];
  readonly store: CustomDetectionStore;
  readonly runtime: CustomDetectionRuntime;
  readonly catalog: SignalCatalog;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly defaultTenant: string;
  /** The intel store's vulnerability lookup; without it, requests carry the vulnerability itself. */
  readonly vulnerabilities?: { vulnerability(id: string): Promise<Vulnerability | undefined> };
}

const ref = z.object({ kind: z.string(), document: z.string() }).passthrough();
/** A Vulnerability as src/intel/model.ts has it; only `id` is required, unknown keys are ignored. */
export const VulnerabilityBody = z.object({
  id: z.string().min(1).max(200),
  aliases: z.array(z.string().max(200)).max(100).optional(),
  title: z.string().max(2000).optional(),
  description: z.string().max(100_000).optional(),
  descriptions: z.array(z.object({ text: z.string().max(100_000), source: ref.optional() })).max(50).optional(),
  cwes: z.array(z.union([z.string(), z.object({ cwe: z.string() }).passthrough()])).max(100).optional().describe('CWE ids, as strings or {cwe}'),
  cvss: z.array(z.union([z.string(), z.object({ vector: z.string() }).passthrough()])).max(50).optional().describe('CVSS vectors, as strings or {vector}'),
  affected: z.array(z.object({ vendor: z.string().optional(), product: z.string().optional(), cpe: z.string().optional(), purl: z.string().optional(), packageName: z.string().optional() }).passthrough()).max(1000).optional(),
  references: z.array(z.union([z.string(), z.object({ url: z.string() }).passthrough()])).max(500).optional(),
}).describe('a vulnerability (the intel model: id, description, cwes, cvss, affected, references)');
type VulnerabilityInput = z.infer<typeof VulnerabilityBody>;

const API_REF = { kind: 'cve5-cna' as const, document: 'api' };
/** The request's vulnerability as the model (only what suggestions and rendering read). */
export function toVulnerability(b: VulnerabilityInput): Vulnerability {
  const v = newVulnerability(b.id, [], b.aliases ?? []);
  return {
    ...v,
    ...(b.title !== undefined ? { title: b.title } : {}),
    ...(b.description !== undefined ? { description: b.description } : {}),
    ...(b.descriptions ? { descriptions: b.descriptions.map((d) => ({ text: d.text, source: API_REF })) } : {}),
    cwes: (b.cwes ?? []).map((c) => ({ cwe: typeof c === 'string' ? c : c.cwe, source: API_REF })),
    cvss: (b.cvss ?? []).map((c) => ({ version: '3.1' as const, vector: typeof c === 'string' ? c : c.vector, baseScore: null, severity: null, source: API_REF })),
    affected: (b.affected ?? []).map((a) => ({ basis: 'cve5-product' as const, source: API_REF, ...pick(a), versions: [], ranges: [] })),
    references: (b.references ?? []).map((r) => ({ url: typeof r === 'string' ? r : r.url })),
  };
}
const pick = (a: { vendor?: string; product?: string; cpe?: string; purl?: string; packageName?: string }) =>
  Object.fromEntries(Object.entries({ vendor: a.vendor, product: a.product, cpe: a.cpe, purl: a.purl, packageName: a.packageName }).filter(([, x]) => x !== undefined));

const Param = z.object({ type: z.string(), description: z.string(), default: z.unknown() }).passthrough();
const Template = z.object({
  id: z.string(), title: z.string(), description: z.string(),
  fits: z.object({ cwes: z.array(z.string()), attackVectors: z.array(z.string()), keywords: z.array(z.string()), components: z.array(z.string()) }),
  tags: z.array(z.string()), params: z.record(z.string(), Param),
});
const Suggestion = z.object({ template: z.string(), title: z.string(), score: z.number(), reasons: z.array(z.string()).readonly(), summary: z.string() });
const Suggestions = z.object({ vulnerability: z.string(), items: z.array(Suggestion) });
const TestResult = z.object({ name: z.string(), expect: z.enum(['alert', 'none']), ok: z.boolean(), alerts: z.number().int(), reason: z.string().optional() });
const Detection = z.object({
  tenant: z.string(), id: z.string(), yaml: z.string(), template: z.string(), vulnerability: z.string().optional(),
  enabled: z.boolean(), createdBy: z.string(), createdAt: z.number(),
});

const CreateDetection = z.strictObject({
  template: z.string().min(1).max(64),
  params: z.record(z.string(), z.unknown()).default({}).describe('parameter values; missing ones take the template default'),
  vulnerability: VulnerabilityBody.optional(),
  vulnerabilityId: z.string().min(1).max(200).optional().describe('a vulnerability of the intel store (when it is wired in)'),
  id: z.string().regex(/^[a-z0-9][a-z0-9_.-]{2,127}$/).optional().describe('the rule id (default custom.<template>.<vulnerability>)'),
  enabled: z.boolean().default(true),
  dryRun: z.boolean().default(false).describe('render and test only: nothing is stored or run'),
});
const Created = z.object({
  id: z.string(), yaml: z.string(), tests: z.array(TestResult), stored: z.boolean(), running: z.boolean(),
  params: z.record(z.string(), z.unknown()),
});

const fieldError = (path: string, message: string): FieldError => ({ in: 'body', path, message });
const invalid = (fields: FieldError[]): ApiError => new ApiError(400, 'ValidationError', `invalid body: ${fields.map((f) => `${f.path} ${f.message}`).join('; ')}`, fields);

export function registerDetectionRoutes(app: FastifyInstance, deps: DetectionRouteDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['detections'];
  const byId = new Map(deps.templates.map((t) => [t.id, t]));

  const lookup = async (id: string): Promise<Vulnerability> => {
    const v = deps.vulnerabilities ? await deps.vulnerabilities.vulnerability(id) : undefined;
    if (!v) throw new ApiError(404, 'NotFound', deps.vulnerabilities ? `no vulnerability ${id}` : `no intel store on this server: send the vulnerability itself`);
    return v;
  };

  r.get('/v1/detections/templates', {
    config: { permission: 'read' },
    schema: { tags, summary: 'Detection templates: exploit behaviours, what they fit, their parameters', response: { 200: z.object({ items: z.array(Template) }) } },
  }, async () => ({ items: deps.templates.map(({ rule: _rule, ...t }) => t) }));

  r.post('/v1/detections/templates/suggest', {
    config: { permission: 'read' },
    schema: { tags, summary: 'Templates that fit a vulnerability, best first, with the reasons', body: z.strictObject({ vulnerability: VulnerabilityBody }), response: { 200: Suggestions, 400: ErrorBody } },
  }, async (req) => {
    const v = toVulnerability(req.body.vulnerability);
    return { vulnerability: v.id, items: suggestTemplates(deps.templates, v) };
  });

  if (deps.vulnerabilities) {
    r.get('/v1/intel/vulnerabilities/:id/templates', {
      config: { permission: 'read' },
      schema: { tags, summary: 'Templates that fit a stored vulnerability, best first, with the reasons', params: z.object({ id: z.string().min(1).max(200) }), response: { 200: Suggestions, 404: ErrorBody } },
    }, async (req) => {
      const v = await lookup(req.params.id);
      return { vulnerability: v.id, items: suggestTemplates(deps.templates, v) };
    });
  }

  r.post('/v1/detections', {
    config: { permission: 'triage' },
    schema: { tags, summary: 'Create a detection from a template for a vulnerability (validated: compiled and its tests run)', body: CreateDetection, response: { 200: Created, 201: Created, 400: ErrorBody, 404: ErrorBody } },
  }, async (req, reply) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const b = req.body;
    const template = byId.get(b.template);
    if (!template) throw invalid([fieldError('/template', `no template ${b.template} (${[...byId.keys()].join(', ')})`)]);
    if (!b.vulnerability === !b.vulnerabilityId) throw invalid([fieldError('/vulnerability', 'give the vulnerability or a vulnerabilityId, one of them')]);
    const v = b.vulnerability ? toVulnerability(b.vulnerability) : await lookup(b.vulnerabilityId!);
    const rendered = renderDetection(template, b.params, v, b.id ? { id: b.id } : {});
    if (!rendered.ok) throw invalid(rendered.problems.map((p) => fieldError(`/${p.field.replace(/\./g, '/')}`, p.message)));
    const check = checkDetection(rendered.yaml, deps.catalog);
    const rule: CustomRule = { tenant, id: rendered.id, yaml: rendered.yaml };
    const problems = check.problems.length ? [...check.problems] : deps.runtime.check(rule);
    if (problems.length) throw invalid(problems.map((p) => fieldError('/params', p)));
    const base = { id: rendered.id, yaml: rendered.yaml, tests: [...check.tests], params: rendered.params };
    if (b.dryRun) return reply.status(200).send({ ...base, stored: false, running: false });
    const p = principalOf(req);
    const d: CustomDetection = {
      tenant, id: rendered.id, yaml: rendered.yaml, template: template.id, vulnerability: v.id, enabled: b.enabled, createdBy: p.tokenId, createdAt: Math.floor(deps.clock.now()),
    };
    await deps.store.save(d);
    if (b.enabled) deps.runtime.add(rule);
    else deps.runtime.remove(tenant, rule.id);
    await deps.audit.append([{ principal: p, tenant, action: 'detection.create', targetType: 'detection', targetId: d.id, details: { template: d.template, vulnerability: v.id, params: rendered.params, enabled: b.enabled } }]);
    return reply.status(201).send({ ...base, stored: true, running: b.enabled });
  });

  r.get('/v1/detections/custom', {
    config: { permission: 'read' },
    schema: { tags, summary: "The tenant's detections made from templates", querystring: PageQuery.extend({ enabled: z.enum(['true', 'false']).optional() }), response: { 200: Paged(Detection) } },
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const { limit, offset } = req.query;
    const enabled = req.query.enabled === undefined ? {} : { enabled: req.query.enabled === 'true' };
    const [items, total] = await Promise.all([deps.store.list({ tenant, ...enabled, limit, offset }), deps.store.count({ tenant, ...enabled })]);
    return { items, total, limit, offset };
  });

  const IdParams = z.object({ id: z.string().min(1).max(128) });
  r.patch('/v1/detections/custom/:id', {
    config: { permission: 'triage' },
    schema: { tags, summary: 'Enable or disable a detection (takes effect in the running lanes)', params: IdParams, body: z.strictObject({ enabled: z.boolean() }), response: { 200: Detection, 400: ErrorBody, 404: ErrorBody } },
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const d = await deps.store.get(tenant, req.params.id);
    if (!d) throw new ApiError(404, 'NotFound', `no detection ${req.params.id} in tenant ${tenant}`);
    const { enabled } = req.body;
    if (enabled) {
      const rule = { tenant, id: d.id, yaml: d.yaml };
      const problems = deps.runtime.check(rule);
      if (problems.length) throw invalid(problems.map((p) => fieldError('/enabled', `cannot run: ${p}`)));
      deps.runtime.add(rule);
    } else deps.runtime.remove(tenant, d.id);
    await deps.store.setEnabled(tenant, d.id, enabled);
    await deps.audit.append([{ principal: principalOf(req), tenant, action: enabled ? 'detection.enable' : 'detection.disable', targetType: 'detection', targetId: d.id, details: { was: d.enabled } }]);
    return { ...d, enabled };
  });

  r.delete('/v1/detections/custom/:id', {
    config: { permission: 'triage' },
    schema: { tags, summary: 'Delete a detection (it stops running)', params: IdParams, response: { 200: z.object({ deleted: z.boolean() }), 404: ErrorBody } },
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const d = await deps.store.get(tenant, req.params.id);
    if (!d) throw new ApiError(404, 'NotFound', `no detection ${req.params.id} in tenant ${tenant}`);
    deps.runtime.remove(tenant, d.id);
    const deleted = await deps.store.delete(tenant, d.id);
    await deps.audit.append([{ principal: principalOf(req), tenant, action: 'detection.delete', targetType: 'detection', targetId: d.id, details: { template: d.template, ...(d.vulnerability ? { vulnerability: d.vulnerability } : {}) } }]);
    return { deleted };
  });
}
