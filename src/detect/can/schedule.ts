/**
 * The schedule tracker shared by learning and scoring. A periodic id is due every `period`
 * ms; bus arbitration only ever delays a frame, so the tracker follows the earliest-arrival
 * envelope `due` (when the last accepted frame was due) rather than the last arrival: after
 * one frame was delayed, the next on-time frame does not look early. Late frames move the
 * envelope at most `lag` behind the arrival (clock drift); a gap of whole periods (missed
 * frames) skips ahead, so it never makes the next frame look early.
 */

/** How far behind an arrival the envelope may stay, as a share of the period. */
export const LAG_SHARE = 0.5;

/** The time the frame arriving at `t` was predicted, given the envelope `due` of the previous one. */
export function predicted(due: number, t: number, period: number): number {
  let pred = due + period;
  if (t - pred > period * LAG_SHARE) pred += Math.floor((t - pred) / period) * period;
  return pred;
}

/** The envelope after accepting a frame at `t` that was predicted at `pred`. */
export function nextDue(pred: number, t: number, period: number): number {
  const floor = t - period * LAG_SHARE;
  return Math.min(t, pred > floor ? pred : floor);
}

/** How early the frame at `t` came (0 when on time or late), and the envelope after it. */
export function advanceSchedule(due: number, t: number, period: number): { early: number; due: number } {
  const pred = predicted(due, t, period);
  return { early: pred > t ? pred - t : 0, due: nextDue(pred, t, period) };
}

/**
 * Weight of a new arrival in the smoothed phase of an id (see `phaseResidual`). The logger's
 * timestamps of one periodic id scatter by +-3-5 ms around its schedule (DAGA V40); averaged
 * over about 1 / PHASE_SMOOTHING frames the phase is known far better than from one arrival.
 */
export const PHASE_SMOOTHING = 0.1;

/**
 * How far `t` lies from the nearest slot of the smoothed phase (`phase` + k * period), in
 * -period/2..period/2. It tells which of two frames in one slot keeps the id's rhythm: a
 * replayed copy sent next to the real frame is as early as jitter allows on its own, but
 * further from the long-run phase than the real frame in most slots.
 */
export function phaseResidual(phase: number, t: number, period: number): number {
  const d = t - phase;
  return d - Math.round(d / period) * period;
}

/** The smoothed phase after accepting a frame at `t` (NaN before the first frame: `t` itself). */
export function nextPhase(phase: number, t: number, period: number): number {
  if (phase !== phase) return t;
  const d = t - phase;
  const k = Math.round(d / period);
  return phase + k * period + PHASE_SMOOTHING * (d - k * period);
}
