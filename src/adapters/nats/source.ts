/**
 * The NATS source (`type: nats`): messages on `<prefix>.<tenant>.<vehicle>.<kind>` from a
 * core NATS subscription, or — with a `jetstream` section — from a durable JetStream
 * consumer that acknowledges each message once it is durable. See README.md beside this file.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { SourceConfig } from '../../runtime/config.js';
import type { RunningSource, SourceDeps } from '../../runtime/sources/index.js';
import { startCore, type CoreRunner } from './core.js';
import type { IntakeOptions } from './intake.js';
import { startJetStream, type JetStreamRunner } from './jetstream.js';

export type NatsSourceConfig = Extract<SourceConfig, { type: 'nats' }>;

export interface NatsSource extends RunningSource {
  /** The client connection (status, and tests that cut it to simulate a crash). */
  readonly connection: NatsConnection;
  readonly mode: 'core' | 'jetstream';
}

export async function startNatsSource(config: NatsSourceConfig, deps: SourceDeps): Promise<NatsSource> {
  const m = deps.pipeline.metrics;
  m.counter('vigil_nats_messages_total', 'Messages received from NATS', { rate: true });
  m.counter('vigil_nats_dead_lettered_total', 'NATS messages dead-lettered before the pipeline (subject.invalid, encoding.unsupported, message.too_large)');
  m.counter('vigil_nats_overflow_total', 'Core NATS messages dead-lettered because the pipeline stayed full (backpressure.overflow)');
  m.counter('vigil_nats_redelivered_total', 'JetStream messages delivered again (not acknowledged in time before)');
  m.counter('vigil_nats_ack_failed_total', 'JetStream acks that could not be sent (the message is redelivered)');

  const prefix = config.subjectPrefix;
  const io: IntakeOptions = {
    source: `nats:${config.name}`,
    prefix,
    ...(config.tenants ? { tenants: new Set(config.tenants) } : {}),
    fallbackTenant: config.tenant ?? deps.defaultTenant,
  };
  const nc = await connect({ servers: [...config.servers], name: `vigil-${config.name}`, maxReconnectAttempts: -1, reconnectTimeWait: 1000 });
  const all = `${prefix}.>`;
  let runner: CoreRunner | JetStreamRunner;
  let describe: string;
  try {
    if (config.jetstream) {
      const js = config.jetstream;
      const filterSubject = js.filterSubject ?? all;
      const r = await startJetStream(nc, deps.pipeline, { ...js, filterSubject, streamSubjects: js.streamSubjects ?? [filterSubject] }, io);
      runner = r;
      describe = `NATS JetStream "${config.name}": stream ${js.stream}, durable ${js.durable}, filter ${filterSubject}, max_ack_pending ${r.settings.maxAckPending} (${config.servers.join(', ')})`;
    } else {
      const subjects = config.subjects ?? [all];
      runner = startCore(nc, deps.pipeline, { subjects, maxBuffered: config.maxBuffered, ...(config.queue ? { queue: config.queue } : {}) }, io);
      describe = `NATS "${config.name}": ${subjects.join(', ')}${config.queue ? ` (queue ${config.queue})` : ''} (${config.servers.join(', ')})`;
    }
  } catch (e) {
    await nc.close();
    throw e;
  }

  return {
    name: config.name,
    connection: nc,
    mode: config.jetstream ? 'jetstream' : 'core',
    describe: () => describe,
    async stop() {
      await runner.stop();
      if (!nc.isClosed()) await nc.drain().catch(() => nc.close());
    },
  };
}
