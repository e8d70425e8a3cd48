/**
 * A worker's twins as one compact binary snapshot, and back. The bulk — header and slot
 * columns — is written as whole typed arrays (about the bytes the twins take in memory);
 * the small parts (tenants, identities, layouts, timelines, cohort baselines) as one JSON
 * section. Little-endian, every column aligned to 8 bytes.
 *
 *   u32 magic "VTW1" | u32 JSON length | JSON | pad | header columns (N twins) | slot columns (S slots)
 */
import type { Layout } from './layout.js';
import type { VehicleIdentity } from './cohorts.js';
import { CHUNK_BITS } from './slab.js';
import type { TimelineEvent } from './timeline.js';
import type { TwinRegistry } from './twins.js';

const MAGIC = 0x31575456; // "VTW1"
const CHUNK_MASK = (1 << CHUNK_BITS) - 1;

interface Meta {
  readonly twins: number;
  readonly slots: number;
  readonly tenants: readonly string[];
  readonly profiles: readonly VehicleIdentity[];
  readonly layouts: readonly number[][];
  /** Twin ordinal -> vehicle id, for ids that are not 16 hex digits. */
  readonly oddIds: readonly [number, string][];
  readonly timelines: readonly [number, TimelineEvent[]][];
  /** Cohort key -> [signal, count, mean, m2, min, max] rows. */
  readonly cohorts: readonly [string, number[][]][];
}

type Column = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

const pad8 = (n: number): number => (n + 7) & ~7;

/** The snapshot of every live twin of `reg`. */
export function encodeTwins(reg: TwinRegistry): Uint8Array {
  const h = reg.h;
  const live = [...reg.liveIndices()];
  const layoutIds = new Map<Layout, number>();
  const layouts: number[][] = [];
  const twinLayout = new Uint32Array(live.length);
  let slots = 0;
  const oddIds: [number, string][] = [];
  const timelines: [number, TimelineEvent[]][] = [];
  live.forEach((i, k) => {
    const l = reg.layouts[i]!;
    let id = layoutIds.get(l);
    if (id === undefined) {
      layoutIds.set(l, (id = layouts.length));
      layouts.push([...l.signals]);
    }
    twinLayout[k] = id;
    slots += l.size;
    if (reg.oddIds.has(i)) oddIds.push([k, reg.oddIds.get(i)!]);
    const events = reg.timelines.of(i);
    if (events.length) timelines.push([k, [...events]]);
  });
  const cohorts: [string, number[][]][] = [];
  for (const c of reg.profiles.cohorts) {
    if (!c) continue;
    const rows: number[][] = [];
    for (let s = 0; s < c.count.length; s++) if (c.count[s]) rows.push([s, c.count[s]!, c.mean[s]!, c.m2[s]!, c.min[s]!, c.max[s]!]);
    cohorts.push([c.key, rows]);
  }
  const meta: Meta = {
    twins: live.length, slots, tenants: reg.tenants, profiles: reg.profiles.list.map((p) => p.identity),
    layouts, oddIds, timelines, cohorts,
  };
  const json = new TextEncoder().encode(JSON.stringify(meta));
  const pick = <T extends Column>(src: T, make: (n: number) => T): T => {
    const out = make(live.length);
    live.forEach((i, k) => (out[k] = src[i]!));
    return out;
  };
  const heads: Column[] = [
    pick(h.tenant, (n) => new Uint16Array(n)), pick(h.hi, (n) => new Uint32Array(n)), pick(h.lo, (n) => new Uint32Array(n)),
    pick(h.base, (n) => new Float64Array(n)), pick(h.first, (n) => new Float64Array(n)), pick(h.mark, (n) => new Float64Array(n)),
    pick(h.count, (n) => new Float64Array(n)), pick(h.unflushed, (n) => new Uint32Array(n)), twinLayout, pick(h.profile, (n) => new Uint32Array(n)),
  ];
  const cols = slotColumns(slots);
  let s = 0;
  for (const i of live) {
    const n = reg.layouts[i]!.size;
    copySlots(h.region[i]!, n, (name, from, len) => cols[name].set((reg.slab.chunks[from >>> CHUNK_BITS]![name] as Column).subarray(from & CHUNK_MASK, (from & CHUNK_MASK) + len), s));
    s += n;
  }
  const parts: Column[] = [...heads, ...Object.values(cols)];
  let size = pad8(8 + json.length);
  for (const p of parts) size += pad8(p.byteLength);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, json.length, true);
  out.set(json, 8);
  let at = pad8(8 + json.length);
  for (const p of parts) {
    out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at);
    at += pad8(p.byteLength);
  }
  return out;
}

/** Restore a snapshot into `reg` (normally empty); returns the number of twins restored. */
export function decodeTwins(reg: TwinRegistry, bytes: Uint8Array): number {
  if (bytes.byteLength < 8) throw new Error('twin checkpoint: truncated');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) throw new Error('twin checkpoint: not a VTW1 snapshot');
  const len = dv.getUint32(4, true);
  const meta = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len))) as Meta;
  // Columns are read from an aligned copy: the store may hand back any byte offset.
  const body = bytes.slice(pad8(8 + len));
  let at = 0;
  const take = <T extends Column>(make: (b: ArrayBuffer, o: number, n: number) => T, n: number, width: number): T => {
    if (at + n * width > body.byteLength) throw new Error('twin checkpoint: truncated');
    const col = make(body.buffer, at, n);
    at += pad8(n * width);
    return col;
  };
  const N = meta.twins;
  const tenant = take((b, o, n) => new Uint16Array(b, o, n), N, 2);
  const hi = take((b, o, n) => new Uint32Array(b, o, n), N, 4);
  const lo = take((b, o, n) => new Uint32Array(b, o, n), N, 4);
  const base = take((b, o, n) => new Float64Array(b, o, n), N, 8);
  const first = take((b, o, n) => new Float64Array(b, o, n), N, 8);
  const mark = take((b, o, n) => new Float64Array(b, o, n), N, 8);
  const count = take((b, o, n) => new Float64Array(b, o, n), N, 8);
  const unflushed = take((b, o, n) => new Uint32Array(b, o, n), N, 4);
  const layout = take((b, o, n) => new Uint32Array(b, o, n), N, 4);
  const profile = take((b, o, n) => new Uint32Array(b, o, n), N, 4);
  const S = meta.slots;
  const cols = {
    value: take((b, o, n) => new Float64Array(b, o, n), S, 8),
    time: take((b, o, n) => new Int32Array(b, o, n), S, 4),
    count: take((b, o, n) => new Uint16Array(b, o, n), S, 2),
    mean: take((b, o, n) => new Float32Array(b, o, n), S, 4),
    m2: take((b, o, n) => new Float32Array(b, o, n), S, 4),
    min: take((b, o, n) => new Float32Array(b, o, n), S, 4),
    max: take((b, o, n) => new Float32Array(b, o, n), S, 4),
  };
  const profiles = meta.profiles.map((p, k) => (k === 0 ? 0 : reg.profiles.intern(p)));
  const layouts = meta.layouts.map((signals) => reg.shapes.of(signals));
  const odd = new Map(meta.oddIds);
  const index = new Uint32Array(N);
  let s = 0;
  for (let k = 0; k < N; k++) {
    const id = odd.get(k) ?? hi[k]!.toString(16).padStart(8, '0') + lo[k]!.toString(16).padStart(8, '0');
    const l = layouts[layout[k]!]!;
    const i = reg.restoreTwin(meta.tenants[tenant[k]!]!, id, l, {
      base: base[k]!, first: first[k]!, mark: mark[k]!, count: count[k]!, unflushed: unflushed[k]!, profile: profiles[profile[k]!]!,
    });
    index[k] = i;
    const region = reg.h.region[i]!;
    copySlots(region, l.size, (name, to, n) => (reg.slab.chunks[to >>> CHUNK_BITS]![name] as Column).set(cols[name].subarray(s, s + n), to & CHUNK_MASK));
    s += l.size;
  }
  for (const [k, events] of meta.timelines) for (const e of events) reg.timelines.add(index[k]!, e);
  for (const [key, rows] of meta.cohorts) {
    const c = reg.profiles.cohorts.find((x) => x?.key === key);
    if (!c) continue;
    for (const [signal, n, mean, m2, min, max] of rows) if (signal! < c.count.length) c.merge(signal!, { count: n!, mean: mean!, m2: m2!, min: min!, max: max! });
  }
  return N;
}

const SLOT_NAMES = ['value', 'time', 'count', 'mean', 'm2', 'min', 'max'] as const;
type SlotName = (typeof SLOT_NAMES)[number];

function slotColumns(n: number): Record<SlotName, Column> {
  return {
    value: new Float64Array(n), time: new Int32Array(n), count: new Uint16Array(n),
    mean: new Float32Array(n), m2: new Float32Array(n), min: new Float32Array(n), max: new Float32Array(n),
  };
}

/** Call `each` per slot column for one twin's region (a region never spans chunks). */
function copySlots(region: number, n: number, each: (name: SlotName, at: number, n: number) => void): void {
  if (n === 0) return;
  for (const name of SLOT_NAMES) each(name, region, n);
}
