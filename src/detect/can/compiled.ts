/**
 * A CanProfile compiled for scoring: the learnt figures with their tolerances applied, as
 * typed arrays indexed by id slot (payload arrays by slot * MODEL_BYTES + byte). Built once
 * per detector; read-only afterwards.
 */
import { MAX_PROFILE_IDS, MODEL_BYTES } from './learn.js';
import type { CanProfile } from './profile.js';
import { IdTable, KeySet } from './tables.js';

/** Slot numbers in n-gram keys are base-4096 digits (4 of them stay below 2^53). */
export const GRAM_BASE = 4096;
/** A stepLimit meaning "not checked". */
export const NO_BYTE = 255;

export class CompiledProfile {
  readonly ids: readonly number[];
  readonly table: IdTable;
  readonly periodic: Uint8Array;
  /** Periodic ids whose gaps alternate long-short (TimingModel.alternating). */
  readonly alternating: Uint8Array;
  readonly period: Float64Array;
  readonly earlyTol: Float64Array;
  readonly minGap: Float64Array;
  readonly suspendAfter: Float64Array;
  readonly dlcMask: Uint32Array;
  readonly bytes: Uint8Array;
  readonly constMask: Uint8Array;
  readonly constValue: Uint8Array;
  readonly lo: Uint8Array;
  readonly hi: Uint8Array;
  readonly stepLimit: Uint8Array;
  readonly stepMean: Float64Array;
  /** Per byte: the surprise (bits) of the byte changing from one frame to the next, -log2 of its learnt change share. */
  readonly changeCost: Float64Array;
  readonly grams: KeySet | undefined;
  readonly n: number;
  readonly minViolations: number;

  constructor(readonly profile: CanProfile) {
    const models = profile.ids;
    if (models.length > MAX_PROFILE_IDS) throw new RangeError(`profile has ${models.length} ids, more than ${MAX_PROFILE_IDS}`);
    const k = models.length;
    const tol = profile.tolerances;
    this.ids = models.map((m) => m.id >>> 0);
    this.table = new IdTable(this.ids);
    this.periodic = new Uint8Array(k);
    this.alternating = new Uint8Array(k);
    this.period = new Float64Array(k);
    this.earlyTol = new Float64Array(k);
    this.minGap = new Float64Array(k);
    this.suspendAfter = new Float64Array(k);
    this.dlcMask = new Uint32Array(k * 3);
    this.bytes = new Uint8Array(k);
    this.constMask = new Uint8Array(k * MODEL_BYTES);
    this.constValue = new Uint8Array(k * MODEL_BYTES);
    this.lo = new Uint8Array(k * MODEL_BYTES);
    this.hi = new Uint8Array(k * MODEL_BYTES).fill(255);
    this.stepLimit = new Uint8Array(k * MODEL_BYTES).fill(NO_BYTE);
    this.stepMean = new Float64Array(k * MODEL_BYTES);
    this.changeCost = new Float64Array(k * MODEL_BYTES);
    models.forEach((m, s) => {
      const t = m.timing;
      if (t.kind === 'periodic') {
        this.periodic[s] = 1;
        if (t.alternating === true) this.alternating[s] = 1;
        this.period[s] = t.period;
        this.earlyTol[s] = t.earliest * tol.earlyFactor + tol.earlySlackMs;
        this.minGap[s] = t.minGap * tol.periodicMinGapFactor;
      } else this.minGap[s] = t.minGap * tol.minGapFactor;
      this.suspendAfter[s] = t.maxGap > 0 ? t.maxGap * tol.suspendFactor : Infinity;
      for (const d of m.dlcs) this.dlcMask[s * 3 + (d >>> 5)]! |= 1 << (d & 31);
      const p = m.payload;
      if (!p) return;
      this.bytes[s] = Math.min(p.bytes, MODEL_BYTES);
      for (let b = 0; b < this.bytes[s]!; b++) {
        const at = s * MODEL_BYTES + b;
        this.constMask[at] = p.constMask[b]!;
        this.constValue[at] = p.constValue[b]!;
        this.stepMean[at] = p.stepMean[b]!;
        this.changeCost[at] = -Math.log2(Math.max(p.changeShare[b]!, 1 / Math.max(1, m.frames)));
        const slack = Math.ceil((p.max[b]! - p.min[b]!) * tol.rangeSlack);
        this.lo[at] = Math.max(0, p.min[b]! - slack);
        this.hi[at] = Math.min(255, p.max[b]! + slack);
        if (p.maxStep[b]! <= tol.stepNoisy && p.changeShare[b]! >= tol.stepMinChange && p.stepSettledAt[b]! <= tol.stepSettledShare) this.stepLimit[at] = Math.min(NO_BYTE - 1, Math.ceil(p.maxStep[b]! * tol.stepFactor + tol.stepSlack));
      }
    });
    this.n = profile.ngram.n;
    if (profile.ngram.enabled) {
      const keys: number[] = [];
      for (const g of profile.ngram.grams) {
        let key = 0;
        let ok = true;
        for (const hex of g.split(' ')) {
          const s = this.table.slot(parseInt(hex, 16) >>> 0);
          if (s < 0) ok = false;
          key = key * GRAM_BASE + s;
        }
        if (ok) keys.push(key);
      }
      this.grams = new KeySet(keys);
    }
    this.minViolations = Math.max(1, tol.payloadMinViolations);
  }
}

/** How far the change prev -> v (on the byte circle) is from the byte's mean change. */
export function stepDistance(v: number, prev: number, mean: number): number {
  let d = (v - prev) & 0xff;
  if (d > 127) d -= 256;
  let x = d - mean;
  if (x > 128) x -= 256;
  else if (x < -128) x += 256;
  return x < 0 ? -x : x;
}
