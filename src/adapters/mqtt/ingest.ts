/**
 * What both MQTT sources (embedded broker, external client) do with a received message:
 * route it by topic, hand it to the pipeline, and say when it may be acknowledged.
 * - A routable message is offered with an ack: `done` fires once it is durable (stored or
 *   dead-lettered) for QoS 1, or once the pipeline has taken it for QoS 0.
 * - A bad topic or encoding is dead-lettered with the raw payload; `done` fires once the
 *   dead letter is durable. Nothing is dropped.
 * - A full pipeline holds messages here, in arrival order, until there is room; the
 *   transports stop reading meanwhile because `done` has not fired (backpressure).
 */
import { randomUUID } from 'node:crypto';
import type { DeadLetter } from '../../core/records.js';
import { BackpressureError } from '../../core/errors.js';
import { MAX_MESSAGE_BYTES } from '../../decode/json.js';
import type { InputItem } from '../../runtime/lane.js';
import type { Pipeline } from '../../runtime/pipeline.js';
import { parseTopic, type TopicResult } from './topic.js';

/** Topics whose route is remembered (a vehicle publishes to the same few topics); past it the memo starts over. */
const ROUTE_MEMO_SIZE = 100_000;

export interface MqttIngestOptions {
  /** The source name in records and dead letters, e.g. `mqtt:edge`. */
  readonly source: string;
  /** Tenants a topic may name; undefined: any valid name. */
  readonly tenants?: readonly string[];
  /** Tenant of dead letters whose topic names no accepted tenant. */
  readonly fallbackTenant: string;
}

interface Waiting {
  readonly item: InputItem;
  readonly durable: boolean;
  readonly done: () => void;
}

export class MqttIngest {
  private readonly tenants: ReadonlySet<string> | undefined;
  private readonly routes = new Map<string, TopicResult>();
  private readonly waiting: Waiting[] = [];
  private waitHead = 0;
  private pumping = false;
  private dead: DeadLetter[] = [];
  private deadDone: (() => void)[] = [];
  private stopped = false;

  constructor(
    private readonly pipeline: Pipeline,
    private readonly opts: MqttIngestOptions,
  ) {
    this.tenants = opts.tenants ? new Set(opts.tenants) : undefined;
    pipeline.metrics.counter('vigil_mqtt_messages_total', 'MQTT messages received (embedded broker and MQTT clients)', { rate: true });
    pipeline.metrics.counter('vigil_mqtt_dead_lettered_total', 'MQTT messages dead-lettered before the pipeline (topic.invalid, encoding.*, message.too_large)');
  }

  /** Messages held for want of room in the pipeline. */
  get held(): number {
    return this.waiting.length - this.waitHead;
  }

  /**
   * Take one message. `durable`: call `done` once it is stored or dead-lettered (QoS 1);
   * otherwise once the pipeline has taken it (QoS 0). `payload` may be a view into the
   * transport's read buffer: it is not copied here (the pipeline copies it once, into its
   * hand-over to a worker), and it is let go once durable, so the buffer is not pinned for long.
   */
  take(topic: string, payload: Uint8Array, contentType: string | undefined, durable: boolean, done: () => void): void {
    const receivedAt = Date.now();
    this.pipeline.metrics.inc('vigil_mqtt_messages_total');
    const r = this.route(topic, contentType);
    if (r.ok && payload.length > MAX_MESSAGE_BYTES) {
      this.pipeline.metrics.inc('vigil_mqtt_dead_lettered_total');
      // Refused here, before a worker: the dead letter keeps the first MAX_MESSAGE_BYTES, not an unbounded blob.
      this.deadLetter({
        id: randomUUID(), tenant: r.route.tenant, source: this.opts.source, kind: r.route.kind, code: 'message.too_large',
        reason: `message of ${payload.length} bytes exceeds ${MAX_MESSAGE_BYTES} (the first ${MAX_MESSAGE_BYTES} bytes are kept)`,
        receivedAt, raw: copyOf(payload),
      }, done);
      return;
    }
    if (!r.ok) {
      this.pipeline.metrics.inc('vigil_mqtt_dead_lettered_total');
      this.deadLetter({
        id: randomUUID(), tenant: this.opts.fallbackTenant, source: this.opts.source, kind: r.kind ?? 'unknown',
        code: r.reject.code, reason: r.reject.reason, receivedAt, raw: copyOf(payload),
      }, done);
      return;
    }
    const { route } = r;
    const item: InputItem = { kind: route.kind, tenant: route.tenant, source: this.opts.source, payload, encoding: route.encoding, receivedAt };
    if (this.held === 0 && this.offer(item, durable, done)) return;
    this.waiting.push({ item, durable, done });
    if (!this.pumping) void this.pump();
  }

  /** Stop taking: held messages are never acknowledged (a QoS 1 sender sends them again). */
  stop(): void {
    this.stopped = true;
    this.waiting.length = 0;
    this.waitHead = 0;
  }

  private route(topic: string, contentType: string | undefined): TopicResult {
    if (contentType !== undefined) return parseTopic(topic, this.tenants, contentType);
    let r = this.routes.get(topic);
    if (r === undefined) {
      if (this.routes.size >= ROUTE_MEMO_SIZE) this.routes.clear();
      r = parseTopic(topic, this.tenants);
      this.routes.set(topic, r);
    }
    return r;
  }

  /** True when the pipeline took the item; false when it is full (including `onFull: reject`). */
  private offer(item: InputItem, durable: boolean, done: () => void): boolean {
    if (this.stopped) return true; // not acknowledged: see stop()
    let taken: boolean;
    try {
      taken = this.pipeline.offer(item, durable ? done : undefined);
    } catch (e) {
      if (e instanceof BackpressureError) return false;
      throw e;
    }
    if (taken && !durable) done();
    return taken;
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.held > 0 && !this.stopped) {
        await this.pipeline.ready();
        while (this.held > 0) {
          const w = this.waiting[this.waitHead]!;
          if (!this.offer(w.item, w.durable, w.done)) break;
          this.waiting[this.waitHead++] = undefined as unknown as Waiting;
        }
        if (this.waitHead > 4096 && this.waitHead * 2 > this.waiting.length) {
          this.waiting.splice(0, this.waitHead);
          this.waitHead = 0;
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Dead letters of one turn of the event loop go to the store together; each `done` fires once they are durable. */
  private deadLetter(d: DeadLetter, done: () => void): void {
    if (this.dead.length === 0) {
      setImmediate(() => {
        const records = this.dead;
        const dones = this.deadDone;
        this.dead = [];
        this.deadDone = [];
        this.pipeline.deadLetter(records, () => {
          for (const f of dones) f();
        });
      });
    }
    this.dead.push(d);
    this.deadDone.push(done);
  }
}

/** The first MAX_MESSAGE_BYTES of a refused payload, in a buffer of its own (not pinning the transport's). */
function copyOf(payload: Uint8Array): Uint8Array {
  return new Uint8Array(payload.subarray(0, MAX_MESSAGE_BYTES));
}
