/**
 * Tokens and the audit log over HTTP. All routes need `admin`. A tenant admin sees and manages
 * only its own tenant's tokens and audit entries; only an operator (admin of `*`) creates
 * operator tokens, sees every tenant and checks the whole chain.
 *
 *   POST   /v1/tokens            { name, role, tenant?, expiresInS? } -> 201 { token, secret }
 *   GET    /v1/tokens            ?limit=&offset=&tenant=&revoked=
 *   DELETE /v1/tokens/{id}       revoke
 *   GET    /v1/audit             ?action=&targetType=&targetId=&since=&limit=&offset=&tenant=
 *   GET    /v1/audit/verify      operator only: the chain intact, or the first broken seq
 *
 * Every change is audited (`token.create`, `token.revoke`).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { OPERATOR_TENANT, ROLES, TENANT_NAME, type ApiToken, type AuditLog, type TokenStore } from '../../core/access.js';
import type { ChainResult } from '../../core/audit-chain.js';
import type { Clock } from '../../core/clock.js';
import { ApiError, ErrorBody, PageQuery, Paged, principalOf, requestTenant, requestTenantFilter } from './api.js';

/** The audit log as these routes need it: the port plus a count for page totals and the chain check. */
export interface AuditArchive extends AuditLog {
  count(q: Omit<Parameters<AuditLog['list']>[0], 'limit' | 'offset'>): Promise<number>;
  verify(): Promise<ChainResult>;
}

export interface AccessRouteDeps {
  readonly tokens: TokenStore;
  readonly audit: AuditArchive;
  readonly clock: Clock;
  readonly defaultTenant: string;
}

/** Longest token lifetime asked for with expiresInS: ten years. */
const MAX_EXPIRES_IN_S = 10 * 365 * 86_400;

const Token = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  tenant: z.string(),
  createdAt: z.number(),
  createdBy: z.string(),
  expiresAt: z.number().optional(),
  revokedAt: z.number().optional(),
  lastUsedAt: z.number().optional(),
});

const CreateToken = z.strictObject({
  name: z.string().trim().min(1).max(200),
  role: z.enum(ROLES),
  tenant: z.string().refine((t) => t === OPERATOR_TENANT || TENANT_NAME.test(t), 'a tenant name (lowercase letters, digits, - and _) or * for an operator token').optional()
    .describe('the tenant the token belongs to (default: the tenant the request acts on); * only for operators'),
  expiresInS: z.number().int().min(60).max(MAX_EXPIRES_IN_S).optional().describe('lifetime in seconds (default: no expiry)'),
});

const AuditEntry = z.object({
  seq: z.number().int(),
  time: z.number(),
  tenant: z.string(),
  actor: z.string(),
  actorName: z.string(),
  action: z.string(),
  targetType: z.string(),
  targetId: z.string(),
  details: z.record(z.string(), z.unknown()),
  prevHash: z.string(),
  hash: z.string(),
});

const AuditQuery = PageQuery.extend({
  action: z.string().min(1).max(100).optional(),
  targetType: z.string().min(1).max(100).optional(),
  targetId: z.string().min(1).max(200).optional(),
  since: z.coerce.number().int().min(0).optional().describe('epoch ms: entries at or after'),
});

const ChainBody = z.object({ ok: z.boolean(), entries: z.number().int(), lastHash: z.string().optional(), seq: z.number().int().optional(), reason: z.string().optional() });

const isOperator = (req: FastifyRequest): boolean => principalOf(req).tenant === OPERATOR_TENANT;

export function registerAccessRoutes(app: FastifyInstance, deps: AccessRouteDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['access'];

  /** A token the caller may see: any for an operator, its own tenant's for a tenant admin; else 404 (not 403: ids of other tenants are not confirmed). */
  const visible = async (req: FastifyRequest, id: string): Promise<ApiToken> => {
    const t = await deps.tokens.get(id);
    if (!t || (!isOperator(req) && t.tenant !== principalOf(req).tenant)) throw new ApiError(404, 'NotFound', `no token ${id}`);
    return t;
  };

  r.post('/v1/tokens', {
    config: { permission: 'admin' },
    schema: { tags, summary: 'Create an API token (the secret is shown once)', body: CreateToken, response: { 201: z.object({ token: Token, secret: z.string() }), 400: ErrorBody, 403: ErrorBody } },
  }, async (req, reply) => {
    const p = principalOf(req);
    const tenant = req.body.tenant ?? requestTenant(req, deps.defaultTenant);
    if (p.tenant !== OPERATOR_TENANT) {
      // Also refuses ?tenant= naming another tenant, through requestTenant.
      const own = requestTenant(req, deps.defaultTenant);
      if (tenant !== own) throw new ApiError(403, 'Forbidden', `this token belongs to tenant ${p.tenant} and may create tokens only for it`);
    }
    const now = deps.clock.now();
    const { token, secret } = await deps.tokens.create({
      name: req.body.name, role: req.body.role, tenant, createdBy: p.tokenId,
      ...(req.body.expiresInS !== undefined ? { expiresAt: Math.floor(now) + req.body.expiresInS * 1000 } : {}),
    });
    await deps.audit.append([{ principal: p, tenant, action: 'token.create', targetType: 'token', targetId: token.id, details: { name: token.name, role: token.role, tenant: token.tenant, ...(token.expiresAt !== undefined ? { expiresAt: token.expiresAt } : {}) } }]);
    return reply.status(201).send({ token, secret });
  });

  r.get('/v1/tokens', {
    config: { permission: 'admin' },
    schema: { tags, summary: 'List API tokens (never their secrets)', querystring: PageQuery.extend({ revoked: z.enum(['true', 'false']).optional().describe('only revoked (true) or only not revoked (false)') }), response: { 200: Paged(Token) } },
  }, async (req) => {
    const tenant = requestTenantFilter(req);
    let items = await deps.tokens.list(tenant === undefined ? {} : { tenant });
    if (req.query.revoked !== undefined) items = items.filter((t) => (t.revokedAt !== undefined) === (req.query.revoked === 'true'));
    const { limit, offset } = req.query;
    return { items: items.slice(offset, offset + limit), total: items.length, limit, offset };
  });

  r.delete('/v1/tokens/:id', {
    config: { permission: 'admin' },
    schema: { tags, summary: 'Revoke an API token', params: z.object({ id: z.string().min(1).max(100) }), querystring: z.object({ tenant: z.string().optional() }), response: { 200: z.object({ token: Token, revoked: z.boolean() }), 404: ErrorBody } },
  }, async (req) => {
    const p = principalOf(req);
    if (p.tenant !== OPERATOR_TENANT) requestTenant(req, deps.defaultTenant);
    const t = await visible(req, req.params.id);
    const at = Math.floor(deps.clock.now());
    const revoked = await deps.tokens.revoke(t.id, at);
    if (revoked) await deps.audit.append([{ principal: p, tenant: t.tenant, action: 'token.revoke', targetType: 'token', targetId: t.id, details: { name: t.name, role: t.role, tenant: t.tenant } }]);
    return { token: (await deps.tokens.get(t.id)) ?? t, revoked };
  });

  r.get('/v1/audit', {
    config: { permission: 'admin' },
    schema: { tags, summary: 'The audit log, newest first', querystring: AuditQuery, response: { 200: Paged(AuditEntry) } },
  }, async (req) => {
    const tenant = requestTenantFilter(req);
    const { limit, offset, action, targetType, targetId, since } = req.query;
    const q = { ...(tenant !== undefined ? { tenant } : {}), ...(action ? { action } : {}), ...(targetType ? { targetType } : {}), ...(targetId ? { targetId } : {}), ...(since !== undefined ? { since } : {}) };
    const [items, total] = await Promise.all([deps.audit.list({ ...q, limit, offset }), deps.audit.count(q)]);
    return { items, total, limit, offset };
  });

  r.get('/v1/audit/verify', {
    config: { permission: 'admin' },
    schema: { tags, summary: 'Check the hash chain of the whole audit log (operators only)', response: { 200: ChainBody, 403: ErrorBody } },
  }, async (req) => {
    if (!isOperator(req)) throw new ApiError(403, 'Forbidden', 'only an operator token (tenant *) may check the whole audit log');
    return deps.audit.verify();
  });
}
