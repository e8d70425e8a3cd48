/**
 * New alerts, live: `GET /v1/alerts/stream` (permission `read`, the caller's tenant only).
 *
 * With `Accept: text/event-stream` the answer is a server-sent event stream: one `alert` event
 * per stored alert of the tenant (`id:` is the alert id, `data:` the alert as JSON), a comment
 * line every 15 s to keep proxies from closing it, and `retry: 3000`. A client that reconnects
 * with `Last-Event-ID` (or `?after=<id>`) first gets the alerts it missed, from the last
 * RECENT_PER_TENANT alerts kept in memory. Without that Accept header the route answers the
 * same recent alerts as JSON (`{ items, limit }`, newest first), for a client that polls.
 *
 * Fed by Pipeline.onAlertsStored: an alert is sent once it is durably stored, before the alert
 * pipeline has decided it (its outcome comes from GET /v1/alerts/{id}).
 *
 *   curl -N -H 'Accept: text/event-stream' -H "Authorization: Bearer $TOKEN" localhost:8080/v1/alerts/stream
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SEVERITIES, type Alert } from '../../core/records.js';
import { ApiError, ErrorBody, requestTenant } from './api.js';

export interface AlertStreamDeps {
  /** Subscribes to stored alerts; returns the unsubscribe function (Pipeline.onAlertsStored). */
  readonly onAlertsStored: (listener: (alerts: readonly Alert[]) => void) => () => void;
  readonly defaultTenant: string;
}

/** Alerts kept per tenant for reconnecting clients and the JSON answer. */
export const RECENT_PER_TENANT = 500;
/** Open streams per server: one more is refused with 503 (each holds a socket). */
export const MAX_STREAMS = 200;
const HEARTBEAT_MS = 15_000;

const Time = z.number().describe('epoch milliseconds');
const StreamAlert = z.object({
  id: z.string(), tenant: z.string(), vehicle: z.string().optional(), time: Time, detectedAt: Time, rule: z.string(), title: z.string(),
  severity: z.enum(SEVERITIES), tags: z.array(z.string()), details: z.record(z.string(), z.unknown()),
});
const StreamQuery = z.object({
  tenant: z.string().optional().describe('operator tokens: the tenant to act on'),
  after: z.string().min(1).max(500).optional().describe('only alerts stored after this alert id (as Last-Event-ID)'),
  limit: z.coerce.number().int().min(1).max(RECENT_PER_TENANT).default(100).describe('JSON answer: most alerts returned'),
});

type Client = { tenant: string; send: (alerts: readonly Alert[]) => void; end: () => void };

export function registerAlertStream(server: FastifyInstance, deps: AlertStreamDeps): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const recent = new Map<string, Alert[]>();
  const clients = new Set<Client>();

  const unsubscribe = deps.onAlertsStored((alerts) => {
    const byTenant = new Map<string, Alert[]>();
    for (const a of alerts) {
      const list = byTenant.get(a.tenant) ?? [];
      list.push(a);
      byTenant.set(a.tenant, list);
    }
    for (const [tenant, list] of byTenant) {
      const kept = recent.get(tenant) ?? [];
      kept.push(...list);
      if (kept.length > RECENT_PER_TENANT) kept.splice(0, kept.length - RECENT_PER_TENANT);
      recent.set(tenant, kept);
      for (const c of clients) if (c.tenant === tenant) c.send(list);
    }
  });
  // End the streams before the server waits for its connections to close.
  server.addHook('preClose', async () => {
    unsubscribe();
    for (const c of clients) c.end();
  });

  /** The kept alerts of `tenant` after the one with id `after` (all kept when it is unknown or absent), oldest first. */
  const missed = (tenant: string, after: string | undefined): Alert[] => {
    const kept = recent.get(tenant) ?? [];
    if (after === undefined) return [];
    const i = kept.findIndex((a) => a.id === after);
    return i < 0 ? [...kept] : kept.slice(i + 1);
  };

  app.get('/v1/alerts/stream', {
    config: { permission: 'read' },
    schema: {
      tags: ['alerts'],
      summary: 'New alerts as server-sent events (Accept: text/event-stream); otherwise the recent ones as JSON',
      querystring: StreamQuery,
      response: { 200: z.object({ items: z.array(StreamAlert), limit: z.number().int() }), 400: ErrorBody, 503: ErrorBody },
    },
  }, async (req, reply) => {
    const tenant = requestTenant(req, deps.defaultTenant);
    const lastEventId = req.headers['last-event-id'];
    const after = req.query.after ?? (typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : undefined);
    if (!/\btext\/event-stream\b/.test(req.headers.accept ?? '')) {
      const kept = recent.get(tenant) ?? [];
      const list = after !== undefined ? missed(tenant, after) : kept;
      return { items: list.slice(-req.query.limit).reverse().map(view), limit: req.query.limit };
    }
    if (clients.size >= MAX_STREAMS) throw new ApiError(503, 'TooManyStreams', `${MAX_STREAMS} alert streams are open on this server; try again later`);
    openStream(reply, tenant, missed(tenant, after), clients);
    return reply;
  });
}

function view(a: Alert): z.infer<typeof StreamAlert> {
  return { ...a, tags: [...a.tags], details: { ...a.details } };
}

function openStream(reply: FastifyReply, tenant: string, backlog: readonly Alert[], clients: Set<Client>): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  const write = (alerts: readonly Alert[]): void => {
    if (!alerts.length || res.writableEnded) return;
    res.write(alerts.map((a) => `id: ${a.id}\nevent: alert\ndata: ${JSON.stringify(view(a))}\n\n`).join(''));
  };
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  const client: Client = {
    tenant,
    send: write,
    end: () => {
      clearInterval(heartbeat);
      clients.delete(client);
      if (!res.writableEnded) res.end();
    },
  };
  clients.add(client);
  res.on('close', client.end);
  res.write('retry: 3000\n: connected\n\n');
  write(backlog);
}
