/**
 * `vigil eval fleet`: the simulator's fleet, attacks included, through the real pipeline
 * (inline lanes, DuckDB in memory, the configured rule pack, a manual clock driven by the
 * simulation), then the stored alerts scored against the ground-truth labels.
 */
import { Command, InvalidArgumentError } from 'commander';
import { startVigil } from '../api/vigil.js';
import { ManualClock } from '../core/clock.js';
import type { Alert } from '../core/records.js';
import { scoreFleet, type FleetScore } from '../detect/eval-fleet.js';
import { Pseudonymizer } from '../normalize/pseudonym.js';
import { parseConfig } from '../runtime/config.js';
import type { InputItem } from '../runtime/lane.js';
import { FleetSimulator, type ScenarioLabel } from '../sim/index.js';

export interface FleetEvalOptions {
  readonly vehicles: number;
  readonly durationS: number;
  readonly seed: number;
  /** Rule folders or files (default: the shipped pack). */
  readonly rules?: readonly string[];
}

export interface FleetEvalResult {
  readonly score: FleetScore;
  readonly rules: number;
  readonly signalRows: number;
  readonly seconds: number;
}

const SECRET_ENV = 'VIGIL_EVAL_FLEET_SECRET';
/** Clock ticks for absence rules, in simulated time. */
const TICK_EVERY_MS = 10_000;

/** Run the simulated fleet through the pipeline and score what it raised. */
export async function evalFleet(o: FleetEvalOptions): Promise<FleetEvalResult> {
  const secret = `eval-fleet-${o.seed}-0123456789abcdef`;
  process.env[SECRET_ENV] = secret;
  const sim = new FleetSimulator({ vehicles: o.vehicles, seed: o.seed, attacks: true, malformedRate: 0 });
  const start = sim.options.start;
  const clock = new ManualClock(start);
  const config = parseConfig({
    store: { path: ':memory:' }, http: { enabled: false },
    runtime: { workers: 2, partitions: 16 },
    normalize: { secretEnv: SECRET_ENV },
    detection: { ...(o.rules ? { rules: [...o.rules] } : {}), tickIntervalMs: 3_600_000 },
  });
  const t0 = performance.now();
  const v = await startVigil(config, { clock, inline: true });
  const labels: ScenarioLabel[] = [];
  let items: InputItem[] = [];
  try {
    const end = start + o.durationS * 1000;
    for (let t = start; t < end; t += 1000) {
      sim.tick(t, { item: (it) => items.push({ kind: it.kind, tenant: it.tenant, source: 'sim', payload: it.payload, receivedAt: t }), label: (l) => labels.push(l) });
      clock.set(t + 500);
      for (const it of items) await v.pipeline.push(it);
      items = [];
      // Lanes take this second's messages now, at this second's clock; the store catches up every tick.
      await new Promise((r) => setImmediate(r));
      if ((t - start) % TICK_EVERY_MS === 0) {
        v.pipeline.tickRules();
        await v.pipeline.drain();
      }
    }
    await v.pipeline.drain();
    const alerts: Alert[] = [];
    for (let offset = 0; ; offset += 10_000) {
      const page = await v.store.listAlerts({ tenant: sim.options.tenants[0]!, limit: 10_000, offset });
      alerts.push(...page);
      if (page.length < 10_000) break;
    }
    const names = new Pseudonymizer(secret);
    const score = scoreFleet(labels.filter((l) => l.scenario !== 'malformed'), alerts, {
      vehicleKey: (tenant, vin) => names.key(tenant, vin), vehicles: o.vehicles, durationMs: o.durationS * 1000,
    });
    return { score, rules: v.pipeline.ruleCount, signalRows: v.pipeline.metrics.get('vigil_signals_stored_total'), seconds: (performance.now() - t0) / 1000 };
  } finally {
    await v.stop();
  }
}

const pct = (x: number): string => (Number.isNaN(x) ? '-' : `${Math.round(x * 100)}%`);
const secs = (x: number): string => (Number.isNaN(x) ? '-' : `${Math.round(x)}s`);

/** The per-scenario table and the false-alarm lines. */
export function formatFleetEval(r: FleetEvalResult, o: FleetEvalOptions): string {
  const s = r.score;
  const rows = [['scenario', 'labels', 'recall', 'precision', 'ttd p50', 'ttd max', 'rules'], ...s.scenarios.map((x) => [
    x.scenario, String(x.labels), `${pct(x.recall)} (${x.detected})`, pct(x.precision), secs(x.ttdMedianS), secs(x.ttdMaxS), x.rules.slice(0, 3).join(', ') + (x.rules.length > 3 ? ` +${x.rules.length - 3}` : ''),
  ])];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const table = rows.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n');
  const top = s.falseByRule.slice(0, 5).map((f) => `${f.rule} ${f.alerts}`).join(', ');
  return [
    `${o.vehicles} vehicles, ${o.durationS} s, seed ${o.seed}; ${r.rules} rules; ${r.signalRows.toLocaleString('en')} signal rows in ${r.seconds.toFixed(1)} s`,
    table,
    `alerts ${s.alerts}, unexplained ${s.unexplained}; false on attack-free vehicles: ${s.falseAlerts} = ${s.falsePerVehicleHour.toFixed(3)} per vehicle-hour; back-end false alerts ${s.falseFleetPerHour.toFixed(1)} per hour`,
    ...(top ? [`unexplained by rule: ${top}`] : []),
  ].join('\n');
}

function intAtLeast(min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
    return n;
  };
}

/** `vigil eval fleet`. */
export function evalFleetCommand(): Command {
  return new Command('fleet')
    .description('run the simulated fleet with attacks through the pipeline and score the alerts per scenario (recall, precision, time to detect, false alerts per vehicle-hour)')
    .option('--vehicles <n>', 'vehicles in the fleet', intAtLeast(1), 100)
    .option('--duration <s>', 'simulated seconds (an attack every 120 s, 9 scenarios in rotation)', intAtLeast(60), 1800)
    .option('--seed <n>', 'simulator seed', intAtLeast(0), 7)
    .option('--rules <paths...>', 'rule folders or files (default: the shipped pack)')
    .option('--json', 'the score as one JSON object')
    .action(async (flags: { vehicles: number; duration: number; seed: number; rules?: string[]; json?: boolean }) => {
      const o: FleetEvalOptions = { vehicles: flags.vehicles, durationS: flags.duration, seed: flags.seed, ...(flags.rules ? { rules: flags.rules } : {}) };
      const r = await evalFleet(o);
      process.stdout.write(flags.json ? `${JSON.stringify({ ...o, rules: r.rules, signalRows: r.signalRows, seconds: r.seconds, ...r.score })}\n` : `${formatFleetEval(r, o)}\n`);
    });
}
