/**
 * The learnt picture of one vehicle's bus: which ids it carries, when each id is due, what
 * its payloads look like, and which id sequences occur. A profile is plain JSON: `vigil learn
 * can` writes it, a worker reads it with `parseCanProfile` (every problem reported at once)
 * and compiles it into a CanDetector.
 */
import { ConfigError } from '../../core/errors.js';

export const CAN_PROFILE_FORMAT = 'vigil-can-profile/1';

/** Bits of the per-frame verdict: which model fired. */
export const MODEL = {
  /** Id never seen in training. */
  allowList: 1,
  /** Frame earlier than the id's learnt schedule allows: injection, flooding, DoS. */
  timing: 2,
  /** Id silent for longer than ever in training (reported on the frame that ends the silence). */
  suspension: 4,
  /** Data length never seen for this id. */
  dlc: 8,
  /** A bit constant in training changed, or a byte left its learnt range. */
  payload: 16,
  /** A byte moved further from the id's previous frame than it ever did in training. */
  step: 32,
  /** The id sequence ending here (n consecutive ids) never occurred in training. */
  ngram: 64,
  /** A DBC signal left its learnt range. */
  signal: 128,
} as const;
export type ModelName = keyof typeof MODEL;
export const MODEL_NAMES = Object.keys(MODEL) as ModelName[];

/** Names of the models whose bits are set in `flags`. */
export function modelsOf(flags: number): ModelName[] {
  return MODEL_NAMES.filter((m) => (flags & MODEL[m]) !== 0);
}

/** When an id is due: a periodic schedule with learnt tolerances, or only a minimum gap. */
export type TimingModel =
  | {
      readonly kind: 'periodic';
      /** Mean period, ms. */
      readonly period: number;
      /** Earliest a legitimate frame arrived before its predicted time in training, ms (>= 0). */
      readonly earliest: number;
      /** Shortest gap between two frames in training, ms (the recording's first gap left out). */
      readonly minGap: number;
      /** Longest gap seen in training, ms. */
      readonly maxGap: number;
      /** Gaps alternate long-short: a frame is judged against the frame two before, not the smoothed phase (learn.ts). */
      readonly alternating?: boolean;
    }
  | {
      readonly kind: 'aperiodic';
      /** Shortest gap seen in training, ms (the training span when the id appeared once). */
      readonly minGap: number;
      readonly maxGap: number;
    };

/** Payload of one id, byte by byte (the first `bytes` bytes). */
export interface PayloadModel {
  readonly bytes: number;
  /** Per byte: bits that never changed, and their value. */
  readonly constMask: readonly number[];
  readonly constValue: readonly number[];
  readonly min: readonly number[];
  readonly max: readonly number[];
  /** Per byte: mean signed change between consecutive frames (a counter's increment; ~0 for a signal). */
  readonly stepMean: readonly number[];
  /** Per byte: largest distance of a change from stepMean (0..128). */
  readonly maxStep: readonly number[];
  /** Per byte: share of frames whose value differed from the previous frame's. */
  readonly changeShare: readonly number[];
  /** Per byte: how far into training (share of the id's frames) the range of changes last grew. */
  readonly stepSettledAt: readonly number[];
}

export interface IdModel {
  /** CAN id, bit 31 set for extended ids. */
  readonly id: number;
  readonly frames: number;
  /** Data lengths seen. */
  readonly dlcs: readonly number[];
  readonly timing: TimingModel;
  /** Absent when training had too few frames of the id to learn it. */
  readonly payload?: PayloadModel;
}

/** Learnt range of one DBC signal (see signals.ts). */
export interface SignalRange {
  /** `Message.Signal` as the DBC names it. */
  readonly key: string;
  readonly min: number;
  readonly max: number;
}

export interface NgramModel {
  readonly n: number;
  /** Whether the detector uses it: `auto` learning disables it when held-out training data shows it would raise false alerts. */
  readonly enabled: boolean;
  /** Share of held-out training n-grams that the rest of training did not contain. */
  readonly holdoutUnseen: number;
  /** Each n-gram as hex ids joined by spaces, oldest first. */
  readonly grams: readonly string[];
}

/** How far the detector trusts the learnt figures; the defaults were chosen on clean data only (see README). */
export interface Tolerances {
  /** Early tolerance = earliest * earlyFactor + earlySlackMs. */
  readonly earlyFactor: number;
  readonly earlySlackMs: number;
  /** Aperiodic ids: flag a gap below minGap * minGapFactor. */
  readonly minGapFactor: number;
  /**
   * Periodic ids: also flag a gap below minGap * periodicMinGapFactor. It catches the frame
   * injected into a jittery schedule whose early tolerance is over half a period (two frames in
   * one period would otherwise both pass).
   */
  readonly periodicMinGapFactor: number;
  /** Suspension: a gap above maxGap * suspendFactor. */
  readonly suspendFactor: number;
  /** Byte ranges widen by this share of their width on each side. */
  readonly rangeSlack: number;
  /**
   * The payload model fires when at least this many constant bits differ, counting a byte out
   * of its range as one: a legitimate new vehicle state flips a few bits, a forged payload many.
   */
  readonly payloadMinViolations: number;
  /**
   * A change may differ from the byte's mean change by at most maxStep * stepFactor +
   * stepSlack (a counter that steps by 16 may not step back, nor stand still), for bytes that change in at least
   * stepMinChange of frames (counters, smooth signals: a rarely moving flag byte's next move is
   * as likely as not one never seen), whose maxStep stopped growing within stepSettledShare of
   * training, and whose maxStep is at most stepNoisy.
   */
  readonly stepFactor: number;
  readonly stepSlack: number;
  readonly stepNoisy: number;
  readonly stepMinChange: number;
  readonly stepSettledShare: number;
  /** Signal ranges widen by this share of their width on each side. */
  readonly signalSlack: number;
}

export const DEFAULT_TOLERANCES: Tolerances = {
  earlyFactor: 2,
  earlySlackMs: 3,
  minGapFactor: 0.5,
  periodicMinGapFactor: 0.7,
  suspendFactor: 3,
  rangeSlack: 0.1,
  stepFactor: 3,
  stepSlack: 2,
  stepNoisy: 64,
  stepMinChange: 0.02,
  stepSettledShare: 0.5,
  payloadMinViolations: 8,
  signalSlack: 0.1,
};

export interface CanProfile {
  readonly format: typeof CAN_PROFILE_FORMAT;
  readonly bus?: string;
  readonly trainedFrames: number;
  /** Sum of the training segments' spans. */
  readonly trainedMs: number;
  readonly tolerances: Tolerances;
  readonly ids: readonly IdModel[];
  readonly ngram: NgramModel;
  readonly signals?: readonly SignalRange[];
}

/** A profile from parsed JSON; throws a ConfigError listing every problem. */
export function parseCanProfile(json: unknown, where = 'profile'): CanProfile {
  const problems: string[] = [];
  const p = json as Partial<CanProfile> | null;
  if (typeof p !== 'object' || p === null) throw new ConfigError(`${where}: not a CAN profile`, ['expected a JSON object']);
  if (p.format !== CAN_PROFILE_FORMAT) problems.push(`format: expected "${CAN_PROFILE_FORMAT}", got ${JSON.stringify(p.format)}`);
  if (!Array.isArray(p.ids)) problems.push('ids: expected an array');
  else {
    p.ids.forEach((m, i) => {
      if (!Number.isInteger(m?.id) || m.id < 0 || m.id > 0xffffffff) problems.push(`ids[${i}].id: expected a CAN id`);
      if (!Array.isArray(m?.dlcs)) problems.push(`ids[${i}].dlcs: expected an array`);
      const t = m?.timing;
      if (t?.kind === 'periodic') {
        if (!(t.period > 0) || !(t.earliest >= 0) || !(t.maxGap > 0) || !(t.minGap >= 0)) problems.push(`ids[${i}].timing: period, earliest, minGap, maxGap must be positive numbers`);
      } else if (t?.kind === 'aperiodic') {
        if (!(t.minGap >= 0) || !(t.maxGap >= 0)) problems.push(`ids[${i}].timing: minGap, maxGap must be numbers >= 0`);
      } else problems.push(`ids[${i}].timing.kind: expected periodic or aperiodic`);
      const pl = m?.payload;
      if (pl !== undefined) {
        for (const k of ['constMask', 'constValue', 'min', 'max', 'stepMean', 'maxStep', 'changeShare', 'stepSettledAt'] as const) {
          if (!Array.isArray(pl[k]) || pl[k].length !== pl.bytes) problems.push(`ids[${i}].payload.${k}: expected ${pl.bytes} numbers`);
        }
      }
    });
  }
  const g = p.ngram;
  if (!g || !Number.isInteger(g.n) || g.n < 2 || g.n > 4 || !Array.isArray(g.grams)) problems.push('ngram: expected { n: 2..4, enabled, grams: [...] }');
  const t = { ...DEFAULT_TOLERANCES, ...(p.tolerances ?? {}) };
  for (const [k, v] of Object.entries(t)) if (typeof v !== 'number' || !(v >= 0)) problems.push(`tolerances.${k}: expected a number >= 0`);
  if (problems.length) throw new ConfigError(`${where}: invalid CAN profile`, problems);
  return { ...(p as CanProfile), tolerances: t };
}
