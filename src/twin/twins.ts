/**
 * Digital twins owned by one worker: per vehicle, the last value, time and running statistics
 * of every signal it sent, its identity and ECU software, cohort, and a timeline of notable
 * events. Built for a million twins per worker: no JS object per twin or per signal. A twin is
 * an index into header columns; its signals sit in a region of the slot arena (slab.ts) at the
 * positions its shared layout gives (layout.ts). `Twin` is a short-lived handle over an index
 * with the accessors detectors use: `value(id)` and `time(id)` are O(1).
 */
import type { SignalCatalog } from '../core/catalog.js';
import type { Alert, SecurityEvent, VehicleRecord } from '../core/records.js';
import type { SignalBatch } from '../core/batch.js';
import { Layouts, MAX_SIGNALS_PER_TWIN, type Layout } from './layout.js';
import { Profiles, variance, type VehicleIdentity } from './cohorts.js';
import { CHUNK_BITS, COUNT_CAP, f32Down, f32Up, NEVER, Slab, TIME_CEIL, TIME_FLOOR } from './slab.js';
import { Timelines, type TimelineEvent } from './timeline.js';

/** Twins one worker may hold; beyond it the oldest created are evicted (their summary is stored first). */
export const MAX_TWINS_PER_WORKER = 2_000_000;

const CHUNK_MASK = (1 << CHUNK_BITS) - 1;
const HEX_KEY = /^[0-9a-f]{16}$/;
/** A signal path whose text value is the software version of the ECU named by the segment before. */
const SOFTWARE_PATH = /\.(\w+)\.(?:Software|Firmware|SoftwareVersion|FirmwareVersion|Software\.Version)$/;

const F_LIVE = 1;
const F_DIRTY = 2;
/** Key is not 16 hex digits: kept as a string in `oddIds`. */
const F_ODD = 4;
/** Identity changed from telemetry since the last summary. */
const F_IDENTITY = 8;

/** A signal of a twin as the API shows it. */
export interface TwinSignal {
  readonly id: number;
  readonly path: string;
  readonly value: number | null;
  readonly time: number | null;
  readonly count: number;
  readonly mean: number;
  readonly variance: number;
  readonly min: number | null;
  readonly max: number | null;
}

/** Everything a twin knows, as plain data (what the API and the CLI read). */
export interface TwinView {
  readonly tenant: string;
  readonly id: string;
  readonly identity: VehicleIdentity;
  readonly cohort?: string;
  readonly firstSeen?: number;
  readonly lastSeen?: number;
  readonly signalCount: number;
  readonly signals: readonly TwinSignal[];
  readonly timeline: readonly TimelineEvent[];
}

/** A handle on one twin; cheap to make, valid until the twin is evicted. */
export class Twin {
  constructor(
    private readonly reg: TwinRegistry,
    readonly index: number,
  ) {}

  get tenant(): string {
    return this.reg.tenants[this.reg.h.tenant[this.index]!]!;
  }
  get id(): string {
    return this.reg.idOf(this.index);
  }
  /** Last value of a signal (NaN when never seen or not numeric). */
  value(signal: number): number {
    return this.reg.valueOf(this.index, signal);
  }
  /** Time of the last value (NaN when never seen). */
  time(signal: number): number {
    return this.reg.timeOf(this.index, signal);
  }
  /** Apply one row: last value and time (unless older than the one held), statistics, cohort. */
  record(signal: number, time: number, value: number): void {
    this.reg.record(this.index, signal, time, value);
  }
  get firstSeen(): number {
    return this.reg.h.first[this.index]!;
  }
  set firstSeen(t: number) {
    this.reg.h.first[this.index] = t;
  }
  get lastSeen(): number {
    return this.reg.h.mark[this.index]!;
  }
  set lastSeen(_t: number) {
    // Last seen is the watermark; kept as a setter for callers that set both.
  }
  /** Newest event time seen: the watermark that late data is judged against. */
  get watermark(): number {
    return this.reg.h.mark[this.index]!;
  }
  set watermark(t: number) {
    this.reg.h.mark[this.index] = t;
  }
  get signalCount(): number {
    return this.reg.h.count[this.index]!;
  }
  set signalCount(n: number) {
    this.reg.h.count[this.index] = n;
  }
  /** Signals counted since the summary was last flushed to the store. */
  get unflushed(): number {
    return this.reg.h.unflushed[this.index]!;
  }
  set unflushed(n: number) {
    this.reg.h.unflushed[this.index] = n;
  }
}

/** Per-twin header columns, grown together. */
export class Headers {
  capacity = 0;
  tenant = new Uint16Array(0);
  hi = new Uint32Array(0);
  lo = new Uint32Array(0);
  /** Time base of the twin's slot times (NaN before the first row). */
  base = new Float64Array(0);
  first = new Float64Array(0);
  /** Watermark = last seen. */
  mark = new Float64Array(0);
  count = new Float64Array(0);
  unflushed = new Uint32Array(0);
  region = new Uint32Array(0);
  cap = new Uint16Array(0);
  profile = new Uint32Array(0);
  flags = new Uint8Array(0);

  grow(min: number): void {
    const next = Math.max(min, Math.ceil(this.capacity * 1.5), 1024);
    const g = <T extends Uint16Array | Uint32Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(next);
      b.set(a);
      return b;
    };
    this.tenant = g(this.tenant, (n) => new Uint16Array(n));
    this.hi = g(this.hi, (n) => new Uint32Array(n));
    this.lo = g(this.lo, (n) => new Uint32Array(n));
    this.base = g(this.base, (n) => new Float64Array(n));
    this.first = g(this.first, (n) => new Float64Array(n));
    this.mark = g(this.mark, (n) => new Float64Array(n));
    this.count = g(this.count, (n) => new Float64Array(n));
    this.unflushed = g(this.unflushed, (n) => new Uint32Array(n));
    this.region = g(this.region, (n) => new Uint32Array(n));
    this.cap = g(this.cap, (n) => new Uint16Array(n));
    this.profile = g(this.profile, (n) => new Uint32Array(n));
    this.flags = g(this.flags, (n) => new Uint8Array(n));
    this.capacity = next;
  }
}

export class TwinRegistry {
  readonly h = new Headers();
  readonly slab = new Slab();
  readonly shapes = new Layouts();
  /** Layout per twin index. */
  readonly layouts: Layout[] = [];
  readonly profiles: Profiles;
  readonly timelines = new Timelines();
  readonly tenants: string[] = [];
  private readonly tenantIds = new Map<string, number>();
  /** Open-addressing index of live twins by (tenant, key): twin index + 1, 0 = empty. */
  private index = new Int32Array(1 << 12);
  private readonly oddKeys = new Map<string, number>();
  readonly oddIds = new Map<number, string>();
  private live = 0;
  private next = 0;
  private readonly freeIdx: number[] = [];
  private dirty: number[] = [];
  private evicted: VehicleRecord[] = [];
  private evictCursor = 0;
  /** Catalog id -> ECU name, for signals that carry software versions. */
  private readonly ecuSignals = new Map<number, string>();
  private readonly paths: (string | undefined)[] = [];

  constructor(
    readonly catalog: SignalCatalog,
    opts: { /** Time window of the cohort baselines (Cohort.windowMs); default none. */ readonly cohortWindowMs?: number } = {},
  ) {
    this.profiles = new Profiles(catalog.idLimit, opts.cohortWindowMs ?? 0);
    for (const d of catalog) {
      this.paths[d.id] = d.path;
      const m = SOFTWARE_PATH.exec(d.path);
      if (m && !d.numeric) this.ecuSignals.set(d.id, m[1]!);
    }
  }

  get size(): number {
    return this.live;
  }

  /** The twin of a vehicle, if this worker holds it. */
  get(tenant: string, id: string): Twin | undefined {
    const i = this.find(tenant, id);
    return i < 0 ? undefined : new Twin(this, i);
  }

  /** The twin of a vehicle, created on first sight. */
  obtain(tenant: string, id: string): Twin {
    let i = this.find(tenant, id);
    if (i < 0) i = this.create(tenant, id);
    return new Twin(this, i);
  }

  markDirty(t: Twin): void {
    this.touch(t.index);
  }

  idOf(i: number): string {
    if (this.h.flags[i]! & F_ODD) return this.oddIds.get(i)!;
    return hex8(this.h.hi[i]!) + hex8(this.h.lo[i]!);
  }

  valueOf(i: number, signal: number): number {
    const p = this.layouts[i]!.indexOf(signal);
    if (p < 0) return Number.NaN;
    const at = this.h.region[i]! + p;
    return this.slab.chunks[at >>> CHUNK_BITS]!.value[at & CHUNK_MASK]!;
  }

  timeOf(i: number, signal: number): number {
    const p = this.layouts[i]!.indexOf(signal);
    if (p < 0) return Number.NaN;
    const at = this.h.region[i]! + p;
    const d = this.slab.chunks[at >>> CHUNK_BITS]!.time[at & CHUNK_MASK]!;
    return d === NEVER ? Number.NaN : this.h.base[i]! + d;
  }

  /**
   * One row. Times are kept at millisecond resolution within +-24.8 days of the twin's time
   * base; the base moves with the data, and a signal silent for longer keeps a clamped
   * (later than true) time — far outside any detector's window.
   */
  record(i: number, signal: number, t: number, v: number): void {
    let p = this.layouts[i]!.indexOf(signal);
    if (p < 0) p = this.addSignal(i, signal);
    const at = this.h.region[i]! + p;
    const c = this.slab.chunks[at >>> CHUNK_BITS]!;
    const o = at & CHUNK_MASK;
    let base = this.h.base[i]!;
    if (base !== base) base = this.h.base[i] = Math.floor(t);
    let d = Math.floor(t - base);
    if (d > TIME_CEIL) {
      this.rebase(i, t);
      d = Math.floor(t - this.h.base[i]!);
    } else if (d < TIME_FLOOR) d = TIME_FLOOR;
    const prev = c.time[o]!;
    if (prev === NEVER || d >= prev) {
      c.value[o] = v;
      c.time[o] = d;
    }
    if (v !== v) return;
    let n = c.count[o]!;
    const saturated = n === COUNT_CAP;
    if (!saturated) c.count[o] = ++n;
    const mean = c.mean[o]!;
    const delta = v - mean;
    const m = mean + delta / n;
    c.mean[o] = m;
    const m2 = c.m2[o]!;
    // Saturated: the count stays, so M2 decays like the mean does (an exponential window).
    c.m2[o] = (saturated ? m2 - m2 / n : m2) + delta * (v - m);
    if (v < c.min[o]!) c.min[o] = f32Down(v);
    if (v > c.max[o]!) c.max[o] = f32Up(v);
    const prof = this.h.profile[i]!;
    if (prof !== 0) {
      const k = this.profiles.list[prof]!.cohort;
      if (k !== 0) this.profiles.cohorts[k]!.add(signal, v, t);
    }
  }

  /** Set a vehicle's identity (registration); software that differs from what the twin knew becomes a timeline event. */
  identify(tenant: string, id: string, identity: VehicleIdentity, time: number): void {
    const t = this.obtain(tenant, id);
    const before = this.profiles.list[this.h.profile[t.index]!]!.identity;
    this.noteSoftware(t.index, before.software, identity.software, time, 'registration');
    this.h.profile[t.index] = this.profiles.intern(identity);
  }

  /** Software versions carried as text signals (see SOFTWARE_PATH) update the ECU inventory. */
  observeText(batch: SignalBatch, owners: readonly Twin[]): void {
    const text = batch.text;
    if (!text || this.ecuSignals.size === 0) return;
    for (let r = 0; r < batch.size; r++) {
      const ecu = text[r] === undefined ? undefined : this.ecuSignals.get(batch.signal[r]!);
      if (ecu === undefined) continue;
      const i = owners[batch.vehicle[r]!]!.index;
      const identity = this.profiles.list[this.h.profile[i]!]!.identity;
      if (identity.software?.[ecu] === text[r]) continue;
      const software = { ...identity.software, [ecu]: text[r]! };
      this.noteSoftware(i, identity.software, software, batch.time[r]!, 'telemetry');
      this.h.profile[i] = this.profiles.intern({ ...identity, software });
      this.h.flags[i]! |= F_IDENTITY;
      this.touch(i);
    }
  }

  /** Security events and alerts become timeline events of their vehicle. */
  noteEvents(security: readonly SecurityEvent[], alerts: readonly Alert[]): void {
    for (const e of security) {
      const i = this.obtain(e.tenant, e.vehicle).index;
      this.timelines.add(i, { time: e.time, kind: 'security', summary: `${e.name} (${e.severity}) from ${e.sensor}`, ref: e.id, details: { eventId: e.eventId, count: e.count } });
    }
    for (const a of alerts) {
      if (a.vehicle === undefined) continue;
      const i = this.obtain(a.tenant, a.vehicle).index;
      this.timelines.add(i, { time: a.time, kind: 'alert', summary: `${a.title} (${a.severity})`, ref: a.id, details: { rule: a.rule } });
    }
  }

  /** Summaries of twins changed since the last call, for the store's vehicles table. */
  takeDirty(): VehicleRecord[] {
    const out = this.evicted;
    this.evicted = [];
    for (const i of this.dirty) {
      if (this.h.flags[i]! & F_DIRTY) out.push(this.summary(i));
      this.h.flags[i]! &= ~(F_DIRTY | F_IDENTITY);
      this.h.unflushed[i] = 0;
    }
    this.dirty = [];
    return out;
  }

  /** Everything the twin of a vehicle knows, or undefined when this worker does not hold it. */
  view(tenant: string, id: string): TwinView | undefined {
    const i = this.find(tenant, id);
    if (i < 0) return undefined;
    const h = this.h;
    const profile = this.profiles.list[h.profile[i]!]!;
    const layout = this.layouts[i]!;
    const signals: TwinSignal[] = [];
    for (let p = 0; p < layout.size; p++) {
      const at = h.region[i]! + p;
      const c = this.slab.chunks[at >>> CHUNK_BITS]!;
      const o = at & CHUNK_MASK;
      const sig = layout.signals[p]!;
      const n = c.count[o]!;
      const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
      signals.push({
        id: sig,
        path: this.paths[sig] ?? `#${sig}`,
        value: finite(c.value[o]!),
        time: c.time[o] === NEVER ? null : h.base[i]! + c.time[o]!,
        count: n,
        mean: n ? c.mean[o]! : 0,
        variance: variance({ count: n, mean: c.mean[o]!, m2: c.m2[o]!, min: 0, max: 0 }),
        min: n ? finite(c.min[o]!) : null,
        max: n ? finite(c.max[o]!) : null,
      });
    }
    signals.sort((a, b) => (a.path < b.path ? -1 : 1));
    const cohort = profile.cohort ? this.profiles.cohorts[profile.cohort]!.key : undefined;
    const seen = h.count[i]! > 0;
    const timeline: TimelineEvent[] = [...this.timelines.of(i)];
    if (seen) timeline.unshift({ time: h.first[i]!, kind: 'first_seen', summary: 'first data from the vehicle' });
    return {
      tenant, id, identity: profile.identity,
      ...(cohort !== undefined ? { cohort } : {}),
      ...(seen ? { firstSeen: h.first[i]!, lastSeen: h.mark[i]! } : {}),
      signalCount: h.count[i]!, signals, timeline,
    };
  }

  /** Indices of live twins (checkpoint). */
  *liveIndices(): IterableIterator<number> {
    for (let i = 0; i < this.next; i++) if (this.h.flags[i]! & F_LIVE) yield i;
  }

  /** A twin restored from a checkpoint: header values and its layout; the caller fills its region. */
  restoreTwin(tenant: string, id: string, layout: Layout, head: { base: number; first: number; mark: number; count: number; unflushed: number; profile: number }): number {
    const i = this.obtain(tenant, id).index;
    const h = this.h;
    h.base[i] = head.base;
    h.first[i] = head.first;
    h.mark[i] = head.mark;
    h.count[i] = head.count;
    h.unflushed[i] = head.unflushed;
    h.profile[i] = head.profile;
    this.slab.release(h.region[i]!, h.cap[i]!);
    h.region[i] = this.slab.alloc(Math.max(1, layout.size));
    h.cap[i] = Math.max(1, layout.size);
    this.layouts[i] = layout;
    if (head.unflushed) this.touch(i);
    return i;
  }

  private summary(i: number): VehicleRecord {
    const h = this.h;
    const seen = h.count[i]! > 0;
    const software = h.flags[i]! & F_IDENTITY ? this.profiles.list[h.profile[i]!]!.identity.software : undefined;
    return {
      tenant: this.tenants[h.tenant[i]!]!, id: this.idOf(i), signalCount: h.unflushed[i]!,
      ...(seen ? { firstSeen: h.first[i]!, lastSeen: h.mark[i]! } : {}),
      ...(software ? { software } : {}),
    };
  }

  private touch(i: number): void {
    if (this.h.flags[i]! & F_DIRTY) return;
    this.h.flags[i]! |= F_DIRTY;
    this.dirty.push(i);
  }

  private noteSoftware(i: number, before: Readonly<Record<string, string>> | undefined, after: Readonly<Record<string, string>> | undefined, time: number, via: string): void {
    if (!before || !after) return;
    for (const [ecu, version] of Object.entries(after)) {
      const was = before[ecu];
      if (was !== undefined && was !== version) this.timelines.add(i, { time, kind: 'software', summary: `${ecu} software ${was} -> ${version} (${via})`, details: { ecu, from: was, to: version } });
    }
  }

  private addSignal(i: number, signal: number): number {
    const h = this.h;
    const from = this.layouts[i]!;
    const to = this.shapes.extend(from, signal);
    const cap = h.cap[i]!;
    if (to.size > cap) {
      // What twins of this shape grew to, but at most 4x what this one holds (one odd vehicle must not inflate all).
      const want = Math.max(to.size, Math.min(to.expected, to.size * 4 + 12), Math.ceil(cap * 1.5));
      const size = Math.min(MAX_SIGNALS_PER_TWIN, want);
      const at = this.slab.alloc(size);
      if (from.size) this.slab.move(h.region[i]!, at, from.size);
      this.slab.release(h.region[i]!, cap);
      h.region[i] = at;
      h.cap[i] = size;
    }
    this.layouts[i] = to;
    return to.size - 1;
  }

  private rebase(i: number, t: number): void {
    const h = this.h;
    const base = Math.floor(t) - 2 ** 30;
    const shift = base - h.base[i]!;
    const n = this.layouts[i]!.size;
    for (let p = 0; p < n; p++) {
      const at = h.region[i]! + p;
      const c = this.slab.chunks[at >>> CHUNK_BITS]!;
      const o = at & CHUNK_MASK;
      const d = c.time[o]!;
      if (d !== NEVER) c.time[o] = Math.max(TIME_FLOOR, d - shift);
    }
    h.base[i] = base;
  }

  private tenantId(tenant: string): number {
    let t = this.tenantIds.get(tenant);
    if (t === undefined) {
      t = this.tenants.length;
      if (t > 0xffff) throw new RangeError('more than 65,536 tenants in one worker');
      this.tenants.push(tenant);
      this.tenantIds.set(tenant, t);
    }
    return t;
  }

  private find(tenant: string, id: string): number {
    const t = this.tenantIds.get(tenant);
    if (t === undefined) return -1;
    if (!HEX_KEY.test(id)) return this.oddKeys.get(`${t}/${id}`) ?? -1;
    const hi = parseInt(id.slice(0, 8), 16);
    const lo = parseInt(id.slice(8), 16);
    const mask = this.index.length - 1;
    for (let s = slotHash(t, hi, lo) & mask; ; s = (s + 1) & mask) {
      const e = this.index[s]!;
      if (e === 0) return -1;
      const i = e - 1;
      if (this.h.lo[i] === lo && this.h.hi[i] === hi && this.h.tenant[i] === t) return i;
    }
  }

  private create(tenant: string, id: string): number {
    if (this.live >= MAX_TWINS_PER_WORKER) this.evictOne();
    const t = this.tenantId(tenant);
    const i = this.freeIdx.pop() ?? this.next++;
    if (i >= this.h.capacity) this.h.grow(i + 1);
    const h = this.h;
    h.tenant[i] = t;
    h.base[i] = Number.NaN;
    h.first[i] = Number.POSITIVE_INFINITY;
    h.mark[i] = 0;
    h.count[i] = 0;
    h.unflushed[i] = 0;
    h.region[i] = 0;
    h.cap[i] = 0;
    h.profile[i] = 0;
    h.flags[i] = F_LIVE;
    this.layouts[i] = this.shapes.root;
    this.live++;
    if (!HEX_KEY.test(id)) {
      h.flags[i]! |= F_ODD;
      this.oddKeys.set(`${t}/${id}`, i);
      this.oddIds.set(i, id);
      return i;
    }
    h.hi[i] = parseInt(id.slice(0, 8), 16);
    h.lo[i] = parseInt(id.slice(8), 16);
    if ((this.live - this.oddIds.size) * 2 > this.index.length) this.rehash(this.index.length * 2);
    this.insert(i);
    return i;
  }

  private insert(i: number): void {
    const mask = this.index.length - 1;
    let s = slotHash(this.h.tenant[i]!, this.h.hi[i]!, this.h.lo[i]!) & mask;
    while (this.index[s] !== 0) s = (s + 1) & mask;
    this.index[s] = i + 1;
  }

  private rehash(size: number): void {
    const old = this.index;
    this.index = new Int32Array(size);
    for (const e of old) if (e !== 0) this.insert(e - 1);
  }

  private evictOne(): void {
    for (;;) {
      const i = this.evictCursor;
      this.evictCursor = (this.evictCursor + 1) % this.next;
      if (!(this.h.flags[i]! & F_LIVE)) continue;
      if (this.h.flags[i]! & F_DIRTY) this.evicted.push(this.summary(i));
      this.remove(i);
      return;
    }
  }

  private remove(i: number): void {
    const h = this.h;
    if (h.flags[i]! & F_ODD) {
      this.oddKeys.delete(`${h.tenant[i]}/${this.oddIds.get(i)}`);
      this.oddIds.delete(i);
    } else {
      // Backward-shift deletion keeps linear probing chains intact.
      const mask = this.index.length - 1;
      let s = slotHash(h.tenant[i]!, h.hi[i]!, h.lo[i]!) & mask;
      while (this.index[s] !== i + 1) s = (s + 1) & mask;
      let hole = s;
      for (let j = (hole + 1) & mask; this.index[j] !== 0; j = (j + 1) & mask) {
        const k = this.index[j]! - 1;
        const home = slotHash(h.tenant[k]!, h.hi[k]!, h.lo[k]!) & mask;
        if (((j - home) & mask) >= ((j - hole) & mask)) {
          this.index[hole] = this.index[j]!;
          hole = j;
        }
      }
      this.index[hole] = 0;
    }
    this.slab.release(h.region[i]!, h.cap[i]!);
    h.flags[i] = 0;
    this.layouts[i] = this.shapes.root;
    this.timelines.delete(i);
    this.live--;
    this.freeIdx.push(i);
  }
}

function slotHash(tenant: number, hi: number, lo: number): number {
  return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b) ^ Math.imul(tenant + 1, 0xc2b2ae35), 0x9e3779b1) >>> 8;
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}
