/**
 * Event-driven rule types: `match` (one event passes the condition), `threshold` (count of
 * matching events, or of distinct values of a field, within a sliding window per group) and
 * `sequence` (ordered steps within a timespan per group).
 */
import type { SignalCatalog } from '../../../core/catalog.js';
import type { EventCtx, Getter } from '../context.js';
import { Plan, MAX_EVIDENCE_ITEMS, describe, type Fire, type PlanCounters, type Port, type RuleMeta } from '../plan.js';

/** Thresholds up to this count keep exact event times (a ring); larger ones count in time buckets. */
export const MAX_EXACT_THRESHOLD = 256;
/** Buckets of an approximate (large) threshold window: the window is known to 1/BUCKETS of its length. A power of 2. */
export const THRESHOLD_BUCKETS = 16;
const BUCKET_MASK = THRESHOLD_BUCKETS - 1;
/** Distinct values remembered per group for a `distinct` threshold. */
export const MAX_DISTINCT_VALUES = 4096;

type Group = { name: string; get: Getter }[] | undefined;

export class MatchPlan extends Plan {
  constructor(meta: RuleMeta, ports: Port[], groupBy: Group, counters: PlanCounters, private readonly catalog: SignalCatalog) {
    super(meta, ports, groupBy, counters);
  }
  on(_port: number, c: EventCtx, fire: Fire): void {
    fire(this, c, { event: describe(c, this.catalog) });
  }
}

interface Ring {
  times: Float64Array;
  head: number;
  n: number;
}
interface Buckets {
  counts: Uint32Array;
  /** Newest bucket id (time / bucket length) seen. */
  last: number;
  /** Sum of `counts`: the events in the window. */
  total: number;
}
interface Distinct {
  seen: Map<string, number>;
}

const newBuckets = (): Buckets => ({ counts: new Uint32Array(THRESHOLD_BUCKETS), last: Number.NEGATIVE_INFINITY, total: 0 });
const newDistinct = (): Distinct => ({ seen: new Map() });
const newProgress = (): Progress => ({ step: 0, hits: 0, start: 0, stepDone: 0, evidence: [] });

export class ThresholdPlan extends Plan {
  private readonly exact: boolean;
  private readonly newRing = (): Ring => ({ times: new Float64Array(this.count), head: 0, n: 0 });
  /** Buckets per millisecond: a multiplication, not a division, per event. */
  private readonly perBucket: number;

  constructor(
    meta: RuleMeta,
    ports: Port[],
    groupBy: Group,
    counters: PlanCounters,
    private readonly catalog: SignalCatalog,
    private readonly count: number,
    private readonly windowMs: number,
    private readonly distinct: Getter | undefined,
    private readonly distinctName: string | undefined,
  ) {
    super(meta, ports, groupBy, counters);
    this.exact = count <= MAX_EXACT_THRESHOLD;
    this.perBucket = THRESHOLD_BUCKETS / Math.max(1, windowMs);
  }

  on(_port: number, c: EventCtx, fire: Fire): void {
    if (this.distinct) return this.onDistinct(c, fire);
    if (this.exact) {
      const r = this.state(c, this.newRing);
      if (!r) return;
      r.times[r.head] = c.time;
      r.head = (r.head + 1) % this.count;
      if (r.n < this.count) r.n++;
      // Full ring: the oldest of the last `count` events sits at head.
      const first = r.times[r.head % this.count]!;
      if (r.n === this.count && c.time - first <= this.windowMs) {
        r.n = 0;
        fire(this, c, { count: this.count, windowMs: this.windowMs, firstTime: first, ...this.groupEvidence(c), last: describe(c, this.catalog) });
      }
      return;
    }
    const b = this.state(c, newBuckets);
    if (!b) return;
    const id = Math.floor(c.time * this.perBucket);
    if (id > b.last) {
      // Buckets that left the window are emptied as time moves on: O(1) per event, amortized.
      const from = Math.max(b.last + 1, id - THRESHOLD_BUCKETS + 1);
      for (let k = from; k <= id; k++) {
        const at = k & BUCKET_MASK;
        b.total -= b.counts[at]!;
        b.counts[at] = 0;
      }
      if (id - b.last >= THRESHOLD_BUCKETS) b.total = 0;
      b.last = id;
    } else if (id <= b.last - THRESHOLD_BUCKETS) return; // older than the window: not counted
    b.counts[id & BUCKET_MASK]!++;
    b.total++;
    if (b.total >= this.count) {
      const total = b.total;
      b.counts.fill(0);
      b.total = 0;
      fire(this, c, { count: total, windowMs: this.windowMs, approximate: true, ...this.groupEvidence(c), last: describe(c, this.catalog) });
    }
  }

  private onDistinct(c: EventCtx, fire: Fire): void {
    const v = this.distinct!(c);
    if (v === undefined || v === null) return;
    const d = this.state(c, newDistinct);
    if (!d) return;
    const key = String(v);
    // Re-insert so the map stays in time order and pruning stops at the first fresh entry.
    d.seen.delete(key);
    d.seen.set(key, c.time);
    for (const [k, t] of d.seen) {
      if (c.time - t <= this.windowMs) break;
      d.seen.delete(k);
    }
    if (d.seen.size > MAX_DISTINCT_VALUES) {
      d.seen.delete(d.seen.keys().next().value!);
      this.counters.evicted++;
    }
    if (d.seen.size >= this.count) {
      const values = [...d.seen.keys()].slice(-MAX_EVIDENCE_ITEMS);
      d.seen.clear();
      fire(this, c, { distinct: this.distinctName, count: this.count, windowMs: this.windowMs, values, ...this.groupEvidence(c), last: describe(c, this.catalog) });
    }
  }

  private groupEvidence(c: EventCtx): Record<string, unknown> {
    const g = this.groupValues(c);
    return g ? { group: g } : {};
  }
}

interface Progress {
  step: number;
  hits: number;
  start: number;
  /** When the previous step completed. */
  stepDone: number;
  evidence: Record<string, unknown>[];
}

/**
 * One partial match per group. A step with `after` only counts once that long has passed
 * since the previous step completed. A new first step while only the first step is done restarts
 * the run from the newer event (its window ends later); later steps never restart it.
 */
export class SequencePlan extends Plan {
  constructor(
    meta: RuleMeta,
    ports: Port[],
    groupBy: Group,
    counters: PlanCounters,
    private readonly catalog: SignalCatalog,
    private readonly timespanMs: number,
    private readonly counts: readonly number[],
    private readonly names: readonly string[],
    private readonly afterMs: readonly number[],
  ) {
    super(meta, ports, groupBy, counters);
  }

  on(port: number, c: EventCtx, fire: Fire): void {
    const p = this.state(c, newProgress);
    if (!p) return;
    if (p.step > 0 && c.time - p.start > this.timespanMs) reset(p);
    const restart = port === 0 && p.step === 1 && this.counts[0] === 1;
    if (restart) reset(p);
    if (port !== p.step) return;
    if (port > 0 && c.time - p.stepDone < this.afterMs[port]!) return;
    if (p.step === 0 && p.hits === 0) p.start = c.time;
    p.hits++;
    if (p.evidence.length < MAX_EVIDENCE_ITEMS) p.evidence.push({ step: this.names[port], ...describe(c, this.catalog) });
    if (p.hits < this.counts[port]!) return;
    p.step++;
    p.hits = 0;
    p.stepDone = c.time;
    if (p.step < this.counts.length) return;
    const steps = p.evidence;
    const start = p.start;
    reset(p);
    fire(this, c, { timespanMs: this.timespanMs, startTime: start, steps });
  }
}

function reset(p: Progress): void {
  p.step = 0;
  p.hits = 0;
  p.evidence = [];
}
