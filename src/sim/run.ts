/**
 * `runSimulation`: drive a simulator through a span of simulated time and hand records to
 * an asynchronous sink in batches, waiting for it (backpressure) before making more.
 */
import type { SimItem } from './events.js';
import type { SimOptions } from './options.js';
import type { ScenarioLabel } from './scenarios.js';
import { FleetSimulator, type SimStats } from './simulator.js';

/** Where a run's records go. A returned promise is awaited before the next batch is made. */
export interface SimBatchSink {
  write(items: readonly SimItem[]): void | Promise<void>;
  labels?(labels: readonly ScenarioLabel[]): void | Promise<void>;
}

export interface RunOptions {
  /** Simulated seconds to produce, from the start time. */
  readonly durationS: number;
  /** Simulated milliseconds per tick (default 1000). Output does not depend on it beyond record order. */
  readonly tickMs?: number;
  /** Signals messages per batch handed to the sink (default 1024). */
  readonly batchMessages?: number;
  /** Stops the run after the current batch. */
  readonly signal?: AbortSignal;
  /** Called after each tick with the simulated time reached; wait here to pace a live run. */
  readonly pace?: (simTimeMs: number) => void | Promise<void>;
}

export interface RunSummary extends SimStats {
  readonly start: number;
  readonly end: number;
  readonly vehicles: number;
  readonly aborted: boolean;
}

/**
 * Run a simulation of `opts` for `run.durationS` simulated seconds into `sink`.
 *
 * @example
 *   await runSimulation({ vehicles: 100, seed: 7 }, { write: (items) => feed(items) }, { durationS: 60 });
 */
export async function runSimulation(opts: SimOptions, sink: SimBatchSink, run: RunOptions): Promise<RunSummary> {
  const sim = new FleetSimulator(opts);
  const start = sim.options.start;
  const end = start + Math.round(run.durationS * 1000);
  const tickMs = run.tickMs ?? 1000;
  const batch = run.batchMessages ?? 1024;
  if (!(tickMs > 0)) throw new RangeError(`tickMs must be positive, got ${tickMs}`);
  const items: SimItem[] = [];
  const labels: ScenarioLabel[] = [];
  const collect = { item: (x: SimItem) => items.push(x), label: (l: ScenarioLabel) => labels.push(l) };
  const flush = async (): Promise<void> => {
    if (labels.length > 0 && sink.labels) await sink.labels(labels.splice(0));
    else labels.length = 0;
    if (items.length > 0) await sink.write(items.splice(0));
  };
  let aborted = false;
  for (let t = Math.min(end, start + tickMs); ; t = Math.min(end, t + tickMs)) {
    for (;;) {
      const complete = sim.tick(t, collect, batch);
      await flush();
      if (run.signal?.aborted) {
        aborted = true;
        break;
      }
      if (complete) break;
    }
    if (aborted) break;
    await run.pace?.(t);
    if (run.signal?.aborted) {
      aborted = t < end;
      break;
    }
    if (t >= end) break;
  }
  return { ...sim.stats, start, end: sim.now, vehicles: sim.fleet.size, aborted };
}
