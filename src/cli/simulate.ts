/**
 * `vigil simulate`: a simulated fleet written to files (per-kind JSONL, labels, fleet,
 * candump) with `--out`, or published to a running Vigil over MQTT or HTTP with `--to`.
 */
import { writeSimulationFiles } from '../adapters/files/sim-files.js';
import { openPublisher } from '../adapters/publish/index.js';
import { runSimulation, type RunSummary } from '../sim/index.js';
import { ConfigError } from '../core/errors.js';

export interface SimulateFlags {
  readonly vehicles: number;
  readonly seed: number;
  readonly duration: number;
  readonly start?: number;
  readonly attacks: boolean;
  readonly malformedRate: number;
  readonly out?: string;
  readonly to?: string;
  /** With --to: simulated seconds per wall second (0 = as fast as the receiver takes them). */
  readonly speed: number;
}

export async function runSimulateCommand(flags: SimulateFlags): Promise<void> {
  if ((flags.out === undefined) === (flags.to === undefined)) throw new ConfigError('vigil simulate needs exactly one of --out DIR or --to URL');
  const t0 = performance.now();
  const opts = {
    vehicles: flags.vehicles,
    seed: flags.seed,
    attacks: flags.attacks,
    malformedRate: flags.malformedRate,
    ...(flags.start !== undefined ? { start: flags.start } : flags.to !== undefined ? { start: Date.now() } : {}),
  };
  const summary = flags.out !== undefined ? await writeSimulationFiles(opts, { durationS: flags.duration }, { dir: flags.out }) : await publish(opts, flags);
  const s = (performance.now() - t0) / 1000;
  const n = (v: number): string => v.toLocaleString('en-US');
  process.stdout.write(
    `${flags.out ?? flags.to}: ${n(summary.vehicles)} vehicles, ${flags.duration} s simulated: ${n(summary.messages)} signals messages ` +
      `(${n(summary.signals)} signals, ${n(summary.malformed)} malformed), ${n(summary.securityEvents)} security events, ` +
      `${n(summary.logEvents)} log events, in ${s.toFixed(1)} s\n`,
  );
}

async function publish(opts: Parameters<typeof runSimulation>[0], flags: SimulateFlags): Promise<RunSummary> {
  const publisher = await openPublisher(flags.to!);
  const wallStart = Date.now();
  try {
    return await runSimulation(opts, { write: (items) => publisher.publish(items) }, {
      durationS: flags.duration,
      tickMs: 1000,
      pace: flags.speed > 0 ? async (simTime) => {
        // Hold simulated time to `speed` times wall time.
        const due = wallStart + (simTime - (opts.start ?? wallStart)) / flags.speed;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      } : undefined,
    });
  } finally {
    await publisher.close();
  }
}
