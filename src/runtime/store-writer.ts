/**
 * The store writer: lane outputs queue here and are written in groups (group commit): a
 * write starts as soon as enough rows wait or the flush interval has passed since the
 * last one; whatever arrives during a write joins the next. A failed write is retried
 * with backoff and never dropped: the queue then fills and the sources are slowed.
 */
import { concatBatches, type SignalBatch } from '../core/batch.js';
import type { Store } from '../core/store.js';
import type { Clock } from '../core/clock.js';
import type { VehicleRecord } from '../core/records.js';
import type { LaneOutput } from './lane.js';
import type { Metrics } from './metrics.js';

export interface WriteJob {
  readonly out: LaneOutput;
  readonly vehicles: readonly VehicleRecord[];
  /** Called once the job is durable. */
  readonly done: () => void;
}

const MAX_BACKOFF_MS = 5000;
/**
 * Twin summaries written per group at most. Summaries are merged per vehicle while they
 * wait, and written a slice at a time so they never stall the signal path for long.
 */
export const VEHICLE_SUMMARIES_PER_WRITE = 2000;

export class StoreWriter {
  private queue: WriteJob[] = [];
  private queuedRows = 0;
  private writing = false;
  private timer: NodeJS.Timeout | undefined;
  private lastWrite = 0;
  private failures = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly vehicles = new Map<string, VehicleRecord>();
  /** The last write error, while writes are failing. */
  lastError: Error | undefined;

  constructor(
    private readonly store: Store,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
    private readonly opts: { flushIntervalMs: number; flushRows: number },
  ) {}

  get pendingRows(): number {
    return this.queuedRows;
  }
  get pendingJobs(): number {
    return this.queue.length + (this.writing ? 1 : 0);
  }

  enqueue(job: WriteJob): void {
    this.queue.push(job);
    for (const b of job.out.batches) this.queuedRows += b.size;
    for (const v of job.vehicles) this.mergeVehicle(v);
    this.schedule();
  }

  /** Twin summaries waiting to be written. */
  get pendingVehicles(): number {
    return this.vehicles.size;
  }

  private mergeVehicle(v: VehicleRecord): void {
    const key = `${v.tenant}/${v.id}`;
    const prev = this.vehicles.get(key);
    if (!prev) {
      this.vehicles.set(key, v);
      return;
    }
    const first = prev.firstSeen === undefined ? v.firstSeen : v.firstSeen === undefined ? prev.firstSeen : Math.min(prev.firstSeen, v.firstSeen);
    const last = prev.lastSeen === undefined ? v.lastSeen : v.lastSeen === undefined ? prev.lastSeen : Math.max(prev.lastSeen, v.lastSeen);
    this.vehicles.set(key, { ...prev, ...v, signalCount: prev.signalCount + v.signalCount, ...(first === undefined ? {} : { firstSeen: first }), ...(last === undefined ? {} : { lastSeen: last }) });
  }

  /** Resolves when nothing is queued or being written. */
  idle(): Promise<void> {
    if (!this.writing && this.queue.length === 0 && this.vehicles.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.writing || this.timer || (this.queue.length === 0 && this.vehicles.size === 0)) return;
    const wait = this.queuedRows >= this.opts.flushRows ? 0 : Math.max(0, this.lastWrite + this.opts.flushIntervalMs - Date.now());
    if (wait === 0) void this.writeNow();
    else this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.writeNow();
    }, wait);
  }

  private async writeNow(): Promise<void> {
    if (this.writing || (this.queue.length === 0 && this.vehicles.size === 0)) return;
    this.writing = true;
    const jobs = this.queue;
    this.queue = [];
    const rows = jobs.reduce((s, j) => s + j.out.batches.reduce((a, b) => a + b.size, 0), 0);
    try {
      const t0 = performance.now();
      await this.write(jobs);
      this.metrics.storeWrite.observe(performance.now() - t0);
      this.queuedRows -= rows;
      this.failures = 0;
      this.lastError = undefined;
      const now = this.clock.now();
      for (const j of jobs) {
        for (const b of j.out.batches) this.metrics.ingestToStore.observe(now - b.receivedAt, b.size);
        j.done();
      }
    } catch (e) {
      // Keep the jobs at the head of the queue and try again later: nothing is dropped.
      this.queue = jobs.concat(this.queue);
      this.failures++;
      this.lastError = e as Error;
      this.metrics.inc('vigil_store_errors_total');
      await new Promise((r) => setTimeout(r, Math.min(MAX_BACKOFF_MS, 50 * 2 ** this.failures)));
    } finally {
      this.lastWrite = Date.now();
      this.writing = false;
    }
    if (this.queue.length || this.vehicles.size) this.schedule();
    else {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /**
   * Write a group. Each insert is idempotent by record id and the signal rows of a job are
   * appended once: a retry after a partial failure re-appends only the lane batches not yet
   * written (tracked per batch), merged per tenant into one append.
   */
  private async write(jobs: readonly WriteJob[]): Promise<void> {
    const m = this.metrics;
    // One append (one commit) per tenant for the whole group, not one per lane batch.
    const byTenant = new Map<string, SignalBatch[]>();
    for (const j of jobs) {
      for (const b of j.out.batches) {
        if (written.has(b)) continue;
        let list = byTenant.get(b.tenant);
        if (!list) byTenant.set(b.tenant, (list = []));
        list.push(b);
      }
    }
    for (const j of jobs) {
      for (const f of j.out.frames ?? []) {
        if (written.has(f.batch)) continue;
        await this.store.appendCanFrames(f.vehicle, f.batch);
        written.add(f.batch);
        m.inc('vigil_can_frames_stored_total', f.batch.size);
      }
    }
    for (const [tenant, parts] of byTenant) {
      const merged = concatBatches(tenant, parts);
      await this.store.appendSignals(merged);
      for (const b of parts) written.add(b);
      m.inc('vigil_signals_stored_total', merged.size);
    }
    const flat = <T>(pick: (o: LaneOutput) => readonly T[]): T[] => jobs.flatMap((j) => pick(j.out));
    const dead = flat((o) => o.deadLetters);
    if (dead.length) m.inc('vigil_dead_letters_stored_total', await this.store.insertDeadLetters(dead));
    const sec = flat((o) => o.security);
    if (sec.length) m.inc('vigil_security_events_stored_total', await this.store.insertSecurityEvents(sec));
    const logs = flat((o) => o.logs);
    if (logs.length) m.inc('vigil_api_events_stored_total', await this.store.insertApiEvents(logs));
    const alerts = flat((o) => o.alerts);
    if (alerts.length) m.inc('vigil_alerts_stored_total', await this.store.insertAlerts(alerts));
    if (this.vehicles.size) {
      const slice: VehicleRecord[] = [];
      for (const [key, v] of this.vehicles) {
        slice.push(v);
        this.vehicles.delete(key);
        if (slice.length >= VEHICLE_SUMMARIES_PER_WRITE) break;
      }
      try {
        await this.store.upsertVehicles(slice);
      } catch (e) {
        for (const v of slice) this.mergeVehicle(v);
        throw e;
      }
    }
  }
}

/** Batches already appended, so a retried group does not append them twice. */
const written = new WeakSet<object>();
