/**
 * Layouts (shapes): which signals a twin holds and at which position of its slot region.
 * Vehicles of one kind send the same signals in the same order, so one layout serves
 * thousands of twins and a twin stores no signal ids at all — the same trick as V8's hidden
 * classes. A twin that sees a new signal moves to the layout's successor for that signal,
 * found in the transition map (created once).
 *
 * Every layout also learns how big twins passing through it grow (`expected`, V8's slack
 * tracking): the next twin gets a region of that size at once, not a doubling series.
 *
 * Orders can vary (CAN frames arrive in schedule order from wherever the capture started), so
 * shared layouts are capped; past the cap a twin gets a private layout that nothing else
 * references, and everything still works, with a little more memory per such twin.
 */

/** Shared layouts per worker; past it, new shapes are private to their twin. */
export const MAX_SHARED_LAYOUTS = 100_000;

/** Signals one twin may hold (its region is addressed with 16-bit positions). */
export const MAX_SIGNALS_PER_TWIN = 65_535;

export class Layout {
  /** Position -> signal id, in the order the signals were added. */
  readonly signals: Uint32Array;
  /** Open-addressing table: signal id + 1 (0 = empty) and its position. */
  private readonly keys: Int32Array;
  private readonly pos: Uint16Array;
  private readonly mask: number;
  /** Successor layouts by added signal id; only on shared layouts. */
  transitions: Map<number, Layout> | undefined;
  /** The largest size twins passing through this layout reached: the region to allocate. */
  expected: number;

  constructor(
    signals: Uint32Array,
    readonly parent: Layout | undefined,
    readonly shared: boolean,
  ) {
    this.signals = signals;
    this.expected = signals.length;
    let cap = 4;
    while (cap < signals.length * 2) cap <<= 1;
    this.keys = new Int32Array(cap);
    this.pos = new Uint16Array(cap);
    this.mask = cap - 1;
    for (let p = 0; p < signals.length; p++) {
      let h = hash(signals[p]!) & this.mask;
      while (this.keys[h] !== 0) h = (h + 1) & this.mask;
      this.keys[h] = signals[p]! + 1;
      this.pos[h] = p;
    }
  }

  get size(): number {
    return this.signals.length;
  }

  /** The position of `signal`, or -1 when the layout does not hold it. */
  indexOf(signal: number): number {
    const key = signal + 1;
    let h = hash(signal) & this.mask;
    for (;;) {
      const k = this.keys[h]!;
      if (k === key) return this.pos[h]!;
      if (k === 0) return -1;
      h = (h + 1) & this.mask;
    }
  }
}

/** Multiplicative hashing of a signal id. */
function hash(signal: number): number {
  return Math.imul(signal, 0x9e3779b1) >>> 16;
}

/** The shared layouts of one worker: a transition tree rooted at the empty layout. */
export class Layouts {
  readonly root = new Layout(new Uint32Array(0), undefined, true);
  private shared = 1;

  get sharedCount(): number {
    return this.shared;
  }

  /** The layout of `from` plus `signal` (which `from` must not hold). */
  extend(from: Layout, signal: number): Layout {
    const known = from.transitions?.get(signal);
    if (known) return known;
    if (from.size >= MAX_SIGNALS_PER_TWIN) throw new RangeError(`a twin holds at most ${MAX_SIGNALS_PER_TWIN} signals`);
    const signals = new Uint32Array(from.size + 1);
    signals.set(from.signals);
    signals[from.size] = signal;
    const share = from.shared && this.shared < MAX_SHARED_LAYOUTS;
    const next = new Layout(signals, share ? from : undefined, share);
    if (share) {
      (from.transitions ??= new Map()).set(signal, next);
      this.shared++;
      // Slack tracking: every ancestor now expects its twins to grow at least this far.
      for (let p = next.parent; p && p.expected < next.size; p = p.parent) p.expected = next.size;
    }
    return next;
  }

  /** The layout holding exactly `signals` in this order (restoring a checkpoint). */
  of(signals: ArrayLike<number>): Layout {
    let l = this.root;
    for (let i = 0; i < signals.length; i++) l = this.extend(l, signals[i]!);
    return l;
  }
}
