/**
 * Signed webhooks: a JSON POST per message, signed with HMAC-SHA256 as
 *
 *   X-Vigil-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
 *
 * (the timestamp is inside the MAC, so a receiver refusing old timestamps refuses replays).
 * Also sent: `X-Vigil-Event`, `X-Vigil-Delivery` (the message id, the same on every retry,
 * for the receiver to drop duplicates) and `X-Vigil-Attempt`.
 *
 * Retries: network errors, timeouts, 408, 425, 429 and 5xx are retried with exponential
 * backoff and jitter (a `Retry-After` of a 429/503 is honoured up to the policy's maximum);
 * any other answer is final. At most `maxInFlight` messages are being delivered at once; past
 * that a message fails at once (`queue full`), recorded like any failure.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { backoffDelay, DEFAULT_RETRY, type DeliveryAttempt, type Notification, type Notifier, type RetryPolicy } from '../../alerts/notifier.js';

export const SIGNATURE_HEADER = 'x-vigil-signature';

export interface WebhookOptions {
  readonly channel: string;
  readonly url: string;
  /** HMAC key; without one the request is sent unsigned. */
  readonly secret?: string;
  /** Per attempt, connection to last byte of the answer. */
  readonly timeoutMs?: number;
  readonly retry?: RetryPolicy;
  readonly maxInFlight?: number;
  readonly now?: () => number;
  readonly random?: () => number;
}

/** `t=...,v1=...` for `body` at unix time `t` (seconds). */
export function signWebhook(secret: string, t: number, body: string): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/**
 * What a receiver checks: the header parses, a `v1` MAC matches, and its timestamp is within
 * `toleranceS` of `nowS`. Constant-time comparison.
 */
export function verifyWebhookSignature(secret: string, header: string | undefined, body: string, nowS: number, toleranceS = 300): boolean {
  if (!header) return false;
  const parts = new Map<string, string[]>();
  for (const kv of header.split(',')) {
    const i = kv.indexOf('=');
    if (i <= 0) return false;
    const k = kv.slice(0, i).trim();
    parts.set(k, [...(parts.get(k) ?? []), kv.slice(i + 1).trim()]);
  }
  const t = Number(parts.get('t')?.[0]);
  if (!Number.isInteger(t) || Math.abs(nowS - t) > toleranceS) return false;
  const want = Buffer.from(signWebhook(secret, t, body).split('v1=')[1]!, 'hex');
  return (parts.get('v1') ?? []).some((v) => {
    const got = Buffer.from(v, 'hex');
    return got.length === want.length && timingSafeEqual(got, want);
  });
}

/** The JSON body of a webhook. */
export function webhookBody(n: Notification): string {
  return JSON.stringify({ id: n.id, event: n.event, tenant: n.tenant, time: new Date(n.time).toISOString(), severity: n.severity, message: n.message, data: n.data });
}

const RETRYABLE = new Set([408, 425, 429]);

export class WebhookNotifier implements Notifier {
  readonly kind = 'webhook';
  readonly channel: string;
  readonly target: string;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly maxInFlight: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly url: string;
  /** Basic credentials given in the URL (fetch refuses URLs that carry them). */
  private readonly authorization: string | undefined;
  private closed = false;

  constructor(private readonly opts: WebhookOptions) {
    const url = new URL(opts.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RangeError(`webhook ${opts.channel}: ${opts.url} is not an http(s) URL`);
    this.channel = opts.channel;
    this.authorization = url.username || url.password ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}` : undefined;
    // Credentials in the URL never reach the delivery log.
    url.username = url.password = '';
    this.url = this.target = url.toString();
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.maxInFlight = opts.maxInFlight ?? 1000;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
  }

  deliver(n: Notification, onAttempt?: (a: DeliveryAttempt) => void): Promise<DeliveryAttempt> {
    if (this.closed || this.inFlight.size >= this.maxInFlight) {
      const a: DeliveryAttempt = { attempt: 1, status: 'failed', error: this.closed ? 'notifier closed' : `queue full (${this.maxInFlight} in flight)`, at: this.now() };
      onAttempt?.(a);
      return Promise.resolve(a);
    }
    const p = this.attempts(n, onAttempt);
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
    return p;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
  }

  private async attempts(n: Notification, onAttempt?: (a: DeliveryAttempt) => void): Promise<DeliveryAttempt> {
    const body = webhookBody(n);
    for (let attempt = 1; ; attempt++) {
      const { httpStatus, error, retryAfterMs } = await this.post(n, body, attempt);
      const ok = error === undefined;
      const retryable = !ok && (httpStatus === undefined || httpStatus >= 500 || RETRYABLE.has(httpStatus));
      const last = ok || !retryable || attempt >= this.retry.maxAttempts;
      const a: DeliveryAttempt = {
        attempt, status: ok ? 'delivered' : last ? 'failed' : 'retrying', at: this.now(),
        ...(httpStatus !== undefined ? { httpStatus } : {}), ...(error !== undefined ? { error } : {}),
      };
      onAttempt?.(a);
      if (last) return a;
      const wait = Math.min(this.retry.maxDelayMs, Math.max(backoffDelay(attempt, this.retry, this.random), retryAfterMs ?? 0));
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  private async post(n: Notification, body: string, attempt: number): Promise<{ httpStatus?: number; error?: string; retryAfterMs?: number }> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'vigil-webhook/1',
      'x-vigil-event': n.event,
      'x-vigil-delivery': n.id,
      'x-vigil-attempt': String(attempt),
    };
    if (this.authorization) headers.authorization = this.authorization;
    if (this.opts.secret !== undefined) headers[SIGNATURE_HEADER] = signWebhook(this.opts.secret, Math.floor(this.now() / 1000), body);
    try {
      const res = await fetch(this.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.timeoutMs), redirect: 'manual' });
      // Read (at most a little of) the answer so the connection can be reused; its content is not needed.
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return { httpStatus: res.status };
      const ra = Number(res.headers.get('retry-after'));
      return { httpStatus: res.status, error: `HTTP ${res.status}`, ...(Number.isFinite(ra) && ra > 0 ? { retryAfterMs: ra * 1000 } : {}) };
    } catch (e) {
      return { error: describe(e, this.timeoutMs) };
    }
  }
}

function describe(e: unknown, timeoutMs: number): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  const cause = err.cause?.code ?? err.cause?.message;
  return cause ? `${err.message}: ${cause}` : err.message;
}
