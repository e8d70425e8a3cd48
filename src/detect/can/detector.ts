/**
 * Scores CAN frames against a CanProfile, frame by frame. Per frame the verdict is a bit set
 * of the models that fired (see MODEL); a flagged frame is treated as not having been on the
 * bus, so it does not move the schedule, the previous payload or the id history, and the
 * legitimate frame after an injected one is judged against legitimate state. Alerts carry
 * the reason (id, model, observed vs expected) and are rate-limited per (id, model).
 *
 * Hot path: typed arrays sized at construction from the profile; nothing is allocated per
 * frame except when an alert is raised. State is bounded by the profile's id count
 * (MAX_PROFILE_IDS) plus MAX_TRACKED_UNKNOWN_IDS for unknown-id alert cooldowns.
 */
import type { CanFrameBatch } from '../../core/can.js';
import { MAX_PROFILE_IDS, MODEL_BYTES, WARMUP_GAPS } from './learn.js';
import { MODEL, MODEL_NAMES, type CanProfile, type ModelName } from './profile.js';
import { nextDue, predicted } from './schedule.js';
import type { SignalRanges } from './signals.js';
import { IdTable, KeySet } from './tables.js';

/** Unknown ids remembered for alert cooldowns; beyond it they share one cooldown. */
export const MAX_TRACKED_UNKNOWN_IDS = 1024;
/** Default: one alert per (id, model) per 10 s; the frames in between are still flagged. */
export const DEFAULT_ALERT_COOLDOWN_MS = 10_000;
/** Consecutive rejected frames of an id after which a payload-step change is taken as the new normal. */
export const RESYNC_FRAMES = 4;
/** Slot numbers in n-gram keys are base-4096 digits (4 of them stay below 2^53). */
const GRAM_BASE = 4096;
const NO_BYTE = 255;
/** Findings that may mean "the previous frame was the extra one" (see the swap in score()). */
const SWAPPABLE = MODEL.timing | MODEL.step;
const POPCOUNT = Uint8Array.from({ length: 256 }, (_, v) => v.toString(2).replace(/0/g, '').length);

export interface CanAlert {
  /** Event time of the frame that raised it. */
  readonly time: number;
  /** CAN id (bit 31 for extended ids). */
  readonly id: number;
  readonly model: ModelName;
  readonly reason: string;
  readonly observed: number | string;
  readonly expected: string;
  /** Frame index in the batch. */
  readonly frame: number;
}

export interface ScoreResult {
  /** Per frame: the MODEL bits that fired (0 = normal). */
  readonly flags: Uint8Array;
  /** Frames with any flag. */
  readonly flagged: number;
  readonly alerts: CanAlert[];
}

export interface DetectorOptions {
  readonly alertCooldownMs?: number;
  /** Per-signal ranges from a DBC (signals.ts). */
  readonly signals?: SignalRanges;
}

export class CanDetector {
  readonly ids: readonly number[];
  private readonly table: IdTable;
  private readonly periodic: Uint8Array;
  private readonly period: Float64Array;
  private readonly earlyTol: Float64Array;
  private readonly minGap: Float64Array;
  private readonly suspendAfter: Float64Array;
  private readonly dlcMask: Uint32Array;
  private readonly bytes: Uint8Array;
  private readonly constMask: Uint8Array;
  private readonly constValue: Uint8Array;
  private readonly lo: Uint8Array;
  private readonly hi: Uint8Array;
  private readonly stepLimit: Uint8Array;
  private readonly stepMean: Float64Array;
  private readonly grams: KeySet | undefined;
  private readonly n: number;
  private readonly signals: SignalRanges | undefined;
  private readonly cooldown: number;
  private readonly minViolations: number;
  // State.
  private readonly due: Float64Array;
  private readonly lastT: Float64Array;
  private readonly lastSeen: Float64Array;
  /** Frames accepted for timing, counted up to WARMUP_GAPS + 1. */
  private readonly accepted: Uint8Array;
  private readonly lastFlagT: Float64Array;
  private readonly prev: Uint8Array;
  private readonly hasPrev: Uint8Array;
  private readonly rejectRun: Uint16Array;
  /** The last accepted frame of each id: its index in the current batch (-1: none), how well it fitted, and the state before it. */
  private readonly lastIdx: Int32Array;
  private readonly accFit: Float64Array;
  private readonly dueBefore: Float64Array;
  private readonly lastTBefore: Float64Array;
  private readonly prevBefore: Uint8Array;
  private readonly hasPrevBefore: Uint8Array;
  private readonly lastAlert: Float64Array;
  private readonly unknownAlert = new Map<number, number>();
  private sharedUnknownAlert = -Infinity;
  private readonly history: Int32Array;
  private historyLen = 0;
  private gramRun = 0;

  constructor(
    readonly profile: CanProfile,
    options: DetectorOptions = {},
  ) {
    const models = profile.ids;
    if (models.length > MAX_PROFILE_IDS) throw new RangeError(`profile has ${models.length} ids, more than ${MAX_PROFILE_IDS}`);
    const k = models.length;
    const tol = profile.tolerances;
    this.ids = models.map((m) => m.id >>> 0);
    this.table = new IdTable(this.ids);
    this.periodic = new Uint8Array(k);
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
    models.forEach((m, s) => {
      const t = m.timing;
      if (t.kind === 'periodic') {
        this.periodic[s] = 1;
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
    this.signals = options.signals;
    this.cooldown = options.alertCooldownMs ?? DEFAULT_ALERT_COOLDOWN_MS;
    this.minViolations = Math.max(1, tol.payloadMinViolations);
    this.due = new Float64Array(k).fill(NaN);
    this.lastT = new Float64Array(k).fill(NaN);
    this.lastSeen = new Float64Array(k).fill(NaN);
    this.accepted = new Uint8Array(k);
    this.lastFlagT = new Float64Array(k).fill(NaN);
    this.prev = new Uint8Array(k * MODEL_BYTES);
    this.hasPrev = new Uint8Array(k);
    this.rejectRun = new Uint16Array(k);
    this.lastIdx = new Int32Array(k).fill(-1);
    this.accFit = new Float64Array(k);
    this.dueBefore = new Float64Array(k).fill(NaN);
    this.lastTBefore = new Float64Array(k).fill(NaN);
    this.prevBefore = new Uint8Array(k * MODEL_BYTES);
    this.hasPrevBefore = new Uint8Array(k);
    this.lastAlert = new Float64Array(k * 8).fill(-Infinity);
    this.history = new Int32Array(Math.max(1, this.n - 1));
  }

  /** Forget all state (a new recording: nothing before it is on the same bus timeline). */
  reset(): void {
    this.due.fill(NaN);
    this.lastT.fill(NaN);
    this.lastSeen.fill(NaN);
    this.accepted.fill(0);
    this.lastFlagT.fill(NaN);
    this.rejectRun.fill(0);
    this.hasPrev.fill(0);
    this.hasPrevBefore.fill(0);
    this.dueBefore.fill(NaN);
    this.lastTBefore.fill(NaN);
    this.historyLen = 0;
    this.gramRun = 0;
  }

  /** Score a batch (frames in time order, continuing the previous batch). `out` is reused when it is large enough. */
  score(batch: CanFrameBatch, out?: Uint8Array): ScoreResult {
    const size = batch.size;
    const flags = out && out.length >= size ? out.subarray(0, size) : new Uint8Array(size);
    const alerts: CanAlert[] = [];
    const { id, dlc, data, stride, time } = batch;
    const grams = this.grams;
    const hist = this.history;
    const h = this.n - 1;
    let flagged = 0;
    this.lastIdx.fill(-1);
    for (let i = 0; i < size; i++) {
      const fid = id[i]!;
      const t = time[i]!;
      const s = this.table.slot(fid);
      if (s < 0) {
        flags[i] = MODEL.allowList;
        flagged++;
        this.unknown(fid, t, i, alerts);
        continue;
      }
      let f = 0;
      let phaseShift = false;
      // Timing.
      const last = this.lastT[s]!;
      let pred = NaN;
      if (t - this.lastSeen[s]! > this.suspendAfter[s]!) f |= MODEL.suspension;
      if (last === last && this.accepted[s]! > WARMUP_GAPS) {
        const gap = t - last;
        if (this.periodic[s] === 1) {
          pred = predicted(this.due[s]!, t, this.period[s]!);
          if (gap < this.minGap[s]!) f |= MODEL.timing;
          else if (pred - t > this.earlyTol[s]!) {
            // A run of early frames that keep the period among themselves is a phase change, not injection.
            const sinceFlag = t - this.lastFlagT[s]!;
            if (this.rejectRun[s]! >= 2 && Math.abs(sinceFlag - this.period[s]!) <= this.earlyTol[s]!) phaseShift = true;
            else f |= MODEL.timing;
          }
        } else if (gap < this.minGap[s]!) f |= MODEL.timing;
      }
      // Payload.
      const n = dlc[i]!;
      if ((this.dlcMask[s * 3 + (n >>> 5)]! & (1 << (n & 31))) === 0) f |= MODEL.dlc;
      const nb = this.bytes[s]! < n ? this.bytes[s]! : n;
      const at = i * stride;
      const ms = s * MODEL_BYTES;
      let stepFit = 0;
      let violations = 0;
      // Frames lost in between (a flooded bus drops some) add their changes: scale by the periods elapsed.
      const periods = this.periodic[s] === 1 && last === last ? Math.max(1, Math.round((t - last) / this.period[s]!)) : 1;
      for (let b = 0; b < nb; b++) {
        const v = data[at + b]!;
        violations += POPCOUNT[(v & this.constMask[ms + b]!) ^ this.constValue[ms + b]!]!;
        if (v < this.lo[ms + b]! || v > this.hi[ms + b]!) violations++;
        const lim = this.stepLimit[ms + b]!;
        if (lim !== NO_BYTE && this.hasPrev[s] === 1) {
          const step = stepDistance(v, this.prev[ms + b]!, this.stepMean[ms + b]! * periods) / (lim * periods);
          if (step > stepFit) stepFit = step;
        }
      }
      if (violations >= this.minViolations) f |= MODEL.payload;
      if (stepFit > 1) f |= MODEL.step;
      if (this.signals !== undefined && this.signals.violates(fid, data, at, n)) f |= MODEL.signal;
      // Id sequence: the n-gram of the accepted history ending with this id.
      if (grams !== undefined && (f & ~MODEL.suspension) === 0 && this.historyLen === h) {
        let key = 0;
        for (let j = 0; j < h; j++) key = key * GRAM_BASE + hist[j]!;
        key = key * GRAM_BASE + s;
        if (!grams.has(key)) {
          if (++this.gramRun > RESYNC_FRAMES) this.gramRun = 0;
          else f |= MODEL.ngram;
        } else this.gramRun = 0;
      }
      // Two frames in one slot of the schedule: when this one fits the state before the last
      // accepted frame better than that frame did, that frame was the extra one (judged within
      // a batch; not with the n-gram model, whose history cannot be rewound).
      if ((f & SWAPPABLE) !== 0 && (f & ~(SWAPPABLE | MODEL.suspension)) === 0 && this.lastIdx[s]! >= 0 && grams === undefined && this.periodic[s] === 1) {
        const fit = this.fitBefore(s, t, data, at, nb);
        if (fit <= 1 && fit < this.accFit[s]!) {
          const j = this.lastIdx[s]!;
          if (flags[j] === 0) flagged++;
          flags[j]! |= MODEL.timing;
          this.raiseDisplaced(s, j, t, alerts);
          const before = this.dueBefore[s]!;
          const p2 = before === before ? predicted(before, t, this.period[s]!) : NaN;
          this.due[s] = p2 === p2 ? nextDue(p2, t, this.period[s]!) : t;
          this.lastT[s] = t;
          this.lastSeen[s] = t;
          for (let b = 0; b < nb; b++) this.prev[ms + b] = data[at + b]!;
          this.accFit[s] = fit;
          this.lastIdx[s] = i;
          this.rejectRun[s] = 0;
          flags[i] = f & MODEL.suspension;
          if (flags[i] !== 0) flagged++;
          continue;
        }
      }
      if (f !== 0) {
        flags[i] = f;
        flagged++;
        this.raise(s, f, t, i, pred, alerts, batch);
      } else flags[i] = 0;
      // A flagged frame is taken as not having been on the bus, model by model: an early frame
      // does not move the schedule, a bad payload not the previous payload, any flag not the
      // id history. After RESYNC_FRAMES rejections in a row the id's payload state follows anyway.
      this.lastSeen[s] = t;
      const accepted = (f & ~MODEL.suspension) === 0;
      const resync = this.rejectRun[s]! >= RESYNC_FRAMES;
      if (accepted) {
        this.dueBefore[s] = this.due[s]!;
        this.lastTBefore[s] = this.lastT[s]!;
        this.hasPrevBefore[s] = this.hasPrev[s]!;
        for (let b = 0; b < nb; b++) this.prevBefore[ms + b] = this.prev[ms + b]!;
        const early = pred === pred && pred > t ? (pred - t) / this.earlyTol[s]! : 0;
        this.accFit[s] = early > stepFit ? early : stepFit;
        this.lastIdx[s] = i;
      }
      if (accepted || (resync && (f & MODEL.timing) === 0)) {
        if (this.periodic[s] === 1) this.due[s] = pred === pred ? (phaseShift ? t : nextDue(pred, t, this.period[s]!)) : t;
        this.lastT[s] = t;
        if (this.accepted[s]! <= WARMUP_GAPS) this.accepted[s]!++;
      }
      if (accepted || resync) {
        for (let b = 0; b < nb; b++) this.prev[ms + b] = data[at + b]!;
        this.hasPrev[s] = 1;
      }
      if (!accepted) {
        this.rejectRun[s]!++;
        this.lastFlagT[s] = t;
        continue;
      }
      this.rejectRun[s] = 0;
      if (h > 0) {
        if (this.historyLen < h) hist[this.historyLen++] = s;
        else {
          for (let j = 1; j < h; j++) hist[j - 1] = hist[j]!;
          hist[h - 1] = s;
        }
      }
    }
    return { flags, flagged, alerts };
  }

  /** How well a frame fits the id's state before its last accepted frame: 0 perfectly, above 1 not at all. */
  private fitBefore(s: number, t: number, data: Uint8Array, at: number, nb: number): number {
    let fit = 0;
    const before = this.dueBefore[s]!;
    if (before === before) {
      const p = predicted(before, t, this.period[s]!);
      if (p > t) fit = (p - t) / this.earlyTol[s]!;
    }
    const gapBefore = t - this.lastTBefore[s]!;
    if (gapBefore < this.minGap[s]!) fit = Math.max(fit, 2 - gapBefore / this.minGap[s]!);
    if (this.hasPrevBefore[s] === 1) {
      const ms = s * MODEL_BYTES;
      const lastBefore = this.lastTBefore[s]!;
      const periods = lastBefore === lastBefore ? Math.max(1, Math.round((t - lastBefore) / this.period[s]!)) : 1;
      for (let b = 0; b < nb; b++) {
        const lim = this.stepLimit[ms + b]!;
        if (lim === NO_BYTE) continue;
        const step = stepDistance(data[at + b]!, this.prevBefore[ms + b]!, this.stepMean[ms + b]! * periods) / (lim * periods);
        if (step > fit) fit = step;
      }
    }
    return fit;
  }

  /** The alert for a frame found, one frame later, to have taken a later frame's slot. */
  private raiseDisplaced(s: number, frame: number, later: number, alerts: CanAlert[]): void {
    const k = s * 8 + 1;
    const t = this.lastT[s]!;
    const last = this.lastAlert[k]!;
    if (t - last < this.cooldown && t >= last) return;
    this.lastAlert[k] = t;
    const id = hexId(this.ids[s]!);
    alerts.push({ frame, time: t, id: this.ids[s]!, model: 'timing', reason: `${id}: an extra frame in one period; the frame after it fits the schedule and payload better`, observed: +(later - t).toFixed(3), expected: `one frame per ${this.period[s]!.toFixed(3)} ms` });
  }

  private unknown(fid: number, t: number, frame: number, alerts: CanAlert[]): void {
    let last = this.unknownAlert.get(fid);
    const tracked = last !== undefined || this.unknownAlert.size < MAX_TRACKED_UNKNOWN_IDS;
    if (!tracked) last = this.sharedUnknownAlert;
    if (last !== undefined && t - last < this.cooldown && t >= last) return;
    if (tracked) this.unknownAlert.set(fid, t);
    else this.sharedUnknownAlert = t;
    alerts.push({ time: t, id: fid, model: 'allowList', reason: `id ${hexId(fid)} never seen in training`, observed: hexId(fid), expected: `one of ${this.ids.length} learnt ids`, frame });
  }

  /** One alert per fired model, unless that (id, model) alerted within the cooldown. */
  private raise(s: number, f: number, t: number, frame: number, pred: number, alerts: CanAlert[], batch: CanFrameBatch): void {
    for (let bit = 0; bit < 8; bit++) {
      if ((f & (1 << bit)) === 0) continue;
      const k = s * 8 + bit;
      const last = this.lastAlert[k]!;
      if (t - last < this.cooldown && t >= last) continue;
      this.lastAlert[k] = t;
      const model = MODEL_NAMES[bit]!;
      alerts.push({ frame, time: t, id: this.ids[s]!, model, ...this.explain(s, model, t, frame, pred, batch) });
    }
  }

  private explain(s: number, model: ModelName, t: number, frame: number, pred: number, b: CanFrameBatch): { reason: string; observed: number | string; expected: string } {
    const id = hexId(this.ids[s]!);
    const ms = (x: number): string => `${x.toFixed(3)} ms`;
    const at = frame * b.stride;
    const byte = (k: number): number => b.data[at + k]!;
    switch (model) {
      case 'timing':
        return this.periodic[s]
          ? { reason: `${id} came ${ms(pred - t)} before it was due`, observed: +(t - this.lastT[s]!).toFixed(3), expected: `period ${ms(this.period[s]!)}, at most ${ms(this.earlyTol[s]!)} early` }
          : { reason: `${id} came ${ms(t - this.lastT[s]!)} after the previous one`, observed: +(t - this.lastT[s]!).toFixed(3), expected: `gap >= ${ms(this.minGap[s]!)}` };
      case 'suspension':
        return { reason: `${id} was silent for ${ms(t - this.lastSeen[s]!)}`, observed: +(t - this.lastSeen[s]!).toFixed(3), expected: `gap <= ${ms(this.suspendAfter[s]!)}` };
      case 'dlc':
        return { reason: `${id} with ${b.dlc[frame]} data bytes`, observed: b.dlc[frame]!, expected: `one of ${this.profile.ids[s]!.dlcs.join(', ')}` };
      case 'payload': {
        const ms8 = s * MODEL_BYTES;
        for (let k = 0; k < Math.min(this.bytes[s]!, b.dlc[frame]!); k++) {
          const v = byte(k);
          if ((v & this.constMask[ms8 + k]!) !== this.constValue[ms8 + k]!)
            return { reason: `${id} byte ${k}: bits ${hex8(this.constMask[ms8 + k]!)} were always ${hex8(this.constValue[ms8 + k]!)}`, observed: hex8(v), expected: `${hex8(v & ~this.constMask[ms8 + k]! | this.constValue[ms8 + k]!)} under mask ${hex8(this.constMask[ms8 + k]!)}` };
          if (v < this.lo[ms8 + k]! || v > this.hi[ms8 + k]!)
            return { reason: `${id} byte ${k} out of its learnt range`, observed: v, expected: `${this.lo[ms8 + k]}..${this.hi[ms8 + k]}` };
        }
        return { reason: `${id} payload`, observed: '', expected: '' };
      }
      case 'step': {
        const ms8 = s * MODEL_BYTES;
        for (let k = 0; k < Math.min(this.bytes[s]!, b.dlc[frame]!); k++) {
          const lim = this.stepLimit[ms8 + k]!;
          const mean = this.stepMean[ms8 + k]!;
          const dist = stepDistance(byte(k), this.prev[ms8 + k]!, mean);
          if (lim !== NO_BYTE && dist > lim) return { reason: `${id} byte ${k} went from ${this.prev[ms8 + k]} to ${byte(k)}`, observed: byte(k) - this.prev[ms8 + k]!, expected: `a change within ${lim} of ${+mean.toFixed(2)}` };
        }
        return { reason: `${id} payload step`, observed: '', expected: '' };
      }
      case 'ngram': {
        const seq = [...this.history.subarray(0, this.historyLen)].map((x) => hexId(this.ids[x]!));
        return { reason: `id sequence ${[...seq, id].join(' ')} never seen in training`, observed: [...seq, id].join(' '), expected: `one of ${this.grams?.size ?? 0} learnt ${this.n}-grams` };
      }
      case 'signal':
        return { reason: `${id}: ${this.signals?.describe(this.ids[s]!, b.data, at, b.dlc[frame]!) ?? 'signal out of range'}`, observed: '', expected: 'learnt signal ranges' };
      default:
        return { reason: `${id} unknown`, observed: id, expected: 'a learnt id' };
    }
  }
}

/** How far the change prev -> v (on the byte circle) is from the byte's mean change. */
function stepDistance(v: number, prev: number, mean: number): number {
  let d = (v - prev) & 0xff;
  if (d > 127) d -= 256;
  let x = d - mean;
  if (x > 128) x -= 256;
  else if (x < -128) x += 256;
  return x < 0 ? -x : x;
}

export const hexId = (id: number): string => ((id & 0x80000000) !== 0 ? (id & 0x1fffffff).toString(16).padStart(8, '0') + 'x' : id.toString(16).padStart(3, '0'));
const hex8 = (v: number): string => `0x${v.toString(16).padStart(2, '0')}`;
