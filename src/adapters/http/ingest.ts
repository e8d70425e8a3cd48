/**
 * HTTP batch ingest: `POST /v1/ingest/{signals|security|logs}` with `application/json` (one
 * object or an array of objects) or `application/x-ndjson` (one object per line), optionally
 * `Content-Encoding: gzip`. Each record becomes one pipeline message; the answer waits until
 * every record taken is durable (stored, or dead-lettered by its lane) and every record that
 * could not be framed is durably dead-lettered with its raw bytes.
 *
 * Answers (the README's "HTTP ingest" has the table):
 * - 202 `{accepted, rejected, errors}` when at least one record was taken. A batch with some
 *   unframeable records is still 202: those are dead-lettered and listed in `errors`, and
 *   sending the batch again would only duplicate the good ones.
 * - 400 with the same per-record `errors` when no record could be taken (or the body is empty).
 * - 413 past `maxBodyBytes` (as sent or decompressed) or `maxRecords`; 415 for other media
 *   types or content codings. Nothing is kept: the client still holds the data.
 * - 503 with `Retry-After` when the pipeline is full before the body is read (nothing taken),
 *   or stays full for `maxWaitMs` in the middle of a batch: then the records before
 *   `retryFrom` are durable and the client sends the rest again. The event loop never blocks.
 * Records a lane refuses later (bad VIN, unknown signal) count as accepted: they are
 * dead-lettered by the lane, with their reason, like records from any other source.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BackpressureError } from '../../core/errors.js';
import type { DeadLetter, RecordKind } from '../../core/records.js';
import type { InputItem } from '../../runtime/lane.js';
import type { Ack, Pipeline } from '../../runtime/pipeline.js';
import { contentEncoding, decodeBody, HttpError, readRaw } from './ingest-body.js';
import { frameBody, type BodyFormat, type Framed, type FramingReject } from './ingest-framing.js';

/** Route path segment -> record kind. */
export const INGEST_KINDS: Readonly<Record<string, RecordKind>> = { signals: 'signals', security: 'security', logs: 'log' };
/** Per-record errors listed in one answer at most; the counts are always complete. */
export const MAX_LISTED_ERRORS = 100;
/** The `source` of every HTTP record and dead letter. */
export const HTTP_SOURCE = 'http';
export const TENANT_HEADER = 'x-vigil-tenant';
const TENANT = /^[a-z0-9][a-z0-9_-]{0,62}$/;

const MEDIA_TYPES: Readonly<Record<string, BodyFormat>> = { 'application/json': 'json', 'application/x-ndjson': 'ndjson' };

export interface IngestLimits {
  /** Largest body, as sent and after decompression (413 past it). */
  readonly maxBodyBytes: number;
  /** Most records in one request (413 past it). */
  readonly maxRecords: number;
  /** How long a batch being taken waits for room before answering 503 with `retryFrom`. */
  readonly maxWaitMs: number;
  /** The Retry-After of a 503, seconds. */
  readonly retryAfterS: number;
}

/** Who sent an ingest request. Today only the tenant; API tokens (a later issue) add roles. */
export interface IngestPrincipal {
  readonly tenant: string;
}

/**
 * The authentication seam: resolves the sender of a request or throws an HttpError
 * (400/401/403). The default, `tenantFromRequest`, trusts the tenant the request names;
 * API tokens replace it with a token lookup that refuses tenants the token does not grant.
 */
export type IngestAuthenticator = (req: FastifyRequest) => IngestPrincipal | Promise<IngestPrincipal>;

export interface IngestDeps extends IngestLimits {
  readonly pipeline: Pipeline;
  readonly defaultTenant: string;
  readonly authenticate?: IngestAuthenticator;
}

/** The tenant from `?tenant=`, else the `X-Vigil-Tenant` header, else the configured default. */
export function tenantFromRequest(defaultTenant: string): IngestAuthenticator {
  return (req) => {
    const q = (req.query as Record<string, unknown> | undefined)?.tenant;
    const h = req.headers[TENANT_HEADER];
    const fromQuery = typeof q === 'string' ? q : undefined;
    const fromHeader = typeof h === 'string' ? h : undefined;
    if (fromQuery !== undefined && fromHeader !== undefined && fromQuery !== fromHeader) {
      throw new HttpError(400, 'TenantConflict', `?tenant=${fromQuery} and ${TENANT_HEADER}: ${fromHeader} disagree`);
    }
    const tenant = fromQuery ?? fromHeader ?? defaultTenant;
    if (!TENANT.test(tenant)) throw new HttpError(400, 'InvalidTenant', `tenant ${JSON.stringify(tenant.slice(0, 80))} must be lowercase letters, digits, - and _ (max 63)`);
    return { tenant };
  };
}

/** Register the ingest routes on the server, in their own scope (raw bodies, no JSON parser). */
export function registerIngest(app: FastifyInstance, deps: IngestDeps): void {
  const m = deps.pipeline.metrics;
  m.counter('vigil_http_ingest_records_total', 'Records taken by HTTP ingest (stored, or dead-lettered by a lane)', { rate: true });
  m.counter('vigil_http_ingest_rejected_total', 'Records HTTP ingest could not frame (dead-lettered with raw bytes)');
  m.counter('vigil_http_ingest_refused_total', 'Ingest requests refused whole: 413, 415, or 503 with nothing taken');
  const authenticate = deps.authenticate ?? tenantFromRequest(deps.defaultTenant);
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // The body stays a stream: the handler reads it under its own limits, after admission.
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    for (const [path, kind] of Object.entries(INGEST_KINDS)) {
      scope.post(`/v1/ingest/${path}`, async (req, reply) => {
        try {
          return await ingest(req, reply, kind, await authenticate(req), deps);
        } catch (e) {
          if (e instanceof HttpError || e instanceof BackpressureError) m.inc('vigil_http_ingest_refused_total');
          throw e;
        }
      });
    }
  });
}

interface ListedError {
  readonly index: number;
  readonly line?: number;
  readonly code: string;
  readonly reason: string;
}

async function ingest(req: FastifyRequest, reply: FastifyReply, kind: RecordKind, who: IngestPrincipal, deps: IngestDeps): Promise<FastifyReply> {
  const { pipeline } = deps;
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const format = MEDIA_TYPES[mediaType];
  if (!format) throw new HttpError(415, 'UnsupportedMediaType', `Content-Type ${JSON.stringify(mediaType.slice(0, 64))} is not accepted; send application/json or application/x-ndjson`);
  const encoding = contentEncoding(req.headers['content-encoding']);
  // Admission before reading the body: a full pipeline takes nothing and costs no upload.
  if (!pipeline.canAccept()) throw new BackpressureError('pipeline is full; nothing was taken', deps.retryAfterS * 1000);
  const raw = await readRaw(req.body as Readable | undefined, req.headers['content-length'], deps.maxBodyBytes);
  const receivedAt = Date.now();
  const body = await decodeBody(raw, encoding, deps.maxBodyBytes);
  const framed: Framed[] = body.ok ? frameBody(body.bytes, format) : [{ ok: false, index: 0, code: body.code, reason: body.reason, raw: body.raw }];
  if (framed.length > deps.maxRecords) {
    throw new HttpError(413, 'TooManyRecords', `${framed.length} records exceed the ingest limit of ${deps.maxRecords} per request (http.ingest.maxRecords)`);
  }
  if (framed.length === 0) return reply.status(400).send({ error: 'EmptyBody', message: 'the body holds no records', accepted: 0, rejected: 0, errors: [] });

  const r = await take(framed, kind, who.tenant, receivedAt, deps);
  pipeline.metrics.inc('vigil_http_ingest_records_total', r.accepted);
  pipeline.metrics.inc('vigil_http_ingest_rejected_total', r.rejected);
  const result = { accepted: r.accepted, rejected: r.rejected, errors: r.errors, ...(r.errorsTruncated ? { errorsTruncated: true } : {}) };
  if (r.retryFrom !== undefined) {
    return reply
      .status(503)
      .header('retry-after', String(deps.retryAfterS))
      .send({ error: 'BackpressureError', message: `pipeline stayed full; records from index ${r.retryFrom} on were not taken: send them again`, retryFrom: r.retryFrom, ...result });
  }
  if (r.accepted === 0) return reply.status(400).send({ error: 'NoRecordAccepted', message: 'no record could be framed; each is dead-lettered with its reason', ...result });
  return reply.status(202).send(result);
}

interface TakeResult {
  accepted: number;
  rejected: number;
  errors: ListedError[];
  errorsTruncated: boolean;
  /** Index of the first record not taken because the pipeline stayed full. */
  retryFrom?: number;
}

/** Offer the records and dead-letter the rejects in order; resolve once all of it is durable. */
async function take(framed: readonly Framed[], kind: RecordKind, tenant: string, receivedAt: number, deps: IngestDeps): Promise<TakeResult> {
  const res: TakeResult = { accepted: 0, rejected: 0, errors: [], errorsTruncated: false };
  const dead: DeadLetter[] = [];
  let pending = 1;
  let allDurable!: () => void;
  const durable = new Promise<void>((resolve) => (allDurable = resolve));
  const ack: Ack = () => {
    if (--pending === 0) allDurable();
  };
  const deadline = Date.now() + deps.maxWaitMs;
  for (const f of framed) {
    if (!f.ok) {
      res.rejected++;
      dead.push(deadLetter(f, kind, tenant, receivedAt));
      listError(res, f);
      continue;
    }
    const item: InputItem = { kind, tenant, source: HTTP_SOURCE, payload: f.payload, receivedAt };
    pending++;
    if (!(await offerBefore(deps.pipeline, item, ack, deadline))) {
      pending--;
      res.retryFrom = f.index;
      break;
    }
    res.accepted++;
  }
  if (dead.length) {
    pending++;
    deps.pipeline.deadLetter(dead, ack);
  }
  ack();
  await durable;
  return res;
}

/** Offer, waiting for room until `deadline` without blocking; false if the pipeline stayed full. */
async function offerBefore(pipeline: Pipeline, item: InputItem, ack: Ack, deadline: number): Promise<boolean> {
  for (;;) {
    try {
      if (pipeline.offer(item, ack)) return true;
    } catch (e) {
      if (!(e instanceof BackpressureError)) throw e;
    }
    const left = deadline - Date.now();
    if (left <= 0) return false;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([pipeline.ready(), new Promise<void>((resolve) => (timer = setTimeout(resolve, left)))]);
    clearTimeout(timer);
  }
}

function listError(res: TakeResult, f: FramingReject): void {
  if (res.errors.length >= MAX_LISTED_ERRORS) {
    res.errorsTruncated = true;
    return;
  }
  res.errors.push({ index: f.index, ...(f.line !== undefined ? { line: f.line } : {}), code: f.code, reason: f.reason });
}

function deadLetter(f: FramingReject, kind: RecordKind, tenant: string, receivedAt: number): DeadLetter {
  return { id: randomUUID(), tenant, source: HTTP_SOURCE, kind, code: f.code, reason: f.reason, receivedAt, raw: f.raw };
}
