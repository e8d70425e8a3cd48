/**
 * Replay pacing: an event recorded at time `t` is sent at `origin.wall + (t - origin.event) /
 * speed` on the injected Clock, where the origin is the first event since `restart()`. Time
 * is a port (src/core/clock.ts): production sleeps on the system clock, tests pass a manual
 * clock and a `sleep` that advances it, and assert the schedule rather than wall time.
 */
import { CanFrameBatchBuilder, type CanFrameBatch } from '../../core/can.js';
import type { Clock } from '../../core/clock.js';

export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Frames due within this many ms of clock time of each other go out as one batch. */
export const SLICE_MS = 10;

export class Pacer {
  private origin: { event: number; wall: number } | undefined;

  constructor(
    private readonly clock: Clock,
    /** Recorded time divided by real time: 2 replays twice as fast. */
    readonly speed: number,
    private readonly sleep: Sleep,
  ) {
    if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`replay speed must be a positive number, got ${speed}`);
  }

  /** The next event starts the schedule afresh (each file of a replay starts when the one before ended). */
  restart(): void {
    this.origin = undefined;
  }

  /** Clock time at which an event of time `t` is due. */
  due(t: number): number {
    this.origin ??= { event: t, wall: this.clock.now() };
    return this.origin.wall + (t - this.origin.event) / this.speed;
  }

  /** Wait until an event of time `t` is due (at once when it is due already, or `t` is not a number). */
  async wait(t: number): Promise<void> {
    if (!Number.isFinite(t)) return;
    const ms = this.due(t) - this.clock.now();
    if (ms >= 1) await this.sleep(ms);
  }

  /** The frames of `batch` in runs due within SLICE_MS of each other, each yielded when due (copies: batches are transferred). */
  async *frames(batch: CanFrameBatch): AsyncGenerator<CanFrameBatch> {
    let from = 0;
    while (from < batch.size) {
      const first = this.due(batch.time[from]!);
      let to = from + 1;
      while (to < batch.size && this.due(batch.time[to]!) < first + SLICE_MS) to++;
      await this.wait(batch.time[from]!);
      yield from === 0 && to === batch.size ? { ...batch, receivedAt: this.clock.now() } : slice(batch, from, to, this.clock.now());
      from = to;
    }
  }
}

/** Frames [from, to) of a batch as a batch of their own. */
function slice(b: CanFrameBatch, from: number, to: number, receivedAt: number): CanFrameBatch {
  const out = new CanFrameBatchBuilder({ tenant: b.tenant, vin: b.vin, source: b.source, receivedAt, ...(b.bus !== undefined ? { bus: b.bus } : {}) }, to - from, b.stride, b.label !== undefined);
  for (let i = from; i < to; i++) out.push(b.time[i]!, b.id[i]!, b.data.subarray(i * b.stride, i * b.stride + b.dlc[i]!), b.label?.[i] ?? 0);
  return out.build();
}
