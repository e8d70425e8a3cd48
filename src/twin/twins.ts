/**
 * Digital twins owned by one worker: per vehicle, the last value and time of every signal,
 * first/last seen, and counts. State is kept per vehicle in one Float64Array (values then
 * times) sized by the catalog, so an update is two array writes and no allocation.
 */
import type { VehicleRecord } from '../core/records.js';

/** Twins one worker may hold; beyond it the least recently seen are evicted (their summary is already stored). */
export const MAX_TWINS_PER_WORKER = 2_000_000;

export class Twin {
  /** [0, n): last value per signal id; [n, 2n): last event time (NaN = never seen). */
  readonly state: Float64Array;
  firstSeen = Number.POSITIVE_INFINITY;
  lastSeen = 0;
  /** Newest event time seen: the watermark that late data is judged against. */
  watermark = 0;
  signalCount = 0;
  /** Signals counted since the summary was last flushed to the store. */
  unflushed = 0;

  constructor(
    readonly tenant: string,
    readonly id: string,
    readonly signals: number,
  ) {
    this.state = new Float64Array(signals * 2);
    this.state.fill(Number.NaN, signals);
  }

  value(signal: number): number {
    return this.state[signal]!;
  }
  time(signal: number): number {
    return this.state[this.signals + signal]!;
  }
}

export class TwinRegistry {
  private readonly twins = new Map<string, Twin>();
  private readonly dirty = new Set<Twin>();

  constructor(private readonly signals: number) {}

  get size(): number {
    return this.twins.size;
  }

  get(tenant: string, id: string): Twin | undefined {
    return this.twins.get(`${tenant}/${id}`);
  }

  /** The twin of a vehicle, created on first sight. */
  obtain(tenant: string, id: string): Twin {
    const k = `${tenant}/${id}`;
    let t = this.twins.get(k);
    if (!t) {
      if (this.twins.size >= MAX_TWINS_PER_WORKER) this.evictOldest();
      t = new Twin(tenant, id, this.signals);
      this.twins.set(k, t);
    }
    return t;
  }

  markDirty(t: Twin): void {
    this.dirty.add(t);
  }

  /** Summaries of twins changed since the last call, for the store's vehicles table. */
  takeDirty(): VehicleRecord[] {
    const out: VehicleRecord[] = [];
    for (const t of this.dirty) {
      out.push({ tenant: t.tenant, id: t.id, firstSeen: t.firstSeen, lastSeen: t.lastSeen, signalCount: t.unflushed });
      t.unflushed = 0;
    }
    this.dirty.clear();
    return out;
  }

  private evictOldest(): void {
    // Map iteration order is insertion order: the first entry is the oldest created.
    const first = this.twins.keys().next();
    if (!first.done) this.twins.delete(first.value);
  }
}
