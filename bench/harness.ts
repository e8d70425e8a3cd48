/**
 * Benchmark plumbing shared by scenarios: build a pipeline on a fresh store, feed it a
 * pre-generated input as fast as backpressure allows (or at a set pace), and read the
 * figures back from the pipeline's own metrics.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBStore } from '../src/adapters/duckdb/duckdb-store.js';
import type { SignalCatalog } from '../src/core/catalog.js';
import { systemClock } from '../src/core/clock.js';
import { DEFAULT_POLICY } from '../src/normalize/policy.js';
import { parseConfig } from '../src/runtime/config.js';
import type { InputItem } from '../src/runtime/lane.js';
import type { RulePackSource } from '../src/runtime/detection.js';
import { Pipeline } from '../src/runtime/pipeline.js';

export interface RunResult {
  readonly seconds: number;
  readonly messages: number;
  readonly signals: number;
  readonly p50: number;
  readonly p99: number;
}

export interface Rig {
  readonly pipeline: Pipeline;
  close(): Promise<void>;
}

/** A pipeline with the default runtime settings on a fresh DuckDB file in a temp dir; `rules`: the detection pack every lane runs. */
export async function rig(catalog: SignalCatalog, mode: 'full' | 'decode', overrides: Record<string, unknown> = {}, rules?: RulePackSource): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  const store = await DuckDBStore.open({ path: join(dir, 'bench.duckdb') });
  await store.saveSignalDictionary(catalog.dictionary());
  const config = parseConfig({ runtime: overrides });
  const pipeline = new Pipeline({ store, catalog, clock: systemClock, policy: { ...DEFAULT_POLICY, maxFutureSkewMs: 365 * 86_400_000 }, secret: 'bench-secret-0123456789abcdef', ...config.runtime, mode, ...(rules ? { rules } : {}) });
  await pipeline.start();
  return {
    pipeline,
    async close() {
      await pipeline.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const counted = (p: Pipeline, mode: 'full' | 'decode'): number =>
  p.metrics.get(mode === 'full' ? 'vigil_signals_stored_total' : 'vigil_signals_normalized_total');

/** Offer every item as fast as the pipeline takes them; time until all are durable. */
export async function runFlat(p: Pipeline, items: readonly InputItem[], mode: 'full' | 'decode'): Promise<RunResult> {
  p.metrics.ingestToStore.reset();
  const before = counted(p, mode);
  const t0 = performance.now();
  for (let i = 0; i < items.length; ) {
    if (p.offer(restamp(items[i]!))) i++;
    else await p.ready();
  }
  await p.drain();
  const seconds = (performance.now() - t0) / 1000;
  const h = p.metrics.ingestToStore;
  return { seconds, messages: items.length, signals: counted(p, mode) - before, p50: h.quantile(0.5), p99: h.quantile(0.99) };
}

/** Offer items at `messagesPerS`, in 5 ms slices, for latency at a set load. */
export async function runPaced(p: Pipeline, items: readonly InputItem[], messagesPerS: number): Promise<RunResult> {
  p.metrics.ingestToStore.reset();
  const before = counted(p, 'full');
  const t0 = performance.now();
  let i = 0;
  while (i < items.length) {
    const due = Math.min(items.length, Math.floor(((performance.now() - t0) / 1000) * messagesPerS));
    while (i < due) {
      if (p.offer(restamp(items[i]!))) i++;
      else await p.ready();
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await p.drain();
  const seconds = (performance.now() - t0) / 1000;
  const h = p.metrics.ingestToStore;
  return { seconds, messages: items.length, signals: counted(p, 'full') - before, p50: h.quantile(0.5), p99: h.quantile(0.99) };
}

/** Latency is measured from when the message was offered, not when it was generated. */
function restamp(item: InputItem): InputItem {
  return { ...item, receivedAt: Date.now() };
}

export const peakRssMb = (): number => Math.round(process.resourceUsage().maxRSS / 1024);
