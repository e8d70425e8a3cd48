/**
 * The delivery log: every attempt of every webhook or syslog message, written to the
 * ResponseStore's `deliveries`. Attempts reported in the same turn of the event loop are
 * written together, one write at a time, so a burst of forwarded alerts costs a few inserts,
 * not one per attempt. A write that fails is kept and tried again with the next one; the
 * buffer is bounded (`MAX_BUFFERED`), and what passes it is counted in `dropped`, never hidden.
 */
import type { DeliveryAttempt, Notification, Notifier } from './notifier.js';
import type { DeliveryRecord, ResponseStore } from './response.js';

/** Attempts held while the store is failing; past it the oldest are dropped (and counted). */
export const MAX_BUFFERED = 100_000;

export class DeliveryLog {
  private buffer: DeliveryRecord[] = [];
  private chain: Promise<void> = Promise.resolve();
  private scheduled = false;
  /** Attempts that could not be kept (the store failed for longer than the buffer lasts). */
  dropped = 0;
  lastError: Error | undefined;

  constructor(
    private readonly store: Pick<ResponseStore, 'recordDeliveries'>,
    /** Told of every attempt as it is recorded (metrics). */
    private readonly onAttempt?: (row: DeliveryRecord) => void,
  ) {}

  record(row: DeliveryRecord): void {
    this.onAttempt?.(row);
    this.buffer.push(row);
    if (this.buffer.length > MAX_BUFFERED) {
      const over = this.buffer.length - MAX_BUFFERED;
      this.buffer.splice(0, over);
      this.dropped += over;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    this.chain = this.chain.then(() => this.write());
  }

  /** Resolves once every attempt recorded so far is written (or has failed to be). */
  async flush(): Promise<void> {
    while (this.scheduled) await this.chain;
  }

  private async write(): Promise<void> {
    this.scheduled = false;
    const rows = this.buffer;
    this.buffer = [];
    if (!rows.length) return;
    try {
      await this.store.recordDeliveries(rows);
      this.lastError = undefined;
    } catch (e) {
      this.lastError = e as Error;
      // Kept for the next write; the attempts are idempotent by (tenant, id, attempt).
      this.buffer = [...rows, ...this.buffer].slice(-MAX_BUFFERED);
    }
  }

  /**
   * Deliver `n` through `notifier`, every attempt logged; resolves with the last attempt once
   * its rows are written.
   */
  async deliver(notifier: Notifier, n: Notification): Promise<DeliveryAttempt> {
    const last = await notifier.deliver(n, (a) =>
      this.record({
        tenant: n.tenant, id: n.id, attempt: a.attempt, channel: notifier.channel, target: notifier.target, event: n.event, status: a.status, at: a.at,
        ...(a.httpStatus !== undefined ? { httpStatus: a.httpStatus } : {}), ...(a.error !== undefined ? { error: a.error } : {}),
      }),
    );
    await this.flush();
    return last;
  }
}
