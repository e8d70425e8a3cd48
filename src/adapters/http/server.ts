/**
 * The HTTP server: health, Prometheus metrics, status and the dead-letter list. Routes
 * for ingest and the analyst API are registered by their own modules on the same server.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Store } from '../../core/store.js';
import type { Pipeline } from '../../runtime/pipeline.js';
import { ConfigError, NotFoundError } from '../../core/errors.js';
import { errorHandler } from './errors.js';
import { ApiError, registerApiFramework, requestTenantFilter, type AuthOptions } from './api.js';

export interface HttpDeps {
  readonly store: Store;
  readonly pipeline: Pipeline;
  readonly version: string;
  readonly startedAt: number;
  readonly logger?: boolean;
  /** Authentication; absent: off (every request is the local operator). */
  readonly auth?: AuthOptions;
  /** Replays dead letters through the pipeline (see src/api/dlq.ts). */
  readonly replay?: (filter: { tenant?: string; code?: string; source?: string; limit?: number }) => Promise<unknown>;
}

/** Largest dead-letter page. */
export const MAX_PAGE = 1000;

export async function buildHttpServer(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: deps.logger ?? false, bodyLimit: 16 << 20 });
  app.setErrorHandler(errorHandler);
  await registerApiFramework(app, deps.auth ?? { enabled: false, defaultTenant: 'demo', now: Date.now }, { version: deps.version });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ error: 'NotFound', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });

  app.get('/health', { config: { permission: 'public' } }, async (_req, reply) => {
    const problems = deps.pipeline.problems;
    return reply.status(problems.length ? 503 : 200).send({ status: problems.length ? 'degraded' : 'ok', problems, uptimeS: Math.round((Date.now() - deps.startedAt) / 1000), version: deps.version });
  });

  app.get('/metrics', { config: { permission: 'public' } }, async (_req, reply) => {
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(deps.pipeline.metrics.render());
  });

  app.get('/v1/status', { config: { permission: 'read' } }, async (req) => {
    const m = deps.pipeline.metrics;
    const tenant = requestTenantFilter(req);
    return {
      version: deps.version,
      uptimeS: Math.round((Date.now() - deps.startedAt) / 1000),
      stored: await deps.store.counts(tenant),
      rates: {
        messagesPerS: Math.round(m.rate('vigil_messages_received_total')),
        signalsPerS: Math.round(m.rate('vigil_signals_stored_total')),
        alertsPerS: m.rate('vigil_alerts_raised_total'),
        deadLettersPerS: m.rate('vigil_dead_letters_stored_total'),
      },
      queues: { inFlightMessages: deps.pipeline.inFlight, storeQueueRows: m.get('vigil_store_queue_rows') },
      latencyMs: { p50: m.ingestToStore.quantile(0.5), p99: m.ingestToStore.quantile(0.99) },
      problems: deps.pipeline.problems,
    };
  });

  app.get<{ Querystring: { limit?: string; offset?: string; code?: string; source?: string; tenant?: string } }>('/v1/dead-letters', { config: { permission: 'admin' } }, async (req) => {
    const limit = Math.min(MAX_PAGE, Math.max(1, Number(req.query.limit ?? 50) || 50));
    const offset = Math.max(0, Number(req.query.offset ?? 0) || 0);
    const tenant = requestTenantFilter(req);
    const rows = await deps.store.listDeadLetters({ limit, offset, ...(req.query.code ? { code: req.query.code } : {}), ...(req.query.source ? { source: req.query.source } : {}), ...(tenant ? { tenant } : {}) });
    return {
      items: rows.map((d) => ({ ...d, raw: Buffer.from(d.raw).toString('utf8') })),
      limit,
      offset,
    };
  });

  app.post<{ Body: { tenant?: string; code?: string; source?: string; limit?: number } | undefined }>('/v1/dead-letters/replay', { config: { permission: 'admin' } }, async (req) => {
    if (!deps.replay) throw new NotFoundError('dead-letter replay is not available on this server');
    const b = { ...(req.body ?? {}) };
    // A tenant admin replays only its own tenant's dead letters.
    if (req.principal && req.principal.tenant !== '*') {
      if (b.tenant !== undefined && b.tenant !== req.principal.tenant) throw new ApiError(403, 'Forbidden', `this token belongs to tenant ${req.principal.tenant} and may not act on tenant ${String(b.tenant)}`);
      b.tenant = req.principal.tenant;
    }
    const bad = ['tenant', 'code', 'source'].filter((k) => (b as Record<string, unknown>)[k] !== undefined && typeof (b as Record<string, unknown>)[k] !== 'string');
    if (bad.length || (b.limit !== undefined && !(Number.isInteger(b.limit) && b.limit > 0))) {
      throw new ConfigError('invalid replay filter', [...bad.map((k) => `${k}: must be a string`), ...(b.limit !== undefined && !(Number.isInteger(b.limit) && b.limit > 0) ? ['limit: must be a positive integer'] : [])]);
    }
    return deps.replay(b);
  });

  return app;
}
