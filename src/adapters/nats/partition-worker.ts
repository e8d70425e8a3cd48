/**
 * The scale-out worker role: owns partitions through leases (partition-lease.ts) and runs,
 * for each, the same Lane code the embedded pipeline runs on its worker threads.
 *
 * Per partition: read the partition's stored position (Store.streamPositions), read its
 * subject from the stream's start with an ordered consumer, and feed every hand-over to a
 * fresh Lane. Hand-overs at or below the stored position only rebuild state (twins, rule
 * windows, duplicate ids): their output was written by an earlier owner and is dropped.
 * Later ones are written in groups with `Store.writeGroup`, whose span advances the
 * position in the same transaction: the position is the acknowledgement, so each message
 * has exactly one effect whatever dies when. Detector state is rebuilt by replay rather than
 * restored from a snapshot, because only the twins have one (src/twin/checkpoint.ts) and a
 * detector whose windows were lost would alert differently than the embedded run.
 *
 * Failover: a killed worker's leases expire; a live worker takes them (a higher epoch) and
 * replays. A worker that lost a lease stops that partition; its late writes are refused by the
 * store's fence (StaleWriterError). A write refused because another writer of an older epoch
 * got in between (it had not yet noticed its lease was gone) makes the partition start over.
 */
import { randomUUID } from 'node:crypto';
import { jetstream, type ConsumerMessages, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { concatBatches, type SignalBatch } from '../../core/batch.js';
import type { Clock } from '../../core/clock.js';
import { StaleWriterError } from '../../core/errors.js';
import type { Alert, ApiEvent, DeadLetter, SecurityEvent, VehicleRecord } from '../../core/records.js';
import type { Store } from '../../core/store.js';
import { decodeHandover } from '../../runtime/bus.js';
import { unpackItems } from '../../runtime/handover.js';
import { Lane, type LaneOptions, type LaneOutput } from '../../runtime/lane.js';
import { partitionSubject } from './partition-bus.js';
import { LeaseTable, type Lease } from './partition-lease.js';

export interface PartitionWorkerOptions {
  readonly store: Store;
  readonly lane: LaneOptions;
  readonly clock: Clock;
  /** The hand-over stream and its subjects (partition-bus.ts). */
  readonly stream: string;
  readonly subjectPrefix: string;
  readonly partitions: number;
  /** The lease stream and lease time (partition-lease.ts). */
  readonly leaseStream: string;
  readonly leaseTtlMs: number;
  /** Messages (raw, as published) per write group at most. */
  readonly groupMessages?: number;
  /** A name for this worker in leases and logs (default: random). */
  readonly name?: string;
  /** Told about what happens (leases taken and lost, writes refused, retries). */
  readonly log?: (event: string, detail: Record<string, unknown>) => void;
  /** Called with each group's alerts once they are durable. */
  readonly onAlerts?: (alerts: readonly Alert[]) => void;
}

/** Default messages per write group. */
export const DEFAULT_GROUP_MESSAGES = 2000;
/** Pause before retrying a write that failed for another reason than the fence (store down). */
const WRITE_RETRY_MS = 500;
/** A write group is written at the latest this long after its first message joined. */
const GROUP_MAX_MS = 200;
/** Pause before a partition whose consumer failed starts over. */
const RESTART_PAUSE_MS = 500;
/** Hand-overs the ordered consumer buffers ahead. */
const CONSUME_AHEAD = 64;

/** What a worker has done so far (for tests, the bench and metrics). */
export interface WorkerCounters {
  /** Raw messages whose output this worker wrote. */
  messagesWritten: number;
  /** Raw messages fed to lanes only to rebuild state (at or below a stored position). */
  messagesReplayed: number;
  groupsWritten: number;
  signalsWritten: number;
  alertsWritten: number;
  leasesTaken: number;
  leasesLost: number;
  writeRetries: number;
}

interface Group {
  tenant: string | undefined;
  batches: SignalBatch[];
  security: SecurityEvent[];
  logs: ApiEvent[];
  alerts: Alert[];
  deadLetters: DeadLetter[];
  messages: number;
  from: number;
  to: number;
  /** performance.now() when its first message joined. */
  started: number;
}

const emptyGroup = (): Group => ({ tenant: undefined, batches: [], security: [], logs: [], alerts: [], deadLetters: [], messages: 0, from: 0, to: 0, started: 0 });

/** One owned partition: its lane and its consumer loop. */
class PartitionRun {
  private stopped = false;
  private messages: ConsumerMessages | undefined;
  readonly done: Promise<void>;

  constructor(
    private readonly owner: PartitionWorker,
    readonly lease: Lease,
  ) {
    this.done = this.run().catch((e: unknown) => owner.report('partition failed', { partition: lease.partition, error: (e as Error).message }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close().catch(() => undefined);
    await this.done;
  }

  private async run(): Promise<void> {
    const { partition, epoch } = this.lease;
    const o = this.owner.opts;
    for (;;) {
      if (this.stopped) return;
      try {
        if (!(await this.pass(partition, epoch, o))) return;
      } catch (e) {
        // The server went away under the consumer (a restart): start the partition over.
        this.owner.report('partition consumer failed; starting over', { partition, error: (e as Error).message });
        await new Promise((r) => setTimeout(r, RESTART_PAUSE_MS));
      }
    }
  }

  /** One pass from the stream's start; true when the partition must start over. */
  private async pass(partition: number, epoch: number, o: PartitionWorkerOptions): Promise<boolean> {
    const stored = (await this.owner.withStoreRetry(() => o.store.streamPositions())).find((p) => p.partition === partition);
    if (stored && stored.epoch > epoch) {
      this.owner.lost(partition, 'a newer owner has written');
      return false;
    }
    const replayTo = stored?.seq ?? 0;
    // A lane compiles the rule pack (a sizeable pause); let the lease renewals run around it.
    await new Promise((r) => setImmediate(r));
    const lane = new Lane(o.lane, o.clock);
    await new Promise((r) => setImmediate(r));
    const consumer = await this.owner.js.consumers.get(o.stream, { filter_subjects: partitionSubject(o.subjectPrefix, partition) });
    if (this.stopped) return false;
    const messages = (this.messages = await consumer.consume({ max_messages: CONSUME_AHEAD }));
    const limit = o.groupMessages ?? DEFAULT_GROUP_MESSAGES;
    let group = emptyGroup();
    // One write in flight while the lane goes on with the next hand-overs; writes of a
    // partition still follow one another, so its positions advance in order.
    let writing: Promise<'ok' | 'stop' | 'restart'> | undefined;
    let restart = false;
    const settle = async (): Promise<'ok' | 'stop' | 'restart'> => {
      const r = (await writing) ?? 'ok';
      writing = undefined;
      return r;
    };
    const flush = async (): Promise<'ok' | 'stop' | 'restart'> => {
      const before = await settle();
      if (before !== 'ok' || group.messages === 0) return before;
      const g = group;
      group = emptyGroup();
      writing = this.write(g, lane.takeVehicleUpdates(), partition, epoch);
      // Caught up and waiting for input: a failed last write must still end the pass.
      void writing.then((r) => {
        if (r === 'restart') restart = true;
        if (r !== 'ok') void messages.close().catch(() => undefined);
      });
      return 'ok';
    };
    for await (const m of messages) {
      // Buffered messages arrive as microtasks: let timers run between hand-overs, or the lease
      // renewals starve while the lanes are busy and the leases expire under a working worker.
      await new Promise((r) => setImmediate(r));
      if (this.stopped) break;
      const items = unpackItems(decodeHandover(m.data));
      const out = lane.process(items);
      if (m.seq <= replayTo) {
        this.owner.counters.messagesReplayed += items.length;
        lane.takeVehicleUpdates();
        continue;
      }
      const tenant = out.batches[0]?.tenant;
      if (group.messages > 0 && tenant !== undefined && group.tenant !== undefined && tenant !== group.tenant) {
        const r = await flush();
        if (r !== 'ok') return this.end(messages, r);
      }
      add(group, out, items.length, m.seq);
      if (group.messages >= limit || m.info.pending === 0 || performance.now() - group.started >= GROUP_MAX_MS) {
        const r = await flush();
        if (r !== 'ok') return this.end(messages, r);
      }
    }
    const last = await settle();
    if (last !== 'ok') return this.end(messages, last);
    if (restart) return !this.stopped;
    // Stopped: what was processed and not written is replayed by the next owner. Otherwise the
    // consumer ended under us (the server restarted): start over from the stored position.
    return !this.stopped;
  }

  private async end(messages: ConsumerMessages, r: 'stop' | 'restart'): Promise<boolean> {
    await messages.close().catch(() => undefined);
    return r === 'restart' && !this.stopped;
  }

  private async write(g: Group, vehicles: VehicleRecord[], partition: number, epoch: number): Promise<'ok' | 'stop' | 'restart'> {
    const o = this.owner.opts;
    const span = { partition, epoch, from: g.from, to: g.to };
    const signals = g.batches.length === 0 ? undefined : g.batches.length === 1 ? g.batches[0] : concatBatches(g.tenant!, g.batches);
    for (;;) {
      if (this.stopped) return 'stop';
      try {
        await o.store.writeGroup({ signals, securityEvents: g.security, apiEvents: g.logs, alerts: g.alerts, deadLetters: g.deadLetters, vehicles, spans: [span] });
        const c = this.owner.counters;
        c.groupsWritten++;
        c.messagesWritten += g.messages;
        c.signalsWritten += signals?.size ?? 0;
        c.alertsWritten += g.alerts.length;
        if (g.alerts.length) o.onAlerts?.(g.alerts);
        return 'ok';
      } catch (e) {
        if (!(e instanceof StaleWriterError)) {
          this.owner.counters.writeRetries++;
          this.owner.report('write failed; retrying', { partition, error: (e as Error).message });
          await new Promise((r) => setTimeout(r, WRITE_RETRY_MS));
          continue;
        }
        const now = (await this.owner.withStoreRetry(() => o.store.streamPositions())).find((p) => p.partition === partition);
        // Our own write committed, and only its answer was lost.
        if (now && now.epoch === epoch && now.seq >= span.to) return 'ok';
        if (now && now.epoch > epoch) {
          this.owner.lost(partition, 'a newer owner has written');
          return 'stop';
        }
        this.owner.report('an older owner wrote in between; starting the partition over', { partition, stored: now });
        return 'restart';
      }
    }
  }
}

function add(g: Group, out: LaneOutput, messages: number, seq: number): void {
  if (g.messages === 0) [g.from, g.started] = [seq, performance.now()];
  g.to = seq;
  g.messages += messages;
  for (const b of out.batches) {
    g.tenant ??= b.tenant;
    g.batches.push(b);
  }
  g.security.push(...out.security);
  g.logs.push(...out.logs);
  g.alerts.push(...out.alerts);
  g.deadLetters.push(...out.deadLetters);
}

/** The worker role; `await PartitionWorker.start(nc, opts)`, later `stop()`. */
export class PartitionWorker {
  readonly counters: WorkerCounters = { messagesWritten: 0, messagesReplayed: 0, groupsWritten: 0, signalsWritten: 0, alertsWritten: 0, leasesTaken: 0, leasesLost: 0, writeRetries: 0 };
  readonly js: JetStreamClient;
  private readonly runs = new Map<number, PartitionRun>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private stopped = false;

  private constructor(
    nc: NatsConnection,
    readonly opts: PartitionWorkerOptions,
    private readonly leases: LeaseTable,
  ) {
    this.js = jetstream(nc);
  }

  static async start(nc: NatsConnection, opts: PartitionWorkerOptions): Promise<PartitionWorker> {
    const name = opts.name ?? randomUUID().slice(0, 8);
    const leases = await LeaseTable.open(nc, { stream: opts.leaseStream, subjectPrefix: opts.subjectPrefix, ttlMs: opts.leaseTtlMs }, name);
    const w = new PartitionWorker(nc, opts, leases);
    await leases.heartbeat();
    // Renew at a third of the lease time (two renewals may fail before a lease expires), on a
    // timer of its own: taking leases and starting lanes must not delay the renewals.
    const every = Math.max(100, Math.floor(opts.leaseTtlMs / 3));
    w.renewTimer = setInterval(() => {
      if (!w.renewing) w.renewing = w.renew().finally(() => (w.renewing = undefined));
    }, every);
    w.timer = setInterval(() => {
      if (!w.ticking) w.ticking = w.tick().finally(() => (w.ticking = undefined));
    }, every);
    return w;
  }

  get name(): string {
    return this.leases.worker;
  }

  /** Partitions this worker runs now. */
  owned(): number[] {
    return [...this.runs.keys()].sort((a, b) => a - b);
  }

  report(event: string, detail: Record<string, unknown>): void {
    this.opts.log?.(event, { worker: this.name, ...detail });
  }

  /** A lease was lost: stop its partition (without waiting here) and forget it. */
  lost(partition: number, why: string): void {
    this.counters.leasesLost++;
    this.leases.drop(partition);
    const run = this.runs.get(partition);
    this.runs.delete(partition);
    void run?.stop();
    this.report('lease lost', { partition, why });
  }

  /** Runs `op` until it succeeds (the store may be restarting). */
  async withStoreRetry<T>(op: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await op();
      } catch (e) {
        if (this.stopped) throw e;
        this.counters.writeRetries++;
        await new Promise((r) => setTimeout(r, WRITE_RETRY_MS));
      }
    }
  }

  /** Heartbeat and renew every lease held. */
  private async renew(): Promise<void> {
    if (this.stopped) return;
    await this.leases.heartbeat();
    for (const p of await this.leases.renew()) this.lost(p, 'the lease was taken over');
  }

  /** Take or give back leases towards a fair share. */
  private async tick(): Promise<void> {
    if (this.stopped) return;
    let survey: { workers: number; held: Set<number> };
    try {
      survey = await this.leases.survey();
    } catch {
      return;
    }
    const share = Math.ceil(this.opts.partitions / Math.max(1, survey.workers));
    const mine = this.owned();
    if (mine.length > share) {
      // Give back one at a time, the highest numbered, once its run has stopped.
      const p = mine.at(-1)!;
      const run = this.runs.get(p)!;
      this.runs.delete(p);
      await run.stop();
      await this.leases.release(p);
      this.report('lease released', { partition: p, share });
      return;
    }
    // Start looking at a place of our own, so workers starting together do not all race for partition 0.
    const start = hashName(this.name) % this.opts.partitions;
    for (let i = 0; i < this.opts.partitions && this.runs.size < share && !this.stopped; i++) {
      const p = (start + i) % this.opts.partitions;
      if (survey.held.has(p) || this.runs.has(p)) continue;
      const lease = await this.leases.acquire(p);
      if (!lease || this.stopped) continue;
      this.counters.leasesTaken++;
      this.report('lease taken', { partition: p, epoch: lease.epoch });
      this.runs.set(p, new PartitionRun(this, lease));
    }
  }

  /** Stop every partition and give the leases back, so live workers take them at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.renewTimer) clearInterval(this.renewTimer);
    await this.ticking;
    await this.renewing;
    const runs = [...this.runs];
    this.runs.clear();
    await Promise.all(runs.map(([, r]) => r.stop()));
    for (const [p] of runs) await this.leases.release(p);
    await this.leases.retire();
  }
}

function hashName(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
