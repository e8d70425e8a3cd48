/**
 * The scale-out roles of `vigil serve --role ingest|worker` (src/adapters/nats/README.md,
 * "Scale-out"). Both meet in NATS JetStream and the shared PostgreSQL of `scaleout`:
 * - ingest runs the configured sources into a Pipeline without lanes, which publishes each
 *   partition's hand-overs to the bus and acknowledges a source's message once the bus has it;
 * - worker owns partitions by lease and runs the lanes, writing their output with the store's
 *   fenced write groups. Start as many as the load needs; a dead one's partitions move.
 * The pseudonym secret must be the same everywhere: set its environment variable.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { SignalCatalog } from '../core/catalog.js';
import { systemClock, type Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import type { Store } from '../core/store.js';
import { PostgresStore } from '../adapters/postgres/postgres-store.js';
import { ensureBusStream, NatsPartitionPublisher } from '../adapters/nats/partition-bus.js';
import { PartitionWorker } from '../adapters/nats/partition-worker.js';
import { DEFAULT_SIGNALS } from '../sim/default-catalog.js';
import type { VigilConfig } from '../runtime/config.js';
import type { LaneOptions } from '../runtime/lane.js';
import { Pipeline } from '../runtime/pipeline.js';
import type { RunningSource } from '../runtime/sources/index.js';
import { loadBaselineParams } from './baseline-config.js';
import { loadDetection } from './detection.js';
import { loadGeoIp } from './geoip-config.js';
import { loadSecret } from './secret.js';
import { startSource } from './sources.js';
import { loadSecurityExtract, loadVssFiles } from './vigil.js';

export type ScaleoutConfig = NonNullable<VigilConfig['scaleout']>;

/** A running role. */
export interface RunningRole {
  readonly role: 'ingest' | 'worker';
  readonly pipeline?: Pipeline;
  readonly worker?: PartitionWorker;
  readonly sources: readonly RunningSource[];
  stop(): Promise<void>;
}

/** Wait between reconnect attempts to NATS; the client retries forever (a server restart pauses, never ends, a role). */
const RECONNECT_WAIT_MS = 250;

/** The scale-out settings and the shared PostgreSQL (`store.kind: postgres`) a role needs. */
export function scaleoutOf(config: VigilConfig): ScaleoutConfig & { postgres: { url: string; schema: string; poolSize: number } } {
  const problems: string[] = [];
  if (!config.scaleout) problems.push('scaleout: missing (an empty section takes the defaults)');
  if (config.store.kind !== 'postgres' || config.store.url === undefined) problems.push('store: a scale-out role needs kind: postgres with the shared database\'s url');
  if (problems.length) throw new ConfigError('not a scale-out configuration', problems);
  return { ...config.scaleout!, postgres: { url: config.store.url!, schema: config.store.schema, poolSize: config.store.poolSize } };
}

async function connectBus(s: ScaleoutConfig, name: string): Promise<NatsConnection> {
  return connect({ servers: [...s.servers], name, maxReconnectAttempts: -1, reconnectTimeWait: RECONNECT_WAIT_MS });
}

async function catalogOf(config: VigilConfig, store: Store): Promise<SignalCatalog> {
  const catalog = new SignalCatalog([...DEFAULT_SIGNALS, ...loadVssFiles(config.catalog.vss)], await store.signalDictionary(), 'vigil-default+vss');
  await store.saveSignalDictionary(catalog.dictionary());
  return catalog;
}

function secretOf(config: VigilConfig): string {
  const env = config.normalize.secretEnv;
  if (!process.env[env]) throw new ConfigError('scale-out roles need one pseudonym secret', [`set the environment variable ${env} to the same value for every process`]);
  return loadSecret(env, undefined).secret;
}

/** The ingest role: sources -> bus. */
export async function startIngestRole(config: VigilConfig, clock: Clock = systemClock): Promise<RunningRole> {
  const s = scaleoutOf(config);
  const secret = secretOf(config);
  const store = await PostgresStore.open(s.postgres);
  const nc = await connectBus(s, 'vigil-ingest');
  const bus = { stream: s.stream, subjectPrefix: s.subjectPrefix, partitions: config.runtime.partitions, replicas: s.replicas };
  await ensureBusStream(nc, bus);
  const publisher = new NatsPartitionPublisher(nc, bus);
  const catalog = await catalogOf(config, store);
  const { secretEnv: _env, geoipDatabase: _geoip, ...policy } = config.normalize;
  const pipeline = new Pipeline({ store, catalog, clock, policy, secret, ...config.runtime, detect: false, bus: publisher });
  await pipeline.start();
  const sources: RunningSource[] = [];
  for (const sc of config.sources) sources.push(await startSource(sc, { pipeline, defaultTenant: config.tenant, clock }));
  return {
    role: 'ingest',
    pipeline,
    sources,
    async stop() {
      for (const src of sources) await src.stop();
      await pipeline.stop();
      publisher.stop();
      await nc.drain().catch(() => undefined);
      await store.close();
    },
  };
}

/** The worker role: leases -> lanes -> store. */
export async function startWorkerRole(config: VigilConfig, opts: { clock?: Clock; name?: string; log?: (event: string, detail: Record<string, unknown>) => void } = {}): Promise<RunningRole> {
  const s = scaleoutOf(config);
  const secret = secretOf(config);
  const clock = opts.clock ?? systemClock;
  const store = await PostgresStore.open(s.postgres);
  const nc = await connectBus(s, 'vigil-worker');
  const bus = { stream: s.stream, subjectPrefix: s.subjectPrefix, partitions: config.runtime.partitions, replicas: s.replicas };
  await ensureBusStream(nc, bus);
  const catalog = await catalogOf(config, store);
  const detection = loadDetection(config.detection, catalog);
  const geoip = loadGeoIp(config.normalize.geoipDatabase);
  const { secretEnv: _env, geoipDatabase: _geoip, ...policy } = config.normalize;
  const lane: LaneOptions = {
    catalog: catalog.specs(),
    catalogIds: catalog.idMap(),
    policy,
    secret,
    detect: true,
    mode: 'full',
    securityExtract: loadSecurityExtract(config.security),
    baseline: loadBaselineParams(),
    ...(geoip ? { geoip } : {}),
    ...(detection.source.files.length ? { rules: detection.source.files, disabledRules: detection.source.disabled ?? [] } : {}),
  };
  const worker = await PartitionWorker.start(nc, {
    store, lane, clock, stream: s.stream, subjectPrefix: s.subjectPrefix, partitions: config.runtime.partitions,
    leaseStream: `${s.stream}_LEASES`, leaseTtlMs: s.leaseTtl, groupMessages: s.groupMessages,
    ...(opts.name ? { name: opts.name } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  return {
    role: 'worker',
    worker,
    sources: [],
    async stop() {
      await worker.stop();
      await nc.drain().catch(() => undefined);
      await store.close();
    },
  };
}
