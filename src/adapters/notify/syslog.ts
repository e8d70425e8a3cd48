/**
 * Syslog to a SIEM: RFC 5424 messages with structured data, framed by octet counting
 * (RFC 6587 3.4.1: `<length> <message>`) over TCP, or over TLS (RFC 5425, node:tls).
 *
 *   <PRI>1 2026-12-03T14:00:00.000Z host vigil 1234 alert [vigil@32473 id="..." tenant="acme" rule="..."] MSG
 *
 * One connection per channel, opened on the first message and reopened after a failure.
 * Messages go out in order through a bounded queue: a message that cannot be written is
 * retried (new connection, exponential backoff with jitter) up to the policy's attempts; one
 * that does not fit the queue fails at once. Either way the caller is told (`failed`), so the
 * delivery log shows it: nothing is lost silently.
 *
 * Limit: syslog over TCP has no acknowledgement. `delivered` means the receiver's TCP stack
 * took the bytes (the write completed on an open connection), not that the SIEM stored them.
 */
import { hostname } from 'node:os';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { backoffDelay, DEFAULT_RETRY, type DeliveryAttempt, type Notification, type Notifier, type RetryPolicy } from '../../alerts/notifier.js';
import type { Severity } from '../../core/records.js';

export interface SyslogOptions {
  readonly channel: string;
  readonly host: string;
  readonly port: number;
  /** TLS: `ca` (PEM text) to trust the receiver's certificate; absent: the system's roots. */
  readonly tls?: { readonly ca?: string; readonly servername?: string; readonly rejectUnauthorized?: boolean };
  /** RFC 5424 facility 0..23; default 10 (security/authorization, `authpriv`). */
  readonly facility?: number;
  /** HOSTNAME field; default this machine's name. */
  readonly hostname?: string;
  readonly appName?: string;
  /** Messages waiting to be written; past it a message fails at once. */
  readonly maxQueue?: number;
  readonly retry?: RetryPolicy;
  readonly connectTimeoutMs?: number;
  readonly writeTimeoutMs?: number;
  readonly now?: () => number;
  readonly random?: () => number;
}

/** Our private SD-ID; 32473 is the enterprise number reserved for examples (RFC 5612). */
export const SD_ID = 'vigil@32473';

/** Vigil severities to RFC 5424 severities (critical 2 ... informational 6). */
const SEVERITY_CODE: Readonly<Record<Severity, number>> = { critical: 2, high: 3, medium: 4, low: 5, info: 6 };

/** Longest structured-data value kept (longer ones are cut and end with `...`). */
const MAX_PARAM_CHARS = 2048;
/** Longest MSG kept, in characters. */
const MAX_MSG_CHARS = 8192;

/** Messages written together in one write (in order) when several wait. */
const MAX_BATCH = 512;

interface Queued {
  readonly frame: Buffer;
  /** Attempts made so far. */
  attempts: number;
  readonly onAttempt: ((a: DeliveryAttempt) => void) | undefined;
  readonly resolve: (a: DeliveryAttempt) => void;
}

export class SyslogNotifier implements Notifier {
  readonly kind = 'syslog';
  readonly channel: string;
  readonly target: string;
  private readonly retry: RetryPolicy;
  private readonly maxQueue: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly queue: Queued[] = [];
  private socket: Socket | undefined;
  /** The drain loop runs; cleared by the loop itself in the same turn it sees the queue empty. */
  private running = false;
  private draining: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly opts: SyslogOptions) {
    if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) throw new RangeError(`syslog ${opts.channel}: port ${opts.port} is not 1..65535`);
    const facility = opts.facility ?? 10;
    if (!Number.isInteger(facility) || facility < 0 || facility > 23) throw new RangeError(`syslog ${opts.channel}: facility ${facility} is not 0..23`);
    this.channel = opts.channel;
    this.target = `syslog${opts.tls ? '+tls' : ''}://${opts.host}:${opts.port}`;
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.maxQueue = opts.maxQueue ?? 10_000;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
  }

  /** Messages waiting to be written. */
  get queued(): number {
    return this.queue.length;
  }

  deliver(n: Notification, onAttempt?: (a: DeliveryAttempt) => void): Promise<DeliveryAttempt> {
    if (this.closed || this.queue.length >= this.maxQueue) {
      const a: DeliveryAttempt = { attempt: 1, status: 'failed', error: this.closed ? 'notifier closed' : `queue full (${this.maxQueue} waiting)`, at: this.now() };
      report(onAttempt, a);
      return Promise.resolve(a);
    }
    const frame = frameOctetCounted(formatRfc5424(n, { facility: this.opts.facility ?? 10, hostname: this.opts.hostname ?? hostname(), appName: this.opts.appName ?? 'vigil', procId: String(process.pid) }));
    return new Promise((resolve) => {
      this.queue.push({ frame, attempts: 0, onAttempt, resolve });
      if (!this.running) {
        this.running = true;
        this.draining = this.drain();
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.draining;
    this.socket?.end();
    this.socket = undefined;
  }

  /** Writes queued messages in order, one at a time, each with its retries. */
  /**
   * Writes the queue in order: the messages waiting (up to MAX_BATCH) go out in one write and
   * share its outcome; after a failure, those that have attempts left are retried after the backoff.
   */
  private async drain(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.slice(0, MAX_BATCH);
      let error: string | undefined;
      try {
        await this.write(batch.length === 1 ? batch[0]!.frame : Buffer.concat(batch.map((q) => q.frame)));
      } catch (e) {
        error = (e as Error).message;
        this.socket?.destroy();
        this.socket = undefined;
      }
      const at = this.now();
      const settled = new Set<Queued>();
      let retryAfter = 0;
      for (const item of batch) {
        const attempt = ++item.attempts;
        const last = error === undefined || attempt >= this.retry.maxAttempts;
        const a: DeliveryAttempt = { attempt, status: error === undefined ? 'delivered' : last ? 'failed' : 'retrying', at, ...(error !== undefined ? { error } : {}) };
        report(item.onAttempt, a);
        if (last) {
          item.resolve(a);
          settled.add(item);
        } else retryAfter = Math.max(retryAfter, attempt);
      }
      // Settled messages leave the queue; those still retrying keep their place, in order.
      if (settled.size === batch.length) this.queue.splice(0, batch.length);
      else {
        const rest = this.queue.filter((q) => !settled.has(q));
        this.queue.splice(0, this.queue.length, ...rest);
      }
      if (retryAfter) await new Promise((r) => setTimeout(r, backoffDelay(retryAfter, this.retry, this.random)));
    }
    this.running = false;
  }

  private async write(frame: Buffer): Promise<void> {
    const socket = this.socket && !this.socket.destroyed && this.socket.writable ? this.socket : await this.connect();
    const timeout = this.opts.writeTimeoutMs ?? 10_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`write timed out after ${timeout} ms`)), timeout);
      socket.write(frame, (err) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      });
    });
  }

  private connect(): Promise<Socket> {
    const { host, port, tls } = this.opts;
    const timeout = this.opts.connectTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const socket = tls
        ? tlsConnect({ host, port, ...(tls.ca ? { ca: tls.ca } : {}), servername: tls.servername ?? (isIp(host) ? undefined : host), rejectUnauthorized: tls.rejectUnauthorized ?? true })
        : tcpConnect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out after ${timeout} ms`));
      }, timeout);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      socket.once('error', fail);
      socket.once(tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', fail);
        socket.setKeepAlive(true, 30_000);
        // The receiver never talks back; what it sends is read and dropped so its buffers drain.
        socket.on('data', () => undefined);
        // A closed or broken connection is forgotten; the next message opens a new one.
        const forget = (): void => {
          if (this.socket === socket) this.socket = undefined;
        };
        socket.on('error', forget);
        socket.on('close', forget);
        this.socket = socket;
        resolve(socket);
      });
    });
  }
}

/** A caller's attempt callback must not break the queue. */
function report(onAttempt: ((a: DeliveryAttempt) => void) | undefined, a: DeliveryAttempt): void {
  try {
    onAttempt?.(a);
  } catch {
    // The attempt still counts; the caller's own bug is theirs to see.
  }
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

/** `<length> <message>`: RFC 6587 octet-counting framing. */
export function frameOctetCounted(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

/**
 * One RFC 5424 message: header, one SD-ELEMENT `[vigil@32473 ...]` holding the message id,
 * tenant, event and the scalar fields of `data` (objects and arrays as JSON), and the MSG.
 */
export function formatRfc5424(n: Notification, h: { facility: number; hostname: string; appName: string; procId: string }): string {
  const pri = h.facility * 8 + SEVERITY_CODE[n.severity];
  const params: [string, unknown][] = [['id', n.id], ['tenant', n.tenant], ['event', n.event], ['severity', n.severity], ...Object.entries(n.data)];
  const seen = new Set<string>();
  const sd = params
    .map(([k, v]) => [paramName(k), v] as const)
    .filter(([k, v]) => v !== undefined && v !== null && k !== '' && !seen.has(k) && (seen.add(k), true))
    .map(([k, v]) => ` ${k}="${paramValue(typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v))}"`)
    .join('');
  const msg = n.message.length > MAX_MSG_CHARS ? `${n.message.slice(0, MAX_MSG_CHARS - 3)}...` : n.message;
  // MSG-UTF8 must start with a BOM (RFC 5424 6.4); plain ASCII is valid MSG-ANY without one.
  const body = /^[\x20-\x7e]*$/.test(msg) ? msg : `\uFEFF${msg}`;
  const ts = new Date(n.time).toISOString();
  return `<${pri}>1 ${ts} ${headerField(h.hostname, 255)} ${headerField(h.appName, 48)} ${headerField(h.procId, 128)} ${headerField(n.event, 32)} [${SD_ID}${sd}] ${body}`;
}

/** A header field: printable US-ASCII without spaces, `-` when empty (RFC 5424 NILVALUE). */
function headerField(s: string, max: number): string {
  const clean = s.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean === '' ? '-' : clean;
}

/** PARAM-NAME: 1..32 printable US-ASCII except `=`, space, `]` and `"`. */
function paramName(k: string): string {
  return k.replace(/[^\x21-\x7e]|[=\]"]/g, '_').slice(0, 32);
}

/** PARAM-VALUE: UTF-8 with `"`, `\` and `]` escaped by a backslash (RFC 5424 6.3.3). */
function paramValue(v: string): string {
  const cut = v.length > MAX_PARAM_CHARS ? `${v.slice(0, MAX_PARAM_CHARS - 3)}...` : v;
  return cut.replace(/["\\\]]/g, (c) => `\\${c}`);
}
