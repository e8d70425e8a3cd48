/**
 * JetStream mode: a durable pull consumer. Each message is acknowledged only once the
 * pipeline says it is durable (stored, or dead-lettered); until then the server holds it,
 * and after `ackWaitMs` without an ack (Vigil stopped, crashed, lost the connection) it
 * delivers it again. `maxAckPending` is the backpressure bound: the server sends no more
 * than that many unacknowledged messages, and while the pipeline is full this consumer
 * stops pulling.
 *
 * Redelivery and duplicates: a redelivered message carries the same stream sequence. Its
 * item's `transportId` is `<stream>:<stream created ms>:<stream sequence>` (the creation time
 * tells a re-created stream's sequences apart), and the lane drops a signals message whose
 * id it has recently seen; the payload's own `seq`, when present, takes precedence. Security
 * and log events are idempotent in the store by record id already. Dead letters of bad
 * subjects are named by the same transport id, so they are filed once.
 */
import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager, type ConsumerConfig, type ConsumerMessages, type JetStreamManager } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { ConfigError } from '../../core/errors.js';
import type { Pipeline } from '../../runtime/pipeline.js';
import { contentType, DeadLetterBatch, intake, offerWhenReady, type IntakeOptions } from './intake.js';

export interface JetStreamOptions {
  readonly stream: string;
  readonly durable: string;
  readonly filterSubject: string;
  /** Create the stream and the consumer when missing. */
  readonly create: boolean;
  /** Subjects of a stream created here. */
  readonly streamSubjects: readonly string[];
  readonly maxAckPending: number;
  readonly ackWaitMs: number;
  /** Messages the client buffers per pull. */
  readonly batch: number;
}

export interface JetStreamRunner {
  /** Messages handed to the pipeline and not yet acknowledged. */
  readonly unacked: number;
  /** The consumer's settings as the server has them. */
  readonly settings: { readonly maxAckPending: number; readonly ackWaitMs: number };
  readonly lastError: Error | undefined;
  stop(): Promise<void>;
}

/** Pause before consuming again after the consumer failed (server restart, consumer deleted). */
const RETRY_MS = 1000;

export async function startJetStream(nc: NatsConnection, pipeline: Pipeline, opts: JetStreamOptions, io: IntakeOptions): Promise<JetStreamRunner> {
  const m = pipeline.metrics;
  const jsm = await jetstreamManager(nc);
  const streamCreated = await ensureStream(jsm, opts);
  const info = await ensureConsumer(jsm, opts);
  const consumer = await jetstream(nc).consumers.get(opts.stream, opts.durable);
  const dead = new DeadLetterBatch(pipeline);
  let stopped = false;
  let unacked = 0;
  let lastError: Error | undefined;
  let current: ConsumerMessages | undefined;
  let idle: (() => void) | undefined;

  const run = async (): Promise<void> => {
    while (!stopped && !nc.isClosed()) {
      try {
        current = await consumer.consume({ max_messages: opts.batch });
        for await (const msg of current) {
          m.inc('vigil_nats_messages_total');
          if (msg.redelivered) m.inc('vigil_nats_redelivered_total');
          unacked++;
          const ack = (): void => {
            try {
              if (nc.isClosed()) throw new Error('connection closed');
              msg.ack();
            } catch {
              // The connection is gone: the server will deliver the message again.
              m.inc('vigil_nats_ack_failed_total');
            }
            if (--unacked === 0) idle?.();
          };
          const r = intake(io, msg.subject, msg.data, Date.now(), `${opts.stream}:${streamCreated}:${msg.seq}`, contentType(msg));
          if (!r.ok) {
            m.inc('vigil_nats_dead_lettered_total');
            dead.add(r.deadLetter, ack);
          } else if (!(await offerWhenReady(pipeline, r.item, ack, () => stopped))) {
            // Stopping while the pipeline is full: not taken, so not acknowledged; it is redelivered.
            if (--unacked === 0) idle?.();
            break;
          }
        }
      } catch (e) {
        lastError = e as Error;
      }
      if (!stopped && !nc.isClosed()) await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  };
  const running = run();

  return {
    get unacked() {
      return unacked;
    },
    settings: { maxAckPending: info.max_ack_pending ?? opts.maxAckPending, ackWaitMs: Math.round((info.ack_wait ?? nanos(opts.ackWaitMs)) / 1e6) },
    get lastError() {
      return lastError;
    },
    async stop() {
      stopped = true;
      await current?.close().catch(() => undefined);
      // Wait for what the pipeline holds, so it is acknowledged now rather than redelivered later.
      if (unacked > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, opts.ackWaitMs);
          idle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      await running;
    },
  };
}

const isApiError = (e: unknown, code: number): boolean => e instanceof JetStreamApiError && e.code === code;

/** The stream's creation time (epoch ms), creating the stream if configured to. */
async function ensureStream(jsm: JetStreamManager, opts: JetStreamOptions): Promise<number> {
  try {
    return Date.parse((await jsm.streams.info(opts.stream)).created);
  } catch (e) {
    if (!isApiError(e, JetStreamApiCodes.StreamNotFound)) throw e;
    if (!opts.create) throw new ConfigError(`NATS stream "${opts.stream}" does not exist; create it, or set jetstream.create: true`, [], { cause: e });
    return Date.parse((await jsm.streams.add({ name: opts.stream, subjects: [...opts.streamSubjects] })).created);
  }
}

async function ensureConsumer(jsm: JetStreamManager, opts: JetStreamOptions): Promise<ConsumerConfig> {
  try {
    return (await jsm.consumers.info(opts.stream, opts.durable)).config;
  } catch (e) {
    if (!isApiError(e, JetStreamApiCodes.ConsumerNotFound)) throw e;
    if (!opts.create) throw new ConfigError(`NATS consumer "${opts.durable}" of stream "${opts.stream}" does not exist; create it, or set jetstream.create: true`, [], { cause: e });
    const created = await jsm.consumers.add(opts.stream, {
      durable_name: opts.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: opts.filterSubject,
      max_ack_pending: opts.maxAckPending,
      ack_wait: nanos(opts.ackWaitMs),
    });
    return created.config;
  }
}
