/**
 * The analyst API's framework: zod schemas that both validate requests and generate the
 * OpenAPI 3.1 document (`GET /openapi.json`), bearer-token authentication, role permissions,
 * tenant scoping, and the shared shapes of pages and errors.
 *
 * Every route under `/v1` declares the permission it needs in its route config
 * (`config: { permission: 'read' }`); registering a `/v1` route without one fails at start-up,
 * so no route can be left open by accident. `public` routes (health, metrics, the OpenAPI
 * document) need no token.
 *
 *   app.withTypeProvider<ZodTypeProvider>().get('/v1/things', {
 *     config: { permission: 'read' },
 *     schema: { querystring: PageQuery, response: { 200: Paged(Thing) } },
 *   }, async (req) => { const tenant = requestTenant(req); ... });
 */
import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { allows, OPERATOR_TENANT, TENANT_NAME, type Permission, type Principal, type TokenStore } from '../../core/access.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What a caller's role must grant to use the route; `public` needs no token. */
    permission?: Permission | 'public';
  }
  interface FastifyRequest {
    /** Who is calling; set by the auth hook on every `/v1` route that is not public. */
    principal?: Principal;
  }
}

/** Header naming the tenant an operator token acts on (the `?tenant=` query parameter wins). */
export const TENANT_HEADER = 'x-vigil-tenant';

export interface AuthOptions {
  /** Off: every request acts as the local operator (admin of `*`). For a loopback-only dev server. */
  readonly enabled: boolean;
  readonly tokens?: TokenStore;
  /** The tenant an operator acts on when a request names none. */
  readonly defaultTenant: string;
  readonly now: () => number;
}

/** The principal of every request when authentication is off. */
export const LOCAL_OPERATOR: Principal = { tokenId: 'local', name: 'local operator', role: 'admin', tenant: OPERATOR_TENANT };

/** An HTTP answer other than 2xx that a hook or handler sends on purpose. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: readonly FieldError[],
  ) {
    super(message);
  }
}

export interface FieldError {
  /** Where: `body`, `querystring`, `params` or `headers`. */
  readonly in: string;
  /** JSON pointer into that part, e.g. `/limit` or `/steps/0/action`. */
  readonly path: string;
  readonly message: string;
}

/**
 * Prepares `app` for the API: zod validation and serialization, the OpenAPI document at
 * `/openapi.json`, and the auth hook. Call (and await) before registering any route.
 */
export async function registerApiFramework(app: FastifyInstance, auth: AuthOptions, info: { version: string }): Promise<void> {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Vigil API', version: info.version, description: 'Vigil vehicle security operations center: ingest, vehicles, alerts, incidents, response, fleet views.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API token (`vigil token create`)' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    hideUntagged: false,
  });
  app.addHook('onRoute', (route) => {
    const url = route.url;
    if (!url.startsWith('/v1/') && url !== '/v1') return;
    if (route.config?.permission === undefined) throw new Error(`route ${String(route.method)} ${url} declares no permission (config.permission)`);
  });
  app.addHook('onRequest', async (req) => {
    const permission = req.routeOptions.config?.permission;
    if (permission === undefined || permission === 'public') return;
    req.principal = await authenticate(req, auth);
    if (!allows(req.principal.role, permission)) {
      throw new ApiError(403, 'Forbidden', `role ${req.principal.role} may not ${permission} (${req.method} ${req.routeOptions.url ?? req.url.split('?')[0]})`);
    }
  });
  app.get('/openapi.json', { config: { permission: 'public' }, schema: { hide: true } }, async () => app.swagger());
}

async function authenticate(req: FastifyRequest, auth: AuthOptions): Promise<Principal> {
  if (!auth.enabled) return LOCAL_OPERATOR;
  const header = req.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!m) throw new ApiError(401, 'Unauthorized', 'an API token is required: Authorization: Bearer <token>');
  const token = auth.tokens ? await auth.tokens.verify(m[1]!, auth.now()) : undefined;
  if (!token) throw new ApiError(401, 'Unauthorized', 'the API token is unknown, revoked or expired');
  return { tokenId: token.id, name: token.name, role: token.role, tenant: token.tenant };
}

/**
 * The tenant a request acts on. A tenant token acts on its own tenant only: naming another
 * (query or header) is refused with 403. An operator token acts on the tenant it names, else
 * the default tenant.
 */
export function requestTenant(req: FastifyRequest, defaultTenant: string): string {
  const p = req.principal;
  if (!p) throw new Error('requestTenant on a route without authentication');
  const named = namedTenant(req);
  if (p.tenant !== OPERATOR_TENANT) {
    if (named !== undefined && named !== p.tenant) throw new ApiError(403, 'Forbidden', `this token belongs to tenant ${p.tenant} and may not act on tenant ${named}`);
    return p.tenant;
  }
  const tenant = named ?? defaultTenant;
  if (!TENANT_NAME.test(tenant)) throw new ApiError(400, 'InvalidTenant', `tenant ${JSON.stringify(tenant.slice(0, 80))} must be lowercase letters, digits, - and _ (max 63)`);
  return tenant;
}

/** An operator's tenant filter: undefined (all tenants) unless the request names one; a tenant token's own tenant. */
export function requestTenantFilter(req: FastifyRequest): string | undefined {
  const p = req.principal;
  if (!p) throw new Error('requestTenantFilter on a route without authentication');
  if (p.tenant !== OPERATOR_TENANT) return requestTenant(req, p.tenant);
  const named = namedTenant(req);
  if (named !== undefined && !TENANT_NAME.test(named)) throw new ApiError(400, 'InvalidTenant', `tenant ${JSON.stringify(named.slice(0, 80))} must be lowercase letters, digits, - and _ (max 63)`);
  return named;
}

function namedTenant(req: FastifyRequest): string | undefined {
  const q = (req.query as Record<string, unknown> | undefined)?.['tenant'];
  const h = req.headers[TENANT_HEADER];
  const fromQuery = typeof q === 'string' && q !== '' ? q : undefined;
  const fromHeader = typeof h === 'string' && h !== '' ? h : undefined;
  if (fromQuery !== undefined && fromHeader !== undefined && fromQuery !== fromHeader) {
    throw new ApiError(400, 'TenantConflict', `?tenant=${fromQuery} and ${TENANT_HEADER}: ${fromHeader} disagree`);
  }
  return fromQuery ?? fromHeader;
}

/** The principal of an authenticated route (set by the auth hook). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new Error('principalOf on a route without authentication');
  return req.principal;
}

/** Epoch ms whose microseconds the store keeps exactly (about the years 1684 to 2255). */
const MAX_ABS_TIME_MS = Math.floor(Number.MAX_SAFE_INTEGER / 1000);
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/;
/** How a time may be written in a query or body. */
export const TIME_HELP = 'ISO 8601 with a zone (2026-11-01T00:00:00Z), a date (UTC midnight) or epoch ms';

/** An ISO 8601 time with a zone, a date (UTC midnight) or epoch ms, as epoch ms; undefined when it is none. */
export function parseTime(s: string | number): number | undefined {
  const ms = typeof s === 'number' ? s : /^-?\d{1,16}$/.test(s) ? Number(s) : ISO_TIME.test(s) ? Date.parse(s) : Number.NaN;
  return Number.isFinite(ms) && Number.isInteger(ms) && Math.abs(ms) <= MAX_ABS_TIME_MS ? ms : undefined;
}

/** A time in a query string or body (see TIME_HELP), as epoch ms; anything else is a field error. */
export const TimeQuery = z.union([z.string(), z.number()]).describe(TIME_HELP).transform((s, ctx) => {
  const ms = parseTime(s);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(String(s).slice(0, 40))} is not a time: ${TIME_HELP}` });
    return z.NEVER;
  }
  return ms;
});

/** `a,b` or repeated `?x=a&x=b`, each among `values`. */
export const CsvOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter(Boolean) : v), z.array(z.enum(values)).min(1));

/** Largest page any list route returns. */
export const MAX_PAGE_SIZE = 1000;

/** `?limit=&offset=` (limit 1..1000, default 50). */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
  offset: z.coerce.number().int().min(0).default(0),
  tenant: z.string().optional().describe('operator tokens: the tenant to act on'),
});

/** `?sort=field` ascending or `?sort=-field` descending, among `fields`. */
export function SortQuery<const F extends readonly [string, ...string[]]>(fields: F, fallback: `${'' | '-'}${F[number]}`) {
  const values = fields.flatMap((f) => [f, `-${f}`]) as [string, ...string[]];
  return z.enum(values).default(fallback).describe(`sort by ${fields.join(', ')}; a leading - sorts descending`);
}

/** A sort value split into field and direction. */
export function parseSort(sort: string): { field: string; desc: boolean } {
  return sort.startsWith('-') ? { field: sort.slice(1), desc: true } : { field: sort, desc: false };
}

/** A page of items: `{ items, total, limit, offset }` (total counts every match, not just this page). */
export function Paged<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), total: z.number().int(), limit: z.number().int(), offset: z.number().int() });
}

/** The body of every error answer. */
export const ErrorBody = z.object({
  error: z.string(),
  message: z.string(),
  fields: z.array(z.object({ in: z.string(), path: z.string(), message: z.string() })).optional(),
});

/** Sends an ApiError; used by the server's error handler. */
export function sendApiError(error: ApiError, reply: FastifyReply): void {
  if (error.status === 401) reply.header('www-authenticate', 'Bearer');
  void reply.status(error.status).send({ error: error.code, message: error.message, ...(error.fields ? { fields: error.fields } : {}) });
}
