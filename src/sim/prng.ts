/**
 * Small, fast, seeded random number generators: the simulator's only source of chance, so
 * a seed fixes every byte it produces. Hand-written on purpose: they are a few lines each
 * and `Math.random` cannot be seeded.
 */

/** A 32-bit integer mixer (the splitmix32/murmur3 finalizer family); a bijection on u32. */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** A well-mixed u32 from a seed and up to two integers: stateless randomness for lazy identity. */
export function hash32(seed: number, a: number, b = 0): number {
  return mix32(mix32(seed ^ a) ^ Math.imul(b + 1, 0x85ebca77));
}

/** `hash32` as a float in [0, 1). */
export function hashUnit(seed: number, a: number, b = 0): number {
  return hash32(seed, a, b) / 4294967296;
}

/** A 32-bit seed from an integer or a string (FNV-1a then mixed). */
export function seed32(seed: number | string): number {
  if (typeof seed === 'number') return mix32((seed | 0) ^ Math.floor(seed / 4294967296));
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
  return mix32(h >>> 0);
}

/**
 * Mulberry32: one u32 of state, so a fleet keeps one generator per vehicle in a
 * `Uint32Array`. Load a vehicle's state into `s`, draw, store `s` back.
 */
export class Mulberry32 {
  constructor(public s = 0) {}
  /** A float in [0, 1). */
  next(): number {
    const s = (this.s = (this.s + 0x6d2b79f5) | 0);
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** A float in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Approximately normal (sum of three uniforms), mean 0, standard deviation 1. */
  normal(): number {
    return (this.next() + this.next() + this.next() - 1.5) * 2;
  }
}

/** SFC32 (Chris Doty-Humphrey's small fast counting generator): the stream for global schedules. */
export class Sfc32 {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  constructor(seed: number) {
    this.a = mix32(seed);
    this.b = mix32(seed + 0x9e3779b9);
    this.c = mix32(seed + 0x3c6ef372);
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** Exponentially distributed wait with the given mean (a Poisson process's gaps). */
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
}
