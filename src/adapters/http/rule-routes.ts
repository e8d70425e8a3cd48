/**
 * The detections the server runs, for the console's Detections page and its ATM coverage:
 *
 *   GET /v1/rules?since=    every rule of the running pack (and each rule left out), with its
 *                           status and how many alerts it raised for the caller's tenant
 *
 * Status: `enabled`; `disabled` (the rule says `enabled: false`, or config `detection.disabled`
 * names it); `missing-signals` (the catalog lacks signals it reads). Rules that raised alerts
 * but are not YAML rules of the pack (the built-in detectors, imported alerts) are listed as
 * `builtin`. Each rule carries the UN R155 threat groups of its R155 tags (the coverage matrix's
 * other axis: the rules tag few ATM tactics). Hit counts are the tenant's stored alerts per rule (GET /v1/alerts/noise).
 * Enabling and disabling is configuration (`detection.disabled`), not an API call.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SEVERITIES } from '../../core/records.js';
import type { RuleMeta } from '../../detect/rules/plan.js';
import { threatGroupOf } from '../../report/taxonomy.js';
import type { NoiseReport } from '../../runtime/alert-service.js';
import { ErrorBody, TimeQuery, requestTenant } from './api.js';

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
}

export const RULE_STATUSES = ['enabled', 'disabled', 'missing-signals', 'builtin'] as const;

const RuleBody = z.object({
  id: z.string(), title: z.string().nullable(), severity: z.enum(SEVERITIES).nullable(), tags: z.array(z.string()),
  type: z.string().nullable(), file: z.string().nullable(), status: z.enum(RULE_STATUSES),
  threatGroups: z.array(z.string()).describe('UN R155 Annex 5 threat groups (4.3.1-4.3.7) of its R155 tags'),
  missingSignals: z.array(z.string()).optional(),
  alerts: z.number().int().describe('alerts the rule raised for the tenant (since `since`)'),
  incidents: z.number().int().describe('incidents its alerts opened'),
});

export function registerRuleRoutes(server: FastifyInstance, deps: RuleRouteDeps): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const off = new Set(deps.configDisabled);

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
  }, async (req) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const report = await deps.noise(tenant, req.query.since);
    const hits = new Map(report.rules.map((r) => [r.rule, r]));
    const count = (id: string) => ({ alerts: hits.get(id)?.alerts ?? 0, incidents: hits.get(id)?.incidents ?? 0 });
    const items: z.infer<typeof RuleBody>[] = deps.rules.map((r) => ({
      id: r.id, title: r.title, severity: r.severity, tags: [...r.tags], type: r.type, file: r.file, threatGroups: groupsOf(r.tags),
      status: r.enabled && !off.has(r.id) ? 'enabled' : 'disabled', ...count(r.id),
    }));
    const listed = new Set(items.map((i) => i.id));
    for (const id of off) {
      if (!listed.has(id)) items.push({ id, title: null, severity: null, tags: [], type: null, file: null, threatGroups: [], status: 'disabled', ...count(id) });
      listed.add(id);
    }
    for (const m of deps.missingSignals) {
      if (!listed.has(m.id)) items.push({ id: m.id, title: null, severity: null, tags: [], type: null, file: m.file, threatGroups: [], status: 'missing-signals', missingSignals: [...m.missing], ...count(m.id) });
      listed.add(m.id);
    }
    for (const r of report.rules) {
      if (!listed.has(r.rule)) items.push({ id: r.rule, title: null, severity: null, tags: [], type: null, file: null, threatGroups: [], status: 'builtin', ...count(r.rule) });
    }
    return { items };
  });
}

function groupsOf(tags: readonly string[]): string[] {
  return [...new Set(tags.map(threatGroupOf).filter((g): g is NonNullable<typeof g> => g !== undefined))].sort();
}
