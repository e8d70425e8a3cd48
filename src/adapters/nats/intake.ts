/**
 * What both NATS modes share: a received message becomes a pipeline message (subject ->
 * tenant and kind; a `Content-Type` header -> encoding, JSON by default), or a dead letter
 * with its raw payload when its subject is not `<prefix>.<tenant>.<vehicle>.<kind>`
 * (`subject.invalid`), its content type names no encoding we decode (`encoding.unsupported`),
 * or it is larger than a message may be (`message.too_large`: NATS servers may be set to
 * carry more than Vigil takes). Dead letters are written in one batch per turn of the event
 * loop, each one's ack called once it is durable.
 */
import { randomUUID } from 'node:crypto';
import { Match, type MsgHdrs } from '@nats-io/transport-node';
import { BackpressureError } from '../../core/errors.js';
import type { DeadLetter } from '../../core/records.js';
import { MAX_MESSAGE_BYTES } from '../../decode/json.js';
import { encodingOfMediaType } from '../../decode/payload.js';
import type { InputItem } from '../../runtime/lane.js';
import type { Ack, Pipeline } from '../../runtime/pipeline.js';
import { parseSubject } from './subject.js';

export interface IntakeOptions {
  /** `nats:<source name>`: the `source` of every item and dead letter. */
  readonly source: string;
  readonly prefix: string;
  /** Tenants a subject may name; undefined: any valid tenant name. */
  readonly tenants?: ReadonlySet<string>;
  /** Tenant of dead letters whose subject names no accepted tenant. */
  readonly fallbackTenant: string;
}

export type Intake = { readonly ok: true; readonly item: InputItem } | { readonly ok: false; readonly deadLetter: DeadLetter };

/**
 * The payload as its own buffer. NATS hands out views into a larger read buffer, and a
 * view posted to a worker thread would copy the whole buffer behind it.
 */
export function ownBytes(data: Uint8Array): Uint8Array {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
}

/**
 * Turn a received message into an item or a dead letter. `transportId` (JetStream: stream
 * and stream sequence) rides on the item for duplicate suppression, and names the dead
 * letter, so a redelivered bad message is filed once. `contentType` is the message's
 * `Content-Type` header, if it has one.
 */
export function intake(opts: IntakeOptions, subject: string, data: Uint8Array, receivedAt: number, transportId?: string, contentType?: string): Intake {
  const payload = ownBytes(data);
  const s = parseSubject(subject, opts.prefix, opts.tenants);
  const refuse = (code: string, reason: string, tenant: string | undefined, kind: DeadLetter['kind']): Intake => ({
    ok: false,
    deadLetter: {
      id: transportId ? `${opts.source}:${transportId}` : randomUUID(),
      tenant: tenant ?? opts.fallbackTenant,
      source: opts.source,
      kind,
      code,
      reason,
      receivedAt,
      raw: payload.length > MAX_MESSAGE_BYTES ? payload.subarray(0, MAX_MESSAGE_BYTES) : payload,
    },
  });
  if (!s.ok) return refuse('subject.invalid', s.reason, s.tenant, s.kind);
  const encoding = contentType ? encodingOfMediaType(contentType) : 'json';
  if (!encoding) return refuse('encoding.unsupported', `Content-Type ${JSON.stringify(contentType!.slice(0, 100))} names no supported encoding (application/json or application/msgpack)`, s.tenant, s.kind);
  if (payload.length > MAX_MESSAGE_BYTES) {
    return refuse('message.too_large', `message of ${payload.length} bytes exceeds ${MAX_MESSAGE_BYTES} (the first ${MAX_MESSAGE_BYTES} bytes are kept)`, s.tenant, s.kind);
  }
  return {
    ok: true,
    item: { kind: s.kind, tenant: s.tenant, source: opts.source, payload, ...(encoding !== 'json' ? { encoding } : {}), receivedAt, ...(transportId ? { transportId } : {}) },
  };
}

/** The message's `Content-Type` header (any case), if it has one. */
export function contentType(msg: { readonly headers?: MsgHdrs }): string | undefined {
  const v = msg.headers?.get('content-type', Match.IgnoreCase);
  return v ? v : undefined;
}

/** Offer without throwing: a full pipeline is `false` in both `onFull` modes. */
export function tryOffer(pipeline: Pipeline, item: InputItem, ack?: Ack): boolean {
  try {
    return pipeline.offer(item, ack);
  } catch (e) {
    if (e instanceof BackpressureError) return false;
    throw e;
  }
}

/** Offer, waiting for room as long as needed (never blocking the event loop); false once `stopped()`. */
export async function offerWhenReady(pipeline: Pipeline, item: InputItem, ack: Ack | undefined, stopped: () => boolean): Promise<boolean> {
  while (!tryOffer(pipeline, item, ack)) {
    if (stopped()) return false;
    await pipeline.ready();
  }
  return true;
}

/** Collects dead letters and writes them in one batch per turn of the event loop. */
export class DeadLetterBatch {
  private records: DeadLetter[] = [];
  private acks: Ack[] = [];
  private scheduled = false;

  constructor(private readonly pipeline: Pipeline) {}

  add(record: DeadLetter, ack?: Ack): void {
    this.records.push(record);
    if (ack) this.acks.push(ack);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (!this.records.length) return;
    const acks = this.acks;
    this.pipeline.deadLetter(this.records, () => {
      for (const a of acks) a();
    });
    this.records = [];
    this.acks = [];
  }
}
