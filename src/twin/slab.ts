/**
 * The slot arena of one worker's twins: per signal of a twin, one slot holding its last value
 * and time and its running statistics, in columns of typed arrays — no JS object per signal.
 * A twin owns a region of consecutive slots (its layout gives the position of each signal).
 *
 * Columns come in chunks of CHUNK_SLOTS so the arena grows without copying (and without the
 * 2x peak of doubling one huge array); a region never spans two chunks. Freed regions are
 * reused by size.
 *
 * 30 bytes a slot: value f64, time i32 (ms from the twin's time base), count u16, mean, M2,
 * min and max f32. Statistics are single precision (about 7 significant digits); min and max
 * are rounded outward so they stay true bounds. The count saturates at COUNT_CAP, after which
 * mean and variance are exponentially weighted over about the last COUNT_CAP values.
 */

/** Slots per chunk (2^20: 30 MiB of columns). */
export const CHUNK_BITS = 20;
export const CHUNK_SLOTS = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK_SLOTS - 1;

/** Saturation point of the per-signal count (a u16). */
export const COUNT_CAP = 65_535;
/** `time` of a slot never written. */
export const NEVER = -0x80000000;
/** Earliest representable offset: older times are clamped to it (see TwinRegistry.record). */
export const TIME_FLOOR = -0x7fffffff;
export const TIME_CEIL = 0x7fffffff;

export class Chunk {
  readonly value = new Float64Array(CHUNK_SLOTS);
  readonly time = new Int32Array(CHUNK_SLOTS);
  readonly count = new Uint16Array(CHUNK_SLOTS);
  readonly mean = new Float32Array(CHUNK_SLOTS);
  readonly m2 = new Float32Array(CHUNK_SLOTS);
  readonly min = new Float32Array(CHUNK_SLOTS);
  readonly max = new Float32Array(CHUNK_SLOTS);
}

export class Slab {
  readonly chunks: Chunk[] = [];
  /** Next free slot of the last chunk (global address). */
  private top = 0;
  private readonly free = new Map<number, number[]>();
  /** Slots handed out and not freed. */
  used = 0;

  /** A region of `size` empty slots (time NEVER); returns its global address. */
  alloc(size: number): number {
    if (size > CHUNK_SLOTS) throw new RangeError(`region of ${size} slots exceeds a chunk`);
    let at = this.free.get(size)?.pop();
    if (at === undefined) {
      const chunk = this.top >>> CHUNK_BITS;
      if (chunk < this.chunks.length && (this.top & CHUNK_MASK) + size > CHUNK_SLOTS) this.top = (chunk + 1) * CHUNK_SLOTS;
      if (this.top >>> CHUNK_BITS >= this.chunks.length) this.chunks.push(new Chunk());
      at = this.top;
      this.top += size;
    }
    this.clear(at, size);
    this.used += size;
    return at;
  }

  release(at: number, size: number): void {
    if (size === 0) return;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(at);
    this.used -= size;
  }

  /** Copy `n` slots from `from` to `to` (regions of two different allocations). */
  move(from: number, to: number, n: number): void {
    const a = this.chunks[from >>> CHUNK_BITS]!;
    const b = this.chunks[to >>> CHUNK_BITS]!;
    const i = from & CHUNK_MASK;
    const j = to & CHUNK_MASK;
    b.value.set(a.value.subarray(i, i + n), j);
    b.time.set(a.time.subarray(i, i + n), j);
    b.count.set(a.count.subarray(i, i + n), j);
    b.mean.set(a.mean.subarray(i, i + n), j);
    b.m2.set(a.m2.subarray(i, i + n), j);
    b.min.set(a.min.subarray(i, i + n), j);
    b.max.set(a.max.subarray(i, i + n), j);
  }

  /** Bytes of the columns allocated (what the arena costs, used or not). */
  get bytes(): number {
    return this.chunks.length * CHUNK_SLOTS * 30;
  }

  private clear(at: number, size: number): void {
    const c = this.chunks[at >>> CHUNK_BITS]!;
    const i = at & CHUNK_MASK;
    c.value.fill(Number.NaN, i, i + size);
    c.time.fill(NEVER, i, i + size);
    c.count.fill(0, i, i + size);
    c.mean.fill(0, i, i + size);
    c.m2.fill(0, i, i + size);
    c.min.fill(Number.POSITIVE_INFINITY, i, i + size);
    c.max.fill(Number.NEGATIVE_INFINITY, i, i + size);
  }
}

export const chunkOf = (at: number): number => at >>> CHUNK_BITS;
export const offsetOf = (at: number): number => at & CHUNK_MASK;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The largest float32 <= v (a min that stays a lower bound). */
export function f32Down(v: number): number {
  f32[0] = v;
  const f = f32[0]!;
  if (f <= v || Number.isNaN(f)) return f;
  u32[0] = f > 0 ? u32[0]! - 1 : f === 0 ? 0x80000001 : u32[0]! + 1;
  return f32[0]!;
}

/** The smallest float32 >= v (a max that stays an upper bound). */
export function f32Up(v: number): number {
  return -f32Down(-v);
}
