/**
 * Scoring a CanDetector on labelled traces, frame by frame: precision, recall and F1 over
 * frames, false alerts per hour, and detection latency per attack episode. `TraceScorer`
 * takes the batches of one trace as they are read (no need to hold a trace in memory);
 * `crossValidate` holds out stretches of the training traces in time, for test traces that
 * were made by injecting into a training trace (DAGA), so no scored legitimate frame was
 * seen in training.
 */
import type { CanFrameBatch } from '../../core/can.js';
import { CanDetector, type DetectorOptions } from './detector.js';
import { CanLearner, type LearnOptions } from './learn.js';
import { MODEL_NAMES, type CanProfile, type ModelName } from './profile.js';

/** Attack frames closer than this (event time) belong to one episode. */
export const EPISODE_GAP_MS = 500;

export interface TraceScore {
  readonly file: string;
  readonly frames: number;
  readonly attackFrames: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  /** null when nothing was flagged / nothing was an attack. */
  readonly precision: number | null;
  readonly recall: number | null;
  readonly f1: number | null;
  readonly hours: number;
  readonly alerts: number;
  /** Alerts raised by a frame not labelled as an attack. */
  readonly falseAlerts: number;
  readonly false_alerts_per_hour: number;
  readonly episodes: number;
  readonly episodesDetected: number;
  /** Per detected episode: first flagged attack frame minus first attack frame, ms. */
  readonly latencyMs: { readonly median: number; readonly p95: number; readonly max: number } | null;
  /** Per model: frames it flagged, and how many of them were attacks. */
  readonly models: Partial<Record<ModelName, { readonly flagged: number; readonly attacks: number }>>;
}

/** Accumulates one trace's score across its batches. */
export class TraceScorer {
  private frames = 0;
  private attacks = 0;
  private tp = 0;
  private fp = 0;
  private alerts = 0;
  private falseAlerts = 0;
  private first = NaN;
  private last = NaN;
  private episodeStart = NaN;
  private episodeLastAttack = NaN;
  private episodeDetected = false;
  private episodes = 0;
  private readonly latencies: number[] = [];
  private readonly perModel = new Float64Array(MODEL_NAMES.length * 2);

  constructor(readonly file: string) {}

  /** Score one batch's verdicts against its labels (a batch without labels counts as clean). */
  add(batch: CanFrameBatch, flags: Uint8Array, alerts: readonly { frame: number }[]): void {
    const label = batch.label;
    for (let i = 0; i < batch.size; i++) {
      const t = batch.time[i]!;
      if (this.first !== this.first) this.first = t;
      this.last = t;
      const attack = label !== undefined && label[i] === 1;
      const f = flags[i]!;
      if (attack) {
        this.attacks++;
        if (!(t - this.episodeLastAttack <= EPISODE_GAP_MS)) this.closeEpisode(t);
        this.episodeLastAttack = t;
        if (f !== 0 && !this.episodeDetected) {
          this.episodeDetected = true;
          this.latencies.push(t - this.episodeStart);
        }
      }
      if (f !== 0) {
        if (attack) this.tp++;
        else this.fp++;
        for (let m = 0; m < MODEL_NAMES.length; m++) {
          if ((f & (1 << m)) !== 0) {
            this.perModel[m * 2]!++;
            if (attack) this.perModel[m * 2 + 1]!++;
          }
        }
      }
    }
    this.frames += batch.size;
    this.alerts += alerts.length;
    for (const a of alerts) if (!(label !== undefined && label[a.frame] === 1)) this.falseAlerts++;
  }

  finish(): TraceScore {
    const { tp, fp } = this;
    const fn = this.attacks - tp;
    const precision = tp + fp > 0 ? tp / (tp + fp) : null;
    const recall = this.attacks > 0 ? tp / this.attacks : null;
    const f1 = precision !== null && recall !== null ? (precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0) : null;
    const hours = this.frames > 1 ? (this.last - this.first) / 3_600_000 : 0;
    const lat = [...this.latencies].sort((a, b) => a - b);
    const models: TraceScore['models'] = {};
    MODEL_NAMES.forEach((m, k) => {
      if (this.perModel[k * 2]! > 0) models[m] = { flagged: this.perModel[k * 2]!, attacks: this.perModel[k * 2 + 1]! };
    });
    return {
      file: this.file, frames: this.frames, attackFrames: this.attacks, tp, fp, fn, precision, recall, f1, hours,
      alerts: this.alerts, falseAlerts: this.falseAlerts, false_alerts_per_hour: hours > 0 ? this.falseAlerts / hours : 0,
      episodes: this.episodes, episodesDetected: this.latencies.length,
      latencyMs: lat.length ? { median: lat[lat.length >> 1]!, p95: lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.95))]!, max: lat[lat.length - 1]! } : null,
      models,
    };
  }

  private closeEpisode(t: number): void {
    this.episodes++;
    this.episodeStart = t;
    this.episodeDetected = false;
  }
}

/** Score whole traces with one detector each (state reset per trace). */
export function scoreTraces(profile: CanProfile, tests: readonly { file: string; batches: Iterable<CanFrameBatch> }[], options?: DetectorOptions): TraceScore[] {
  return tests.map(({ file, batches }) => {
    const det = new CanDetector(profile, options);
    const scorer = new TraceScorer(file);
    let flags = new Uint8Array(0);
    for (const b of batches) {
      if (flags.length < b.size) flags = new Uint8Array(b.size);
      const r = det.score(b, flags);
      scorer.add(b, r.flags, r.alerts);
    }
    return scorer.finish();
  });
}

/** The frames of a batch with `from <= time < to` (a copy). */
export function sliceByTime(b: CanFrameBatch, from: number, to: number): CanFrameBatch {
  let i = 0;
  while (i < b.size && b.time[i]! < from) i++;
  let j = i;
  while (j < b.size && b.time[j]! < to) j++;
  return {
    ...b,
    size: j - i,
    time: b.time.slice(i, j),
    id: b.id.slice(i, j),
    dlc: b.dlc.slice(i, j),
    data: b.data.slice(i * b.stride, j * b.stride),
    ...(b.label ? { label: b.label.slice(i, j) } : {}),
  };
}

/**
 * K-fold cross-validation in time. The span of the training traces is cut into `folds`
 * stretches; for each, a profile is learnt from the training traces without that stretch
 * (the parts before and after it are separate segments), and every test trace is scored on
 * the frames within that stretch only. Scores are summed over folds per test trace. A test
 * trace with the name of a training trace scores held-out clean traffic.
 */
export function crossValidate(
  train: readonly CanFrameBatch[],
  tests: readonly { file: string; batch: CanFrameBatch }[],
  folds: number,
  learn: LearnOptions = {},
  options?: DetectorOptions,
): TraceScore[] {
  if (!Number.isInteger(folds) || folds < 2) throw new RangeError(`folds must be an integer >= 2, got ${folds}`);
  let start = Infinity;
  let end = -Infinity;
  for (const t of train) {
    if (t.size === 0) continue;
    start = Math.min(start, t.time[0]!);
    end = Math.max(end, t.time[t.size - 1]!);
  }
  const scorers = tests.map((t) => new TraceScorer(t.file));
  const width = (end - start) / folds;
  for (let f = 0; f < folds; f++) {
    const from = start + f * width;
    const to = f === folds - 1 ? Infinity : from + width;
    const learner = new CanLearner(learn);
    for (const t of train) {
      for (const part of [sliceByTime(t, -Infinity, from), sliceByTime(t, to, Infinity)]) {
        if (part.size === 0) continue;
        learner.add(part);
        learner.endSegment();
      }
    }
    const profile = learner.profile();
    tests.forEach((t, k) => {
      const part = sliceByTime(t.batch, from, to);
      const det = new CanDetector(profile, options);
      const r = det.score(part);
      scorers[k]!.add(part, r.flags, r.alerts);
    });
  }
  return scorers.map((s) => s.finish());
}
