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
