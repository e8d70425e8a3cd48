/**
 * Learning a CanProfile from clean traffic. Feed batches in time order with `add`; call
 * `endSegment` between traces (a gap in the recording is not a gap on the bus), then
 * `profile()`. Payload statistics are kept incrementally; arrival times and the id sequence
 * are kept until `profile()` (about 12 bytes per frame), because the schedule tolerances are
 * learnt by replaying the tracker the detector uses over the training data itself.
 */
import type { CanFrameBatch } from '../../core/can.js';
import { CAN_PROFILE_FORMAT, DEFAULT_TOLERANCES, type CanProfile, type IdModel, type NgramModel, type PayloadModel, type TimingModel, type Tolerances } from './profile.js';
import { advanceSchedule, nextPhase, phaseResidual } from './schedule.js';

/** More distinct ids than this is not one bus (or not CAN): learning stops with an error. */
export const MAX_PROFILE_IDS = 4096;
/** Fewer frames than this: the id's payload is not modelled, and its timing is aperiodic. */
export const MIN_MODEL_FRAMES = 32;
/** An id is periodic when at least this share of its gaps lie within half a period of the median gap. */
export const PERIODIC_SHARE = 0.95;
/** The share of training (the end of each segment) held out to judge the n-gram model. */
export const NGRAM_HOLDOUT = 0.2;
/** `ngram: 'auto'` enables the n-gram model only when at most this share of held-out n-grams is unseen. */
export const NGRAM_MAX_HOLDOUT_UNSEEN = 1e-4;
/** Payload bytes modelled per id (classic CAN; CAN FD bytes beyond are not modelled). */
export const MODEL_BYTES = 8;
/**
 * A byte's constant bits, range or step limit are enforced only when training stopped
 * widening them within this share of the id's frames: a byte whose model still grew later
 * (a drifting temperature, a switch flipped once) would keep growing on new traffic, and
 * enforcing it would raise false alerts. Measured on clean data only (see README).
 */
export const STABLE_AFTER_SHARE = 0.1;
/**
 * A periodic id alternates (long gap, short gap, ...) when its arrivals lie this much closer,
 * in median, to the frame two before plus two periods than to its smoothed phase. On the DAGA
 * V40 only 0x290 does (0.34; every other id 0.9 or more).
 */
export const ALTERNATING_RATIO = 0.5;
/** The first gap of an id in a segment is not used: a recording starts with frames queued in the logger. */
export const WARMUP_GAPS = 1;

export interface LearnOptions {
  /** N-gram length (2..4, default 2). */
  readonly n?: number;
  /** `auto` (default): enabled when held-out training data supports it; `on`; `off`. */
  readonly ngram?: 'auto' | 'on' | 'off';
  readonly tolerances?: Partial<Tolerances>;
  readonly bus?: string;
}

class IdStats {
  frames = 0;
  dlcs = new Set<number>();
  times: number[] = [];
  bytes = 0;
  readonly first = new Uint8Array(MODEL_BYTES);
  readonly varying = new Uint8Array(MODEL_BYTES);
  readonly min = new Uint8Array(MODEL_BYTES).fill(255);
  readonly max = new Uint8Array(MODEL_BYTES);
  /** Per byte: smallest and largest signed change between consecutive frames (-128..127), and their sum. */
  readonly minDelta = new Int16Array(MODEL_BYTES).fill(128);
  readonly maxDelta = new Int16Array(MODEL_BYTES).fill(-129);
  readonly sumDelta = new Float64Array(MODEL_BYTES);
  deltas = 0;
  readonly prev = new Uint8Array(MODEL_BYTES);
  /** Per byte: the frame count when its constant bits, range or largest step last widened. */
  readonly lastConstWiden = new Uint32Array(MODEL_BYTES);
  readonly lastRangeWiden = new Uint32Array(MODEL_BYTES);
  readonly lastStepWiden = new Uint32Array(MODEL_BYTES);
  /** Per byte: frames whose value differed from the previous frame's. */
  readonly changes = new Uint32Array(MODEL_BYTES);
  hasPrev = false;
  constructor(readonly id: number) {}
}

export class CanLearner {
  private readonly stats = new Map<number, IdStats>();
  private readonly sequences: number[][] = [[]];
  private frames = 0;
  private spanMs = 0;
  private segStart = NaN;
  private segEnd = NaN;

  constructor(private readonly options: LearnOptions = {}) {}

  /** Add frames of the current segment (in time order). */
  add(batch: CanFrameBatch): void {
    const { id, dlc, data, stride, time, size } = batch;
    const seq = this.sequences[this.sequences.length - 1]!;
    for (let i = 0; i < size; i++) {
      const fid = id[i]!;
      let s = this.stats.get(fid);
      if (!s) {
        if (this.stats.size >= MAX_PROFILE_IDS) throw new RangeError(`more than ${MAX_PROFILE_IDS} distinct CAN ids: not the traffic of one bus`);
        s = new IdStats(fid);
        this.stats.set(fid, s);
      }
      const t = time[i]!;
      if (Number.isNaN(this.segStart)) this.segStart = t;
      this.segEnd = t;
      s.frames++;
      s.times.push(t);
      seq.push(fid);
      const n = dlc[i]!;
      s.dlcs.add(n);
      const at = i * stride;
      const m = Math.min(n, MODEL_BYTES);
      if (s.frames === 1) {
        s.bytes = m;
        for (let k = 0; k < m; k++) s.first[k] = data[at + k]!;
      }
      for (let k = 0; k < m; k++) {
        const v = data[at + k]!;
        const varying = s.varying[k]! | (v ^ s.first[k]!);
        if (varying !== s.varying[k]) {
          s.varying[k] = varying;
          s.lastConstWiden[k] = s.frames;
        }
        if (v < s.min[k]! || v > s.max[k]!) {
          if (v < s.min[k]!) s.min[k] = v;
          if (v > s.max[k]!) s.max[k] = v;
          s.lastRangeWiden[k] = s.frames;
        }
        if (s.hasPrev) {
          const d = signedStep(v, s.prev[k]!);
          if (d !== 0) s.changes[k]!++;
          s.sumDelta[k]! += d;
          if (d < s.minDelta[k]! || d > s.maxDelta[k]!) {
            if (d < s.minDelta[k]!) s.minDelta[k] = d;
            if (d > s.maxDelta[k]!) s.maxDelta[k] = d;
            s.lastStepWiden[k] = s.frames;
          }
        }
        s.prev[k] = v;
      }
      if (m < s.bytes) s.bytes = m;
      if (s.hasPrev) s.deltas++;
      s.hasPrev = true;
    }
    this.frames += size;
  }

  /** The next frames come from another recording: no gap, step or n-gram spans the boundary. */
  endSegment(): void {
    if (!Number.isNaN(this.segStart)) this.spanMs += this.segEnd - this.segStart;
    this.segStart = this.segEnd = NaN;
    for (const s of this.stats.values()) {
      if (s.times.length && !Number.isNaN(s.times[s.times.length - 1]!)) s.times.push(NaN);
      s.hasPrev = false;
    }
    if (this.sequences[this.sequences.length - 1]!.length) this.sequences.push([]);
  }

  profile(): CanProfile {
    this.endSegment();
    const tolerances = { ...DEFAULT_TOLERANCES, ...this.options.tolerances };
    const ids = [...this.stats.values()].sort((a, b) => a.id - b.id).map((s) => idModel(s, this.spanMs));
    return {
      format: CAN_PROFILE_FORMAT,
      ...(this.options.bus !== undefined ? { bus: this.options.bus } : {}),
      trainedFrames: this.frames,
      trainedMs: this.spanMs,
      tolerances,
      ids,
      ngram: learnNgrams(this.sequences, this.options.n ?? 2, this.options.ngram ?? 'auto'),
    };
  }
}

/** Learn a profile from whole traces, one segment each. */
export function learnCanProfile(traces: readonly CanFrameBatch[], options: LearnOptions = {}): CanProfile {
  const l = new CanLearner(options);
  for (const t of traces) {
    l.add(t);
    l.endSegment();
  }
  return l.profile();
}

const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;

/** a - b on the byte circle, -128..127: a counter wrapping 255 -> 0 moves by +1. */
export function signedStep(a: number, b: number): number {
  const d = (a - b) & 0xff;
  return d > 127 ? d - 256 : d;
}

function idModel(s: IdStats, spanMs: number): IdModel {
  const settled = s.frames * STABLE_AFTER_SHARE;
  const bytes = [...Array(s.bytes).keys()];
  // Unsettled parts are written as "anything": no constant bits, the full range, steps of 128 (never checked).
  const payload: PayloadModel | undefined =
    s.frames >= MIN_MODEL_FRAMES
      ? {
          bytes: s.bytes,
          constMask: bytes.map((k) => (s.lastConstWiden[k]! <= settled ? ~s.varying[k]! & 0xff : 0)),
          constValue: bytes.map((k) => (s.lastConstWiden[k]! <= settled ? s.first[k]! & ~s.varying[k]! & 0xff : 0)),
          min: bytes.map((k) => (s.lastRangeWiden[k]! <= settled ? s.min[k]! : 0)),
          max: bytes.map((k) => (s.lastRangeWiden[k]! <= settled ? s.max[k]! : 255)),
          stepMean: bytes.map((k) => (s.deltas ? round4(s.sumDelta[k]! / s.deltas) : 0)),
          maxStep: bytes.map((k) => {
            if (!s.deltas) return 128;
            const mean = s.sumDelta[k]! / s.deltas;
            return Math.min(128, Math.ceil(Math.max(s.maxDelta[k]! - mean, mean - s.minDelta[k]!) - 1e-9));
          }),
          changeShare: bytes.map((k) => round4(s.changes[k]! / s.frames)),
          stepSettledAt: bytes.map((k) => round4(s.lastStepWiden[k]! / s.frames)),
        }
      : undefined;
  return { id: s.id, frames: s.frames, dlcs: [...s.dlcs].sort((a, b) => a - b), timing: timingModel(s.times, spanMs), ...(payload ? { payload } : {}) };
}

/** Gaps between consecutive frames of one segment (NaN separates segments). */
function gapsOf(times: readonly number[]): number[] {
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) {
    const g = times[i]! - times[i - 1]!;
    if (!Number.isNaN(g)) gaps.push(g);
  }
  return gaps;
}

function timingModel(times: readonly number[], spanMs: number): TimingModel {
  const gaps = gapsOf(times);
  if (gaps.length === 0) return { kind: 'aperiodic', minGap: spanMs, maxGap: spanMs };
  const sorted = [...gaps].sort((a, b) => a - b);
  const maxGap = sorted[sorted.length - 1]!;
  const median = sorted[sorted.length >> 1]!;
  const near = gaps.filter((g) => Math.abs(g - median) <= median / 2).length;
  if (gaps.length + 1 < MIN_MODEL_FRAMES || median <= 0 || near < PERIODIC_SHARE * gaps.length) {
    return { kind: 'aperiodic', minGap: sorted[0]!, maxGap };
  }
  // Mean period over the whole span: a gap of about k medians (missed frames) counts as k periods.
  let span = 0;
  let periods = 0;
  for (const g of gaps) {
    span += g;
    periods += Math.max(1, Math.round(g / median));
  }
  const period = span / periods;
  // Replay the detector's schedule tracker over training: how early did a legitimate frame ever come?
  let earliest = 0;
  let minGap = Infinity;
  let due = NaN;
  let prev = NaN;
  let seen = 0;
  for (const t of times) {
    if (Number.isNaN(t)) {
      due = NaN;
      seen = 0;
      continue;
    }
    if (seen++ <= WARMUP_GAPS) {
      due = prev = t;
      continue;
    }
    if (t - prev < minGap) minGap = t - prev;
    prev = t;
    const r = advanceSchedule(due, t, period);
    if (r.early > earliest) earliest = r.early;
    due = r.due;
  }
  return { kind: 'periodic', period, earliest, minGap: Number.isFinite(minGap) ? minGap : sorted[0]!, maxGap, ...(alternates(times, period) ? { alternating: true } : {}) };
}

/** Whether the id's arrivals follow the frame two before (a long-short rhythm) clearly better than its smoothed phase. */
function alternates(times: readonly number[], period: number): boolean {
  const smooth: number[] = [];
  const twoBack: number[] = [];
  let phase = NaN;
  let seen = 0;
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    if (Number.isNaN(t)) {
      phase = NaN;
      seen = 0;
      continue;
    }
    if (seen++ > WARMUP_GAPS + 1) {
      smooth.push(Math.abs(phaseResidual(phase, t, period)));
      twoBack.push(Math.abs(phaseResidual(times[i - 2]!, t, period)));
    }
    phase = nextPhase(phase, t, period);
  }
  if (smooth.length < MIN_MODEL_FRAMES) return false;
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[xs.length >> 1]!;
  return median(twoBack) < ALTERNATING_RATIO * median(smooth);
}

/** N-grams of ids per segment; `auto` keeps the model only when the held-out tail of training is (almost) all seen. */
function learnNgrams(sequences: readonly number[][], n: number, mode: 'auto' | 'on' | 'off'): NgramModel {
  if (!Number.isInteger(n) || n < 2 || n > 4) throw new RangeError(`n-gram length must be 2..4, got ${n}`);
  const key = (seq: readonly number[], end: number): string => {
    let k = seq[end - n + 1]!.toString(16);
    for (let j = end - n + 2; j <= end; j++) k += ` ${seq[j]!.toString(16)}`;
    return k;
  };
  const head = new Set<string>();
  let tail = 0;
  let unseen = 0;
  for (const seq of sequences) {
    const cut = Math.floor(seq.length * (1 - NGRAM_HOLDOUT));
    for (let i = n - 1; i < cut; i++) head.add(key(seq, i));
  }
  for (const seq of sequences) {
    const cut = Math.floor(seq.length * (1 - NGRAM_HOLDOUT));
    for (let i = Math.max(cut, n - 1); i < seq.length; i++) {
      tail++;
      if (!head.has(key(seq, i))) unseen++;
    }
  }
  const all = new Set<string>();
  for (const seq of sequences) for (let i = n - 1; i < seq.length; i++) all.add(key(seq, i));
  const holdoutUnseen = tail ? unseen / tail : 1;
  const enabled = mode === 'on' || (mode === 'auto' && holdoutUnseen <= NGRAM_MAX_HOLDOUT_UNSEEN);
  return { n, enabled, holdoutUnseen, grams: [...all].sort() };
}
