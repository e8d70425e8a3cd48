/**
 * Core NATS mode: plain subscriptions (wildcards allowed, optionally in a queue group). Core
 * NATS has neither acknowledgements nor flow control: the server pushes, and a client that
 * falls behind is cut off. So while the pipeline is full, messages wait here, in order, in a
 * backlog of at most `maxBuffered`; past it a message is dead-lettered as
 * `backpressure.overflow` with its raw bytes — a named, counted event, never a silent drop.
 * For delivery that waits for Vigil instead, use JetStream mode.
 */
import { randomUUID } from 'node:crypto';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { DeadLetter } from '../../core/records.js';
import type { InputItem } from '../../runtime/lane.js';
import type { Pipeline } from '../../runtime/pipeline.js';
import { contentType, DeadLetterBatch, intake, tryOffer, type IntakeOptions } from './intake.js';

export interface CoreOptions {
  readonly subjects: readonly string[];
  readonly queue?: string;
  readonly maxBuffered: number;
}

export interface CoreRunner {
  /** Messages waiting for room in the pipeline. */
  readonly backlog: number;
  stop(): Promise<void>;
}

export function startCore(nc: NatsConnection, pipeline: Pipeline, opts: CoreOptions, io: IntakeOptions): CoreRunner {
  const m = pipeline.metrics;
  const dead = new DeadLetterBatch(pipeline);
  let backlog: (InputItem | undefined)[] = [];
  let head = 0;
  let pumping: Promise<void> | undefined;

  const pump = async (): Promise<void> => {
    while (head < backlog.length) {
      if (tryOffer(pipeline, backlog[head]!)) backlog[head++] = undefined;
      else await pipeline.ready();
    }
    backlog = [];
    head = 0;
    pumping = undefined;
  };

  const onMessage = (msg: Msg): void => {
    m.inc('vigil_nats_messages_total');
    const r = intake(io, msg.subject, msg.data, Date.now(), undefined, contentType(msg));
    if (!r.ok) {
      m.inc('vigil_nats_dead_lettered_total');
      dead.add(r.deadLetter);
      return;
    }
    const waiting = backlog.length - head;
    if (waiting === 0 && tryOffer(pipeline, r.item)) return;
    if (waiting >= opts.maxBuffered) {
      m.inc('vigil_nats_overflow_total');
      dead.add(overflow(r.item, opts.maxBuffered));
      return;
    }
    backlog.push(r.item);
    pumping ??= pump();
  };

  const subs: Subscription[] = opts.subjects.map((subject) =>
    nc.subscribe(subject, {
      ...(opts.queue ? { queue: opts.queue } : {}),
      callback: (err, msg) => {
        if (!err) onMessage(msg);
      },
    }),
  );

  return {
    get backlog() {
      return backlog.length - head;
    },
    async stop() {
      // Drain: the server stops sending, and what it already sent is still handled.
      await Promise.all(subs.map((s) => (s.isClosed() || nc.isClosed() ? undefined : s.drain().catch(() => undefined))));
      await pumping;
      dead.flush();
    },
  };
}

function overflow(item: InputItem, maxBuffered: number): DeadLetter {
  const raw = typeof item.payload === 'string' ? new TextEncoder().encode(item.payload) : item.payload;
  return {
    id: randomUUID(), tenant: item.tenant, source: item.source, kind: item.kind, code: 'backpressure.overflow',
    reason: `pipeline full and ${maxBuffered} messages already waiting (core NATS cannot be slowed; JetStream mode can)`,
    receivedAt: item.receivedAt, raw,
  };
}
