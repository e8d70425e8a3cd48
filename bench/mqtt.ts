/**
 * What the MQTT scenarios share (bench/scenarios/mqtt-*.ts): a Vigil with the embedded
 * broker on a fresh DuckDB file, publisher processes (bench/mqtt-publisher.ts) that connect
 * over TCP, and phases — a warm-up, the measured QoS 1 run, optionally a QoS 0 run — each
 * timed from the first publish to the last PUBACK (QoS 1: the rows are durable) or to the
 * moment the store holds every row (QoS 0). At the end the store must hold every signal
 * published and no dead letter, or the scenario throws.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { MqttBrokerSource } from '../src/adapters/mqtt/broker.js';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import { parseConfig } from '../src/runtime/config.js';
import { peakRssMb } from './harness.js';
import type { Done, Job } from './mqtt-publisher.js';

export interface MqttScenario {
  readonly name: string;
  readonly shape: 'single' | 'batched';
  /** Default messages of the measured run, vehicles, connections per publisher and QoS 1 window per connection. */
  readonly messages: number;
  readonly vehicles: number;
  readonly connections: number;
  readonly window: number;
  readonly signalsPerMessage: number;
  readonly target: { readonly messagesPerS?: number; readonly signalsPerS?: number };
}

interface PhaseResult {
  readonly qos: 0 | 1;
  readonly messages: number;
  readonly signals: number;
  readonly seconds: number;
  readonly latencies: number[];
  /** CPU cores busy on average: this process (broker, pipeline, store), the publishers, the whole machine. */
  readonly brokerCores: number;
  readonly publisherCores: number;
  readonly machineCores: number;
  readonly publisherRssMb: number;
}

const TENANT = 'bench';
const STORED = 'vigil_signals_stored_total';
const now = (): number => performance.timeOrigin + performance.now();
const round = (x: number, digits = 0): number => Math.round(x * 10 ** digits) / 10 ** digits;

function options(s: MqttScenario) {
  const { values } = parseArgs({
    strict: false,
    options: {
      json: { type: 'boolean', default: false },
      messages: { type: 'string', default: String(s.messages) },
      vehicles: { type: 'string', default: String(s.vehicles) },
      publishers: { type: 'string', default: '1' },
      connections: { type: 'string', default: String(s.connections) },
      window: { type: 'string', default: String(s.window) },
      'signals-per-message': { type: 'string', default: String(s.signalsPerMessage) },
      'skip-qos0': { type: 'boolean', default: false },
      workers: { type: 'string' },
    },
  });
  const int = (k: keyof typeof values, min: number): number => {
    const n = Number(values[k]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${k} must be an integer >= ${min}, got ${String(values[k])}`);
    return n;
  };
  const o = {
    json: values.json === true,
    messages: int('messages', 1),
    vehicles: int('vehicles', 1),
    publishers: int('publishers', 1),
    connections: int('connections', 1),
    window: int('window', 1),
    signalsPerMessage: s.shape === 'single' ? 1 : int('signals-per-message', 10),
    qos0: values['skip-qos0'] !== true,
    workers: values.workers === undefined ? undefined : int('workers', 1),
  };
  if (s.shape === 'batched' && o.signalsPerMessage % 10 !== 0) throw new Error('--signals-per-message must be a multiple of 10 (the bench samples 10 signals)');
  if (o.vehicles < o.publishers) throw new Error('--vehicles must be at least --publishers');
  return o;
}

/** Busy and total jiffies of the whole machine, from /proc/stat (Linux; zeros elsewhere). */
function machineTicks(): { busy: number; total: number } {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - f[3]! - f[4]!, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}
const CLOCK_TICKS_PER_S = 100;

function quantile(sorted: readonly number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN;
}

/** The next IPC message of a publisher; a publisher that exits first fails the run. */
function next<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`an MQTT publisher exited with ${code} (see its stderr)`));
    child.once('exit', onExit);
    child.once('message', (m) => {
      child.off('exit', onExit);
      resolve(m as T);
    });
  });
}

class Rig {
  private readonly publishers: ChildProcess[];
  private step = 0;
  private published = 0;

  private constructor(
    readonly vigil: Vigil,
    readonly port: number,
    private readonly dir: string,
    private readonly o: ReturnType<typeof options>,
    private readonly s: MqttScenario,
    private readonly ts: number,
  ) {
    const entry = fileURLToPath(new URL('./mqtt-publisher.ts', import.meta.url));
    // Explicit execArgv: a profiled (--cpu-prof) scenario must not profile its publishers too.
    this.publishers = Array.from({ length: o.publishers }, () => fork(entry, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
  }

  static async start(s: MqttScenario, o: ReturnType<typeof options>): Promise<Rig> {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-mqtt-'));
    const config = parseConfig({
      tenant: TENANT, dataDir: dir, store: { path: 'bench.duckdb' }, http: { enabled: false },
      ...(o.workers ? { runtime: { workers: o.workers } } : {}),
      sources: [{ type: 'mqtt-broker', name: 'bench', port: 0, tenants: [TENANT] }],
    });
    const vigil = await startVigil(config);
    const port = (vigil.sources[0] as MqttBrokerSource).port;
    // Event times start an hour back so every run's data is neither future nor late.
    return new Rig(vigil, port, dir, o, s, Date.now() - 3_600_000);
  }

  /** Publish `steps` messages per vehicle at this QoS; time it from first publish to durable. */
  async phase(qos: 0 | 1, steps: number): Promise<PhaseResult> {
    const { o, s } = this;
    const per = Math.floor(o.vehicles / o.publishers);
    this.publishers.forEach((p, k) => {
      const job: Job = {
        type: 'job', port: this.port, qos, connections: o.connections, window: o.window, tenant: TENANT, shape: s.shape,
        signalsPerMessage: o.signalsPerMessage, ts: this.ts, steps, firstStep: this.step,
        firstVehicle: k * per, vehicles: k === o.publishers - 1 ? o.vehicles - k * per : per,
      };
      p.send(job);
    });
    this.step += steps;
    await Promise.all(this.publishers.map((p) => next(p)));
    const stored0 = this.vigil.pipeline.metrics.get(STORED);
    const cpu0 = process.cpuUsage();
    const ticks0 = machineTicks();
    const dones = this.publishers.map((p) => next<Done>(p));
    for (const p of this.publishers) p.send({ type: 'go' });
    const done = await Promise.all(dones);
    const signals = done.reduce((a, d) => a + d.signals, 0);
    const messages = done.reduce((a, d) => a + d.messages, 0);
    let endedAt = Math.max(...done.map((d) => d.endedAt));
    if (qos === 0) {
      // No PUBACK: the run ends when the store holds every row.
      const deadline = Date.now() + 120_000;
      while (this.vigil.pipeline.metrics.get(STORED) - stored0 < signals) {
        if (Date.now() > deadline) throw new Error(`QoS 0: ${this.vigil.pipeline.metrics.get(STORED) - stored0} of ${signals} signals stored after 120 s`);
        await new Promise((r) => setTimeout(r, 1));
      }
      endedAt = now();
    }
    const startedAt = Math.min(...done.map((d) => d.startedAt));
    const seconds = (endedAt - startedAt) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const ticks1 = machineTicks();
    this.published += signals;
    return {
      qos, messages, signals, seconds,
      latencies: done.flatMap((d) => d.latencies).sort((a, b) => a - b),
      brokerCores: (cpu.user + cpu.system) / 1e6 / seconds,
      publisherCores: done.reduce((a, d) => a + d.cpuMs, 0) / 1000 / seconds,
      machineCores: (ticks1.busy - ticks0.busy) / CLOCK_TICKS_PER_S / seconds,
      publisherRssMb: Math.max(...done.map((d) => d.rssMb)),
    };
  }

  /** Every signal published is in the store, and nothing was dead-lettered; else throws. */
  async verify(): Promise<{ signals: number }> {
    await this.vigil.pipeline.drain();
    const c = await this.vigil.store.counts(TENANT);
    if (c.deadLetters > 0) {
      const [d] = await this.vigil.store.listDeadLetters({ tenant: TENANT, limit: 1, offset: 0 });
      throw new Error(`${c.deadLetters} dead letters, e.g. ${d?.code}: ${d?.reason}`);
    }
    if (c.signals !== this.published) throw new Error(`the store holds ${c.signals} signals, ${this.published} were published`);
    return { signals: c.signals };
  }

  async close(): Promise<void> {
    for (const p of this.publishers) p.disconnect();
    await this.vigil.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Run one MQTT scenario: warm-up, measured QoS 1 run, QoS 0 run; print the figures. */
export async function runMqttScenario(s: MqttScenario): Promise<void> {
  const o = options(s);
  const say = (line: string): void => {
    if (!o.json) process.stderr.write(`${line}\n`);
  };
  const steps = Math.max(1, Math.round(o.messages / o.vehicles));
  const rig = await Rig.start(s, o);
  try {
    // Warm-up: JIT, every vehicle's twin and pseudonym, DuckDB's first row groups.
    await rig.phase(1, Math.max(1, Math.ceil(steps / 10)));
    const q1 = await rig.phase(1, steps);
    const q0 = o.qos0 ? await rig.phase(0, steps) : undefined;
    const { signals: stored } = await rig.verify();

    const rate = (p: PhaseResult): { messages: number; signals: number } => ({ messages: p.messages / p.seconds, signals: p.signals / p.seconds });
    const r1 = rate(q1);
    const p50 = round(quantile(q1.latencies, 0.5), 1);
    const p99 = round(quantile(q1.latencies, 0.99), 1);
    const cpu = (p: PhaseResult): string =>
      `CPU: ${((p.brokerCores * p.seconds * 1e6) / p.messages).toFixed(1)} µs per message in the broker process (all threads); cores busy: broker process ${p.brokerCores.toFixed(2)}, publishers ${p.publisherCores.toFixed(2)}, whole machine ${p.machineCores.toFixed(2)} of 2 (others ${Math.max(0, p.machineCores - p.brokerCores - p.publisherCores).toFixed(2)})`;
    say(`${s.name}: ${q1.messages.toLocaleString()} messages, ${q1.signals.toLocaleString()} signals (${o.signalsPerMessage} per message), ${o.vehicles.toLocaleString()} vehicles, ${o.publishers} x ${o.connections} connections, window ${o.window}`);
    say(`QoS 1 (publish -> PUBACK = durable): ${Math.round(r1.messages).toLocaleString()} messages/s, ${Math.round(r1.signals).toLocaleString()} signals/s (${q1.seconds.toFixed(2)} s); PUBACK p50 ${p50} ms, p99 ${p99} ms`);
    say(`  ${cpu(q1)}`);
    if (q0) {
      const r0 = rate(q0);
      say(`QoS 0 (publish -> stored):            ${Math.round(r0.messages).toLocaleString()} messages/s, ${Math.round(r0.signals).toLocaleString()} signals/s (${q0.seconds.toFixed(2)} s)`);
      say(`  ${cpu(q0)}`);
    }
    const { messagesPerS, signalsPerS } = s.target;
    const met = (messagesPerS === undefined || r1.messages >= messagesPerS) && (signalsPerS === undefined || r1.signals >= signalsPerS);
    say(`target ${messagesPerS ? `>= ${messagesPerS.toLocaleString()} messages/s` : `>= ${signalsPerS?.toLocaleString()} signals/s`} (QoS 1): ${met ? 'met' : 'NOT met'}; store verified: ${stored.toLocaleString()} signals, no dead letters; peak RSS ${peakRssMb()} MB`);

    const result = {
      name: s.name,
      messages_per_s: Math.round(r1.messages),
      signals_per_s: Math.round(r1.signals),
      signals_per_message: o.signalsPerMessage,
      p50_ms: p50,
      p99_ms: p99,
      peak_rss_mb: peakRssMb(),
      ...(q0 ? { qos0_messages_per_s: Math.round(rate(q0).messages), qos0_signals_per_s: Math.round(rate(q0).signals) } : {}),
      target_met: met,
      messages: q1.messages,
      signals: q1.signals,
      seconds: round(q1.seconds, 3),
      vehicles: o.vehicles,
      publishers: o.publishers,
      connections: o.publishers * o.connections,
      window: o.window,
      workers: rig.vigil.pipeline.metrics.get('vigil_workers'),
      broker_cpu_cores: round(q1.brokerCores, 2),
      broker_cpu_us_per_message: round((q1.brokerCores * q1.seconds * 1e6) / q1.messages, 1),
      publisher_cpu_cores: round(q1.publisherCores, 2),
      machine_busy_cores: round(q1.machineCores, 2),
      loadavg_1m: round(loadavg()[0]!, 2),
      publisher_rss_mb: q1.publisherRssMb,
      stored_signals: stored,
    };
    if (o.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await rig.close();
  }
}
