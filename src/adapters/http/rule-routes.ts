/**
 * The detections the server runs, for the console's Detections page and its ATM coverage:
 *
 *   GET   /v1/rules?since=  every rule of the running pack (and each rule left out), with its
 *                           status and how many alerts it raised for the caller's tenant   read
 *   PATCH /v1/rules/{id}    {enabled, reason?}: switch a rule of the pack on or off for the
 *                           caller's tenant, from the next hand-over on                     admin
 *
 * Status: `enabled`; `disabled` (the rule says `enabled: false`, config `detection.disabled`
 * names it, or the tenant switched it off); `missing-signals` (the catalog lacks signals it reads). Rules that raised alerts
 * but are not YAML rules of the pack (the built-in detectors, imported alerts) are listed as
 * `builtin`. Each rule carries the UN R155 threat groups of its R155 tags (the coverage matrix's
 * other axis: the rules tag few ATM tactics). Hit counts are the tenant's stored alerts per rule (GET /v1/alerts/noise).
 *
 * Switching a rule for a tenant (src/runtime/rule-switches.ts) is stored with the tenant's rule
 * tuning (`enabled` beside the tuned parameters, so a restart keeps it and a later verdict's
 * tuning does not undo it) and audited (`rule.enable`, `rule.disable`). Only rules the pack runs
 * are switchable (`switchable`): one the config or the pack's YAML disables, or whose signals
 * are missing, is off for every tenant, and stays configuration. Permission `admin`: it silences
 * a detection for the whole tenant, unlike a verdict's suppression or tuning (`triage`).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SEVERITIES } from '../../core/records.js';
import type { RuleMeta } from '../../detect/rules/plan.js';
import { threatGroupOf } from '../../report/taxonomy.js';
import type { NoiseReport } from '../../runtime/alert-service.js';
import type { AuditLog } from '../../core/access.js';
import type { Clock } from '../../core/clock.js';
import { NotFoundError } from '../../core/errors.js';
import type { WorkflowStore } from '../../alerts/ports.js';
import type { RuleTuner } from './incident-routes.js';
import { ENABLED_PARAM } from '../../runtime/rule-switches.js';
import { ApiError, ErrorBody, TimeQuery, principalOf, requestTenant } from './api.js';

/** A rule of the running pack, as the route shows it. */
export type RuleInfo = Pick<RuleMeta, 'id' | 'title' | 'severity' | 'tags' | 'type' | 'file'> & { readonly enabled: boolean };

export interface RuleRouteDeps {
  /** The compiled rules of the running pack (enabled or not). */
  readonly rules: readonly RuleInfo[];
  /** Rules config `detection.disabled` left out. */
  readonly configDisabled: readonly string[];
  /** Rules left out because the catalog lacks signals they read. */
  readonly missingSignals: readonly { id: string; file: string; missing: readonly string[] }[];
  readonly noise: (tenant: string, since?: number) => Promise<NoiseReport>;
  readonly defaultTenant: string;
  /**
   * Switching rules per tenant (PATCH /v1/rules/{id}); without it the route is not registered.
   * `tuner` checks and applies the tuning (Pipeline.checkRuleTuning / tuneRule), `off` says which
   * rules are switched off for a tenant (Pipeline.rulesOffFor).
   */
  readonly switching?: {
    readonly workflow: Pick<WorkflowStore, 'listTuning' | 'saveTuning'>;
    readonly tuner: RuleTuner;
    readonly off: (tenant: string) => readonly string[];
    readonly audit: AuditLog;
    readonly clock: Clock;
  };
}

export const RULE_STATUSES = ['enabled', 'disabled', 'missing-signals', 'builtin'] as const;

const RuleBody = z.object({
  id: z.string(), title: z.string().nullable(), severity: z.enum(SEVERITIES).nullable(), tags: z.array(z.string()),
  type: z.string().nullable(), file: z.string().nullable(), status: z.enum(RULE_STATUSES),
  threatGroups: z.array(z.string()).describe('UN R155 Annex 5 threat groups (4.3.1-4.3.7) of its R155 tags'),
  missingSignals: z.array(z.string()).optional(),
  switchable: z.boolean().describe('the tenant may switch it on or off (PATCH /v1/rules/{id}); false for rules off in the config or pack'),
  alerts: z.number().int().describe('alerts the rule raised for the tenant (since `since`)'),
  incidents: z.number().int().describe('incidents its alerts opened'),
});

export function registerRuleRoutes(server: FastifyInstance, deps: RuleRouteDeps): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const off = new Set(deps.configDisabled);
  const running = new Set(deps.rules.filter((r) => r.enabled && !off.has(r.id)).map((r) => r.id));

  const list = async (tenant: string, since?: number): Promise<z.infer<typeof RuleBody>[]> => {
    const report = await deps.noise(tenant, since);
    const hits = new Map(report.rules.map((r) => [r.rule, r]));
    const tenantOff = new Set(deps.switching?.off(tenant) ?? []);
    const count = (id: string) => ({ alerts: hits.get(id)?.alerts ?? 0, incidents: hits.get(id)?.incidents ?? 0 });
    const items: z.infer<typeof RuleBody>[] = deps.rules.map((r) => ({
      id: r.id, title: r.title, severity: r.severity, tags: [...r.tags], type: r.type, file: r.file, threatGroups: groupsOf(r.tags),
      status: running.has(r.id) && !tenantOff.has(r.id) ? 'enabled' : 'disabled', switchable: !!deps.switching && running.has(r.id), ...count(r.id),
    }));
    const listed = new Set(items.map((i) => i.id));
    const bare = { title: null, severity: null, tags: [], type: null, threatGroups: [], switchable: false };
    for (const id of off) {
      if (!listed.has(id)) items.push({ id, ...bare, file: null, status: 'disabled', ...count(id) });
      listed.add(id);
    }
    for (const m of deps.missingSignals) {
      if (!listed.has(m.id)) items.push({ id: m.id, ...bare, file: m.file, status: 'missing-signals', missingSignals: [...m.missing], ...count(m.id) });
      listed.add(m.id);
    }
    for (const r of report.rules) {
      if (!listed.has(r.rule)) items.push({ id: r.rule, ...bare, file: null, status: 'builtin', ...count(r.rule) });
    }
    return items;
  };

  app.get('/v1/rules', {
    config: { permission: 'read' },
    schema: {
      tags: ['rules'], summary: 'Detection rules with their status and alert counts for the tenant',
      querystring: z.object({
        tenant: z.string().optional().describe('operator tokens: the tenant to act on'),
        since: TimeQuery.optional().describe('count alerts decided at or after: epoch ms or ISO 8601'),
      }),
      response: { 200: z.object({ items: z.array(RuleBody) }), 400: ErrorBody },
    },
  }, async (req) => ({ items: await list(requestTenant(req, deps.defaultTenant), req.query.since) }));

  const sw = deps.switching;
  if (!sw) return;
  app.patch('/v1/rules/:id', {
    config: { permission: 'admin' },
    schema: {
      tags: ['rules'], summary: "Switch a rule of the pack on or off for the tenant (takes effect in the running lanes; kept with the tenant's rule tuning)",
      params: z.object({ id: z.string().min(1).max(200) }),
      querystring: z.object({ tenant: z.string().optional().describe('operator tokens: the tenant to act on') }),
      body: z.strictObject({ enabled: z.boolean(), reason: z.string().trim().min(1).max(2000).optional() }),
      response: { 200: RuleBody, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
    },
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const { id } = req.params;
    const { enabled } = req.body;
    if (!deps.rules.some((r) => r.id === id)) throw new NotFoundError(`no rule ${id} in the running pack`);
    if (!running.has(id)) throw new ApiError(409, 'Conflict', `rule ${id} is off for every tenant (${off.has(id) ? 'config detection.disabled' : 'enabled: false in the pack'}): that is configuration, not a switch`);
    const previous = (await sw.workflow.listTuning(tenant)).find((t) => t.rule === id);
    const was = previous?.params[ENABLED_PARAM] !== false;
    const params = { ...previous?.params, [ENABLED_PARAM]: enabled };
    const problems = sw.tuner.check(id, params);
    if (problems.length) throw new ApiError(400, 'ValidationError', `cannot switch rule ${id}: ${problems.join('; ')}`);
    const who = principalOf(req);
    const reason = req.body.reason ?? `${enabled ? 'enabled' : 'disabled'} by ${who.name}`;
    await sw.workflow.saveTuning({ tenant, rule: id, params, reason, createdBy: who.tokenId, createdAt: Math.floor(sw.clock.now()) });
    await sw.tuner.apply(tenant, id, params);
    await sw.audit.append([{ principal: who, tenant, action: enabled ? 'rule.enable' : 'rule.disable', targetType: 'rule', targetId: id, details: { was: was ? 'enabled' : 'disabled', reason } }]);
    return (await list(tenant)).find((r) => r.id === id)!;
  });
}

function groupsOf(tags: readonly string[]): string[] {
  return [...new Set(tags.map(threatGroupOf).filter((g): g is NonNullable<typeof g> => g !== undefined))].sort();
}
