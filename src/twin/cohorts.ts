/**
 * Vehicle identities and cohorts. An identity (make, model, year, trim, region, ECU software)
 * is interned as a profile shared by every twin with the same one, so a million registered
 * vehicles of a few hundred kinds cost a u32 each. A cohort groups profiles by make, model,
 * year and software; it keeps an online baseline per signal: running statistics that merge
 * across workers (Chan et al.), so a fleet-wide baseline is the merge of the workers'.
 *
 * The baseline has a time window: with `windowMs` > 0 the weight of past values decays by
 * e^(-elapsed/windowMs) (count and M2 shrink, the mean stays), so the baseline follows a
 * lasting change of the whole cohort (a season, a software update) instead of holding every
 * value ever seen. The decay is applied per signal at most once per DECAY_STEP_MS of event
 * time, so it costs nothing per row.
 */
import type { VehicleIdentity } from '../core/records.js';

export type { VehicleIdentity } from '../core/records.js';

/** Cohorts one worker tracks; vehicles of further cohorts get none (counted). */
export const MAX_COHORTS = 4096;

/** Count, mean, variance (M2, Welford) and range of a stream of values. */
export interface RunningStats {
  count: number;
  mean: number;
  m2: number;
  min: number;
  max: number;
}

export const emptyStats = (): RunningStats => ({ count: 0, mean: 0, m2: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY });

/** The statistics of both streams together (order-independent up to rounding). */
export function mergeStats(a: RunningStats, b: RunningStats): RunningStats {
  if (b.count === 0) return { ...a };
  if (a.count === 0) return { ...b };
  const n = a.count + b.count;
  const d = b.mean - a.mean;
  return {
    count: n,
    mean: a.mean + (d * b.count) / n,
    m2: a.m2 + b.m2 + (d * d * a.count * b.count) / n,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
  };
}

/** Variance of the sample (0 below two values). */
export const variance = (s: RunningStats): number => (s.count > 1 ? s.m2 / (s.count - 1) : 0);

/** Event time between two decay steps of one signal's baseline. */
export const DECAY_STEP_MS = 1000;

/** A cohort's baseline: running statistics per signal id, in dense float64 columns. */
export class Cohort {
  count: Float64Array;
  mean: Float64Array;
  m2: Float64Array;
  min: Float64Array;
  max: Float64Array;
  /** Event time the signal's weights were last decayed to (0: not yet, e.g. after a restore). */
  private readonly decayedAt: Float64Array;

  constructor(
    readonly key: string,
    readonly identity: VehicleIdentity,
    signals: number,
    /** Time constant of the baseline's exponential window; 0 keeps every value with full weight. */
    readonly windowMs = 0,
  ) {
    this.count = new Float64Array(signals);
    this.mean = new Float64Array(signals);
    this.m2 = new Float64Array(signals);
    this.min = new Float64Array(signals).fill(Number.POSITIVE_INFINITY);
    this.max = new Float64Array(signals).fill(Number.NEGATIVE_INFINITY);
    this.decayedAt = new Float64Array(signals);
  }

  /** Add a value seen at event time `t` (epoch ms). */
  add(signal: number, v: number, t: number): void {
    if (this.windowMs > 0) {
      const last = this.decayedAt[signal]!;
      if (last === 0) this.decayedAt[signal] = t;
      else if (t - last >= DECAY_STEP_MS) {
        const f = Math.exp(-(t - last) / this.windowMs);
        this.count[signal] = this.count[signal]! * f;
        this.m2[signal] = this.m2[signal]! * f;
        this.decayedAt[signal] = t;
      }
    }
    const n = ++this.count[signal]!;
    const d = v - this.mean[signal]!;
    const mean = (this.mean[signal] = this.mean[signal]! + d / n);
    this.m2[signal] = this.m2[signal]! + d * (v - mean);
    if (v < this.min[signal]!) this.min[signal] = v;
    if (v > this.max[signal]!) this.max[signal] = v;
  }

  stats(signal: number): RunningStats {
    return { count: this.count[signal] ?? 0, mean: this.mean[signal] ?? 0, m2: this.m2[signal] ?? 0, min: this.min[signal] ?? Infinity, max: this.max[signal] ?? -Infinity };
  }

  /** Fold another worker's baseline of the same cohort into this one. */
  merge(signal: number, s: RunningStats): void {
    const m = mergeStats(this.stats(signal), s);
    this.count[signal] = m.count;
    this.mean[signal] = m.mean;
    this.m2[signal] = m.m2;
    this.min[signal] = m.min;
    this.max[signal] = m.max;
  }
}

/** The cohort key of an identity: make, model, year and software; undefined when it has no make or model. */
export function cohortKey(id: VehicleIdentity): string | undefined {
  if (id.make === undefined || id.model === undefined) return undefined;
  const sw = Object.entries(id.software ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([id.make, id.model, id.year ?? null, sw]);
}

/** One interned identity and its cohort (0 = none). */
export interface Profile {
  readonly identity: VehicleIdentity;
  readonly cohort: number;
}

/** Interned profiles (id 0 = no identity) and the cohorts they fall in (id 0 = none). */
export class Profiles {
  readonly list: Profile[] = [{ identity: {}, cohort: 0 }];
  readonly cohorts: (Cohort | undefined)[] = [undefined];
  private readonly byKey = new Map<string, number>();
  private readonly cohortByKey = new Map<string, number>();
  /** Identities that found no cohort because MAX_COHORTS was reached. */
  cohortsRefused = 0;

  constructor(
    private readonly signals: number,
    /** The cohorts' baseline window (Cohort.windowMs). */
    private readonly windowMs = 0,
  ) {}

  intern(identity: VehicleIdentity): number {
    const key = JSON.stringify([identity.make, identity.model, identity.year, identity.trim, identity.region, identity.software && Object.entries(identity.software).sort()]);
    let id = this.byKey.get(key);
    if (id === undefined) {
      id = this.list.length;
      this.list.push({ identity, cohort: this.cohortOf(identity) });
      this.byKey.set(key, id);
    }
    return id;
  }

  private cohortOf(identity: VehicleIdentity): number {
    const key = cohortKey(identity);
    if (key === undefined) return 0;
    let c = this.cohortByKey.get(key);
    if (c === undefined) {
      if (this.cohorts.length > MAX_COHORTS) {
        this.cohortsRefused++;
        return 0;
      }
      c = this.cohorts.length;
      const { trim: _t, region: _r, ...cohortIdentity } = identity;
      this.cohorts.push(new Cohort(key, cohortIdentity, this.signals, this.windowMs));
      this.cohortByKey.set(key, c);
    }
    return c;
  }
}
