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
import { MODEL_BYTES, WARMUP_GAPS } from './learn.js';
import { MODEL, MODEL_NAMES, type CanProfile, type ModelName } from './profile.js';

export { hexId } from './explain.js';
import { nextDue, nextPhase, phaseResidual, predicted } from './schedule.js';
import type { SignalRanges } from './signals.js';
import { CompiledProfile, GRAM_BASE, NO_BYTE, stepDistance } from './compiled.js';
import { explainFinding, hexId, type ExplainState } from './explain.js';

/** Unknown ids remembered for alert cooldowns; beyond it they share one cooldown. */
export const MAX_TRACKED_UNKNOWN_IDS = 1024;
/** Default: one alert per (id, model) per 10 s; the frames in between are still flagged. */
export const DEFAULT_ALERT_COOLDOWN_MS = 10_000;
/** Consecutive rejected frames of an id after which a payload-step change is taken as the new normal. */
export const RESYNC_FRAMES = 4;
/** Findings that may mean "the previous frame was the extra one" (see the swap in score()). */
const SWAPPABLE = MODEL.timing | MODEL.step;
/**
 * Two frames in one slot are also told apart by their payloads: each byte that changed from the
 * id's previous accepted frame adds its surprise, -log2 of how often it changed in training (a
 * byte that changed in 1 of 4 frames adds 2 bits, a byte that never did ~13). Weighted so that
 * 32 bits weigh one early tolerance: timing decides unless the frames are near a tie. Set a
 * priori, not fitted on the attack traces.
 */
const SURPRISE_WEIGHT = 1 / 32;
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
  private readonly c: CompiledProfile;
  private readonly signals: SignalRanges | undefined;
  private readonly cooldown: number;
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
  /** The accepted frame before lastTBefore (alternating ids are judged against the frame two before). */
  private readonly lastT2Before: Float64Array;
  private readonly prevBefore: Uint8Array;
  private readonly hasPrevBefore: Uint8Array;
  /** Periodic ids: the smoothed phase (schedule.ts), and as it was before the last accepted frame. */
  private readonly phase: Float64Array;
  private readonly phaseBefore: Float64Array;
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
    this.c = new CompiledProfile(profile);
    const k = this.c.ids.length;
    this.signals = options.signals;
    this.cooldown = options.alertCooldownMs ?? DEFAULT_ALERT_COOLDOWN_MS;
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
    this.lastT2Before = new Float64Array(k).fill(NaN);
    this.prevBefore = new Uint8Array(k * MODEL_BYTES);
    this.hasPrevBefore = new Uint8Array(k);
    this.phase = new Float64Array(k).fill(NaN);
    this.phaseBefore = new Float64Array(k).fill(NaN);
    this.lastAlert = new Float64Array(k * 8).fill(-Infinity);
    this.history = new Int32Array(Math.max(1, this.c.n - 1));
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
    this.lastT2Before.fill(NaN);
    this.phase.fill(NaN);
    this.phaseBefore.fill(NaN);
    this.historyLen = 0;
    this.gramRun = 0;
  }

  /** Score a batch (frames in time order, continuing the previous batch). `out` is reused when it is large enough. */
  score(batch: CanFrameBatch, out?: Uint8Array): ScoreResult {
    const c = this.c;
    const size = batch.size;
    const flags = out && out.length >= size ? out.subarray(0, size) : new Uint8Array(size);
    const alerts: CanAlert[] = [];
    const { id, dlc, data, stride, time } = batch;
    const grams = c.grams;
    const hist = this.history;
    const h = c.n - 1;
    let flagged = 0;
    this.lastIdx.fill(-1);
    for (let i = 0; i < size; i++) {
      const fid = id[i]!;
      const t = time[i]!;
      const s = c.table.slot(fid);
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
      if (t - this.lastSeen[s]! > c.suspendAfter[s]!) f |= MODEL.suspension;
      if (last === last && this.accepted[s]! > WARMUP_GAPS) {
        const gap = t - last;
        if (c.periodic[s] === 1) {
          pred = predicted(this.due[s]!, t, c.period[s]!);
          if (gap < c.minGap[s]!) f |= MODEL.timing;
          else if (pred - t > c.earlyTol[s]!) {
            // A run of early frames that keep the period among themselves is a phase change, not injection.
            const sinceFlag = t - this.lastFlagT[s]!;
            if (this.rejectRun[s]! >= 2 && Math.abs(sinceFlag - c.period[s]!) <= c.earlyTol[s]!) phaseShift = true;
            else f |= MODEL.timing;
          }
        } else if (gap < c.minGap[s]!) f |= MODEL.timing;
      }
      // Payload.
      const n = dlc[i]!;
      if ((c.dlcMask[s * 3 + (n >>> 5)]! & (1 << (n & 31))) === 0) f |= MODEL.dlc;
      const nb = c.bytes[s]! < n ? c.bytes[s]! : n;
      const at = i * stride;
      const ms = s * MODEL_BYTES;
      let stepFit = 0;
      let violations = 0;
      let surprise = 0;
      // Frames lost in between (a flooded bus drops some) add their changes: scale by the periods elapsed.
      const periods = c.periodic[s] === 1 && last === last ? Math.max(1, Math.round((t - last) / c.period[s]!)) : 1;
      for (let b = 0; b < nb; b++) {
        const v = data[at + b]!;
        violations += POPCOUNT[(v & c.constMask[ms + b]!) ^ c.constValue[ms + b]!]!;
        if (v < c.lo[ms + b]! || v > c.hi[ms + b]!) violations++;
        const lim = c.stepLimit[ms + b]!;
        if (v !== this.prev[ms + b]) surprise += c.changeCost[ms + b]!;
        if (lim !== NO_BYTE && this.hasPrev[s] === 1) {
          const step = stepDistance(v, this.prev[ms + b]!, c.stepMean[ms + b]! * periods) / (lim * periods);
          if (step > stepFit) stepFit = step;
        }
      }
      if (violations >= c.minViolations) f |= MODEL.payload;
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
      if ((f & SWAPPABLE) !== 0 && (f & ~(SWAPPABLE | MODEL.suspension)) === 0 && this.lastIdx[s]! >= 0 && grams === undefined && c.periodic[s] === 1) {
        const fit = this.fitBefore(s, t, data, at, nb);
        if (fit <= 1 && fit < this.accFit[s]!) {
          const j = this.lastIdx[s]!;
          if (flags[j] === 0) flagged++;
          flags[j]! |= MODEL.timing;
          this.raiseDisplaced(s, j, t, alerts);
          const before = this.dueBefore[s]!;
          const p2 = before === before ? predicted(before, t, c.period[s]!) : NaN;
          this.due[s] = p2 === p2 ? nextDue(p2, t, c.period[s]!) : t;
          this.phase[s] = nextPhase(this.phaseBefore[s]!, t, c.period[s]!);
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
        this.lastT2Before[s] = this.lastTBefore[s]!;
        this.lastTBefore[s] = this.lastT[s]!;
        this.hasPrevBefore[s] = this.hasPrev[s]!;
        for (let b = 0; b < nb; b++) this.prevBefore[ms + b] = this.prev[ms + b]!;
        this.phaseBefore[s] = this.phase[s]!;
        let early = pred === pred && pred > t ? (pred - t) / c.earlyTol[s]! : 0;
        if (c.periodic[s] === 1) early = Math.max(early, this.offRhythm(s, t, this.phase[s]!, this.lastT2Before[s]!));
        this.accFit[s] = (early > stepFit ? early : stepFit) + (this.hasPrev[s] === 1 ? surprise * SURPRISE_WEIGHT : 0);
        this.lastIdx[s] = i;
      }
      if (accepted || (resync && (f & MODEL.timing) === 0)) {
        if (c.periodic[s] === 1) {
          this.due[s] = pred === pred ? (phaseShift ? t : nextDue(pred, t, c.period[s]!)) : t;
          this.phase[s] = phaseShift ? t : nextPhase(this.phase[s]!, t, c.period[s]!);
        }
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
    const c = this.c;
    let fit = 0;
    let extra = 0;
    const before = this.dueBefore[s]!;
    if (before === before) {
      const p = predicted(before, t, c.period[s]!);
      if (p > t) fit = (p - t) / c.earlyTol[s]!;
    }
    fit = Math.max(fit, this.offRhythm(s, t, this.phaseBefore[s]!, this.lastT2Before[s]!));
    const gapBefore = t - this.lastTBefore[s]!;
    if (gapBefore < c.minGap[s]!) fit = Math.max(fit, 2 - gapBefore / c.minGap[s]!);
    if (this.hasPrevBefore[s] === 1) {
      const ms = s * MODEL_BYTES;
      let surprise = 0;
      for (let b = 0; b < nb; b++) if (data[at + b] !== this.prevBefore[ms + b]) surprise += c.changeCost[ms + b]!;
      extra = surprise * SURPRISE_WEIGHT;
      const lastBefore = this.lastTBefore[s]!;
      const periods = lastBefore === lastBefore ? Math.max(1, Math.round((t - lastBefore) / c.period[s]!)) : 1;
      for (let b = 0; b < nb; b++) {
        const lim = c.stepLimit[ms + b]!;
        if (lim === NO_BYTE) continue;
        const step = stepDistance(data[at + b]!, this.prevBefore[ms + b]!, c.stepMean[ms + b]! * periods) / (lim * periods);
        if (step > fit) fit = step;
      }
    }
    return fit + extra;
  }

  /**
   * How far a frame at `t` is from the id's rhythm, in early tolerances: from the smoothed
   * `phase`, or for an alternating id from the frame two slots before (`twoBack`). 0 when unknown.
   */
  private offRhythm(s: number, t: number, phase: number, twoBack: number): number {
    const c = this.c;
    const ref = c.alternating[s] === 1 ? twoBack : phase;
    return ref === ref ? Math.abs(phaseResidual(ref, t, c.period[s]!)) / c.earlyTol[s]! : 0;
  }

  /** The alert for a frame found, one frame later, to have taken a later frame's slot. */
  private raiseDisplaced(s: number, frame: number, later: number, alerts: CanAlert[]): void {
    const c = this.c;
    const k = s * 8 + 1;
    const t = this.lastT[s]!;
    const last = this.lastAlert[k]!;
    if (t - last < this.cooldown && t >= last) return;
    this.lastAlert[k] = t;
    const id = hexId(c.ids[s]!);
    alerts.push({ frame, time: t, id: c.ids[s]!, model: 'timing', reason: `${id}: an extra frame in one period; the frame after it fits the schedule and payload better`, observed: +(later - t).toFixed(3), expected: `one frame per ${c.period[s]!.toFixed(3)} ms` });
  }

  private unknown(fid: number, t: number, frame: number, alerts: CanAlert[]): void {
    const c = this.c;
    let last = this.unknownAlert.get(fid);
    const tracked = last !== undefined || this.unknownAlert.size < MAX_TRACKED_UNKNOWN_IDS;
    if (!tracked) last = this.sharedUnknownAlert;
    if (last !== undefined && t - last < this.cooldown && t >= last) return;
    if (tracked) this.unknownAlert.set(fid, t);
    else this.sharedUnknownAlert = t;
    alerts.push({ time: t, id: fid, model: 'allowList', reason: `id ${hexId(fid)} never seen in training`, observed: hexId(fid), expected: `one of ${c.ids.length} learnt ids`, frame });
  }

  private explainState(): ExplainState {
    return { lastT: this.lastT, lastSeen: this.lastSeen, prev: this.prev, history: this.history, historyLen: this.historyLen };
  }

  /** One alert per fired model, unless that (id, model) alerted within the cooldown. */
  private raise(s: number, f: number, t: number, frame: number, pred: number, alerts: CanAlert[], batch: CanFrameBatch): void {
    const c = this.c;
    for (let bit = 0; bit < 8; bit++) {
      if ((f & (1 << bit)) === 0) continue;
      const k = s * 8 + bit;
      const last = this.lastAlert[k]!;
      if (t - last < this.cooldown && t >= last) continue;
      this.lastAlert[k] = t;
      const model = MODEL_NAMES[bit]!;
      alerts.push({ frame, time: t, id: c.ids[s]!, model, ...explainFinding(c, this.explainState(), this.signals, s, model, t, frame, pred, batch) });
    }
  }
}

