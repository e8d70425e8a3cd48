/**
 * Helpers of the scale-out tests: labelled simulator input, the embedded reference run, role
 * processes (`vigil serve --role ...` through tsx) and their config, publishing the input to
 * the ingest role's JetStream source.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { stringify } from 'yaml';
import { SignalCatalog } from '../../src/core/catalog.js';
import { systemClock } from '../../src/core/clock.js';
import type { Alert } from '../../src/core/records.js';
import { DuckDBStore } from '../../src/adapters/duckdb/duckdb-store.js';
import { loadBaselineParams } from '../../src/api/baseline-config.js';
import { loadDetection } from '../../src/api/detection.js';
import { parseConfig, type VigilConfig } from '../../src/runtime/config.js';
import { Pipeline } from '../../src/runtime/pipeline.js';
import { runSimulation } from '../../src/sim/run.js';
import type { SimItem } from '../../src/sim/events.js';
import { DEFAULT_SIGNALS } from '../../src/sim/default-catalog.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const SECRET = 'scaleout-test-secret';

/**
 * Rules left out of the comparison with the embedded run: fleet correlation (`source: alert`)
 * runs once over all workers' alerts in the embedded pipeline and not yet in scale-out, and
 * absence rules are judged against the wall clock, so no two runs agree on them.
 */
export const NOT_COMPARED = [
  'fleet.campaign-any-rule', 'fleet.ota-tampering-campaign', 'fleet.gnss-spoofing-area', 'fleet.ids-silence-wave',
  'connectivity.offline-while-moving', 'ids.heartbeat-missing-while-active', 'ids.heartbeat-missing',
];

/** Simulator output (signals and security events of vehicles, attacks included) of at least `signals` signal values. */
export async function labelledInput(signals: number, vehicles: number): Promise<{ items: SimItem[]; signals: number; labels: number }> {
  const items: SimItem[] = [];
  let n = 0;
  let labels = 0;
  const stop = new AbortController();
  await runSimulation(
    { vehicles, seed: 9, attacks: true, attackEveryS: 30 },
    {
      write: (batch) => {
        for (const it of batch) {
          // Back-end events without a vehicle are routed round-robin: not comparable between runs.
          if (it.kind === 'log' || !it.vin) continue;
          items.push(it);
        }
        n = items.length;
        if (approxSignals(items) >= signals) stop.abort();
      },
      labels: (l) => void (labels += l.length),
    },
    { durationS: 86_400, signal: stop.signal },
  );
  return { items, signals: approxSignals(items), labels: labels + 0 * n };
}

let counted = 0;
let countedSignals = 0;
/** Signal values in the items' payloads (entries of `signals` plus samples), counted incrementally. */
function approxSignals(items: readonly SimItem[]): number {
  if (counted > items.length) [counted, countedSignals] = [0, 0];
  for (; counted < items.length; counted++) {
    const it = items[counted]!;
    if (it.kind !== 'signals') continue;
    try {
      const m = JSON.parse(it.payload) as { signals?: Record<string, unknown>; samples?: unknown[] };
      countedSignals += Object.keys(m.signals ?? {}).length + (m.samples?.length ?? 0);
    } catch {
      // malformed on purpose: dead-lettered
    }
  }
  return countedSignals;
}

/** The config every process of a run shares. */
export function scaleoutConfig(run: string, pg: { url: string; schema: string }, partitions: number, nats = 'nats://127.0.0.1:4222'): Record<string, unknown> {
  return {
    tenant: 'demo',
    dataDir: path.join(tmpdir(), `vigil-scaleout-${run}`),
    http: { enabled: false },
    // One message per hand-over in both runs: a lane's rules see the signals and security events of one
    // hand-over grouped by kind, so results can depend on where hand-overs are cut (timing-dependent).
    runtime: { partitions, workers: 1, handoffBatch: 1 },
    normalize: { secretEnv: 'VIGIL_PSEUDONYM_SECRET' },
    detection: { disabled: NOT_COMPARED },
    store: { kind: 'postgres', url: pg.url, schema: pg.schema, poolSize: 4 },
    scaleout: { servers: [nats], stream: `VB_${run}`, subjectPrefix: `vb${run}`, leaseTtl: 3000, groupMessages: 2000 },
    sources: [
      {
        type: 'nats', name: 'in', servers: [nats], subjectPrefix: `vin${run}`,
        jetstream: { stream: `VIN_${run}`, durable: 'ingest', create: true, streamSubjects: [`vin${run}.>`], maxAckPending: 20_000, batch: 1000 },
      },
    ],
  };
}

export function writeConfig(raw: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-scaleout-cfg-'));
  const file = path.join(dir, 'vigil.yaml');
  writeFileSync(file, stringify(raw));
  return file;
}

/** A role process; its output is kept for failure messages. */
export interface RoleProcess {
  readonly child: ChildProcess;
  readonly output: string[];
  readonly exited: Promise<number | null>;
}

export function spawnRole(role: 'ingest' | 'worker', configFile: string): RoleProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--role', role, '-c', configFile], {
    cwd: REPO,
    env: { ...process.env, VIGIL_PSEUDONYM_SECRET: SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (b: Buffer): void => {
    output.push(b.toString());
    if (output.length > 400) output.splice(0, 100);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output, exited };
}

/** Publish items to the ingest role's input stream, a window of publishes in flight. */
export async function publishInput(nc: NatsConnection, run: string, items: readonly SimItem[]): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: `VIN_${run}`, subjects: [`vin${run}.>`] }).catch(() => undefined);
  const js = jetstream(nc);
  const WINDOW = 2000;
  for (let i = 0; i < items.length; i += WINDOW) {
    await Promise.all(items.slice(i, i + WINDOW).map((it) => js.publish(`vin${run}.${it.tenant}.${it.vin}.${it.kind}`, it.payload)));
  }
}

/** The embedded run of the same input: lanes inline, one per partition as in scale-out. */
export async function embeddedRun(config: VigilConfig, items: readonly SimItem[]): Promise<{ signals: number; alerts: Alert[]; deadLetters: number }> {
  const store = await DuckDBStore.open({ path: ':memory:', threads: 1 });
  try {
    const catalog = new SignalCatalog([...DEFAULT_SIGNALS], await store.signalDictionary(), 'vigil-default+vss');
    const detection = loadDetection(config.detection, catalog);
    const { secretEnv: _s, geoipDatabase: _g, ...policy } = config.normalize;
    const p = config.runtime.partitions;
    const pipeline = new Pipeline({
      store, catalog, clock: systemClock, policy, secret: SECRET, baseline: loadBaselineParams(),
      rules: detection.source, ruleTickIntervalMs: 0, checkpointIntervalMs: 0,
      ...config.runtime, workers: p, partitions: p, inline: true,
    });
    await pipeline.start();
    for (const it of items) await pipeline.push({ kind: it.kind, tenant: it.tenant, source: 'nats:in', payload: it.payload, receivedAt: Date.now() });
    await pipeline.drain();
    await pipeline.stop();
    const counts = await store.counts();
    const alerts: Alert[] = [];
    for (const t of new Set(items.map((i) => i.tenant))) alerts.push(...(await store.listAlerts({ tenant: t, limit: 1_000_000 })));
    return { signals: counts.signals, alerts, deadLetters: counts.deadLetters };
  } finally {
    await store.close();
  }
}

export { parseConfig };
