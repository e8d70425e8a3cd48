/**
 * Two open-addressing tables the detector's hot path reads without allocating: ids to model
 * slots (standard ids through a dense array, extended ids hashed), and a set of n-gram keys
 * (numbers below 2^53, hashed from their two 26-bit-ish halves). Both are sized once at
 * compile time from the profile; neither grows while scoring.
 */

/** Standard (11-bit) ids index a dense array; everything else goes through the hash part. */
const DENSE = 0x800;

/** Maps CAN ids (with the extended flag) to slot numbers; -1 when the id is not allow-listed. */
export class IdTable {
  private readonly dense = new Int32Array(DENSE).fill(-1);
  private readonly keys: Uint32Array;
  private readonly values: Int32Array;
  private readonly mask: number;

  constructor(ids: readonly number[]) {
    const wide = ids.filter((id) => id >>> 0 >= DENSE);
    let cap = 16;
    while (cap < wide.length * 2) cap *= 2;
    this.keys = new Uint32Array(cap);
    this.values = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
    ids.forEach((raw, slot) => {
      const id = raw >>> 0;
      if (id < DENSE) {
        this.dense[id] = slot;
        return;
      }
      let h = mix(id) & this.mask;
      while (this.values[h] !== -1) h = (h + 1) & this.mask;
      this.keys[h] = id;
      this.values[h] = slot;
    });
  }

  slot(id: number): number {
    if (id < DENSE) return this.dense[id]!;
    let h = mix(id) & this.mask;
    for (;;) {
      const v = this.values[h]!;
      if (v === -1 || this.keys[h] === id) return v;
      h = (h + 1) & this.mask;
    }
  }
}

/** A fixed set of non-negative integer keys below 2^53 (n-grams of slot numbers). */
export class KeySet {
  private readonly keys: Float64Array;
  private readonly used: Uint8Array;
  private readonly mask: number;
  readonly size: number;

  constructor(keys: Iterable<number>) {
    const list = [...new Set(keys)];
    let cap = 16;
    while (cap < list.length * 2) cap *= 2;
    this.keys = new Float64Array(cap);
    this.used = new Uint8Array(cap);
    this.mask = cap - 1;
    for (const k of list) {
      let h = hashKey(k) & this.mask;
      while (this.used[h]) h = (h + 1) & this.mask;
      this.keys[h] = k;
      this.used[h] = 1;
    }
    this.size = list.length;
  }

  has(k: number): boolean {
    let h = hashKey(k) & this.mask;
    while (this.used[h]) {
      if (this.keys[h] === k) return true;
      h = (h + 1) & this.mask;
    }
    return false;
  }
}

function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Hash of a key below 2^53 from its low 32 bits and the rest, without a heap number. */
function hashKey(k: number): number {
  const lo = k % 0x100000000;
  const hi = (k - lo) / 0x100000000;
  return mix((lo ^ Math.imul(hi, 0x9e3779b1)) >>> 0);
}
