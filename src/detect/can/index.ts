/**
 * CAN intrusion detection learnt from clean traffic: learn a CanProfile (learn.ts), score
 * frames with a CanDetector (detector.ts), evaluate on labelled traces (eval.ts). See README.md.
 */
export { CAN_PROFILE_FORMAT, DEFAULT_TOLERANCES, MODEL, MODEL_NAMES, modelsOf, parseCanProfile } from './profile.js';
export type { CanProfile, IdModel, ModelName, NgramModel, PayloadModel, SignalRange, TimingModel, Tolerances } from './profile.js';
export { CanLearner, learnCanProfile, MAX_PROFILE_IDS, type LearnOptions } from './learn.js';
export { CanDetector, DEFAULT_ALERT_COOLDOWN_MS, MAX_TRACKED_UNKNOWN_IDS, type CanAlert, type DetectorOptions, type ScoreResult } from './detector.js';
export { DbcSignalRanges, learnSignalRanges, type SignalRanges } from './signals.js';
export { crossValidate, EPISODE_GAP_MS, scoreTraces, sliceByTime, TraceScorer, type TraceScore } from './eval.js';
