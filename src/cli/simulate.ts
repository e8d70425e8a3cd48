/** `vigil simulate`: a simulated fleet written to files (per-kind JSONL, labels, fleet, candump). */
import { writeSimulationFiles } from '../adapters/files/sim-files.js';

export interface SimulateFlags {
  readonly vehicles: number;
  readonly seed: number;
  readonly duration: number;
  readonly start?: number;
  readonly attacks: boolean;
  readonly malformedRate: number;
  readonly out: string;
}

export async function runSimulateCommand(flags: SimulateFlags): Promise<void> {
  const t0 = performance.now();
  const summary = await writeSimulationFiles(
    {
      vehicles: flags.vehicles,
      seed: flags.seed,
      attacks: flags.attacks,
      malformedRate: flags.malformedRate,
      ...(flags.start !== undefined ? { start: flags.start } : {}),
    },
    { durationS: flags.duration },
    { dir: flags.out },
  );
  const s = (performance.now() - t0) / 1000;
  const n = (v: number): string => v.toLocaleString('en-US');
  process.stdout.write(
    `${flags.out}: ${n(summary.vehicles)} vehicles, ${flags.duration} s simulated: ${n(summary.messages)} signals messages ` +
      `(${n(summary.signals)} signals, ${n(summary.malformed)} malformed), ${n(summary.securityEvents)} security events, ` +
      `${n(summary.logEvents)} log events, in ${s.toFixed(1)} s\n`,
  );
}
