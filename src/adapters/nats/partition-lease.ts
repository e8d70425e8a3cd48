/**
 * Partition leases on NATS JetStream: which worker owns which partition, for how long.
 *
 * A lease is the one message kept on `<prefix>.lease.part.<n>` of a stream whose messages
 * expire after the lease time (`max_age`). Taking a free lease publishes with "expect no
 * message on this subject"; renewing publishes with "expect the last one to be mine" (its
 * sequence); both are compare-and-set in the server, so two workers never hold one partition.
 * A worker killed with kill -9 stops renewing and its leases expire within `ttlMs`.
 *
 * Epoch: the stream sequence of the publish that took the lease. Sequences only grow, so a
 * new owner always has a higher epoch than every earlier one; renewals keep it. It fences the
 * store (Store.writeGroup): a worker that lost its lease cannot write after its successor.
 * (Deleting and re-creating the lease stream restarts sequences; the store would then refuse
 * the new epochs. Do not delete it while workers' positions are stored.)
 *
 * Live workers announce themselves on `<prefix>.lease.worker.<id>` the same way; their count
 * decides each worker's fair share of partitions.
 */
import { JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager, StorageType, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';

export interface LeaseOptions {
  /** The lease stream (created when missing). */
  readonly stream: string;
  readonly subjectPrefix: string;
  /** How long a lease lives without renewal; renew well within it. */
  readonly ttlMs: number;
  readonly replicas?: number;
}

/** A lease this worker holds. */
export interface Lease {
  readonly partition: number;
  /** Grows at every change of owner (see the file comment). */
  readonly epoch: number;
}

interface Held {
  readonly epoch: number;
  /** Stream sequence of the last message this worker wrote on the lease's subject. */
  last: number;
}

const LEASE_TIMEOUT_MS = 3000;
/** JetStream's "stream name already in use" (another worker created the stream first). */
const STREAM_NAME_IN_USE = 10058;

export class LeaseTable {
  private readonly held = new Map<number, Held>();

  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly opts: LeaseOptions,
    readonly worker: string,
  ) {}

  static async open(nc: NatsConnection, opts: LeaseOptions, worker: string): Promise<LeaseTable> {
    const jsm = await jetstreamManager(nc);
    try {
      await jsm.streams.info(opts.stream);
    } catch (e) {
      if (!(e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamNotFound)) throw e;
      await jsm.streams
        .add({
          name: opts.stream,
          subjects: [`${opts.subjectPrefix}.lease.>`],
          max_msgs_per_subject: 1,
          max_age: nanos(opts.ttlMs),
          duplicate_window: nanos(Math.min(opts.ttlMs, 60_000)),
          storage: StorageType.File,
          num_replicas: opts.replicas ?? 1,
        })
        .catch((err: unknown) => {
          // Another worker created it first.
          if (!(err instanceof JetStreamApiError && err.code === STREAM_NAME_IN_USE)) throw err;
        });
    }
    return new LeaseTable(jetstream(nc, { timeout: LEASE_TIMEOUT_MS }), jsm, opts, worker);
  }

  private subject(partition: number): string {
    return `${this.opts.subjectPrefix}.lease.part.${partition}`;
  }

  private body(epoch: number): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({ worker: this.worker, epoch }));
  }

  /** The partitions whose leases this worker holds, with their epochs. */
  leases(): Lease[] {
    return [...this.held].map(([partition, h]) => ({ partition, epoch: h.epoch })).sort((a, b) => a.partition - b.partition);
  }

  /** Take the lease of a free partition; undefined when someone holds it (or the server refused). */
  async acquire(partition: number): Promise<Lease | undefined> {
    try {
      const ack = await this.js.publish(this.subject(partition), this.body(0), { expect: { lastSubjectSequence: 0 } });
      // The taking message's sequence is the epoch; the renewal right away records it in the lease.
      const h: Held = { epoch: ack.seq, last: ack.seq };
      this.held.set(partition, h);
      if (!(await this.renewOne(partition, h))) return undefined;
      return { partition, epoch: h.epoch };
    } catch {
      return undefined;
    }
  }

  /** Renew every held lease; returns the partitions whose lease was lost (expired and taken, or unreachable too long). */
  async renew(): Promise<number[]> {
    const lost: number[] = [];
    await Promise.all(
      [...this.held].map(async ([partition, h]) => {
        if (!(await this.renewOne(partition, h))) lost.push(partition);
      }),
    );
    return lost;
  }

  private async renewOne(partition: number, h: Held): Promise<boolean> {
    try {
      const ack = await this.js.publish(this.subject(partition), this.body(h.epoch), { expect: { lastSubjectSequence: h.last } });
      h.last = ack.seq;
      return true;
    } catch (e) {
      // A wrong last sequence: someone else's message is there now. Anything else (no server)
      // may pass; the lease is kept until a renewal is refused, and the store's fence guards writes.
      if (e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamWrongLastSequence) {
        // A renewal whose answer timed out may have landed: the lease message is then ours still.
        const current = await this.current(partition);
        if (current && current.worker === this.worker && current.epoch === h.epoch) {
          h.last = current.seq;
          return this.renewOne(partition, h);
        }
        this.held.delete(partition);
        return false;
      }
      return true;
    }
  }

  /** The lease message of a partition as the server has it now; undefined when there is none (or no answer). */
  private async current(partition: number): Promise<{ worker: string; epoch: number; seq: number } | undefined> {
    try {
      const m = await this.jsm.streams.getMessage(this.opts.stream, { last_by_subj: this.subject(partition) });
      if (!m) return undefined;
      const body = JSON.parse(new TextDecoder().decode(m.data)) as { worker: string; epoch: number };
      return { ...body, seq: m.seq };
    } catch {
      return undefined;
    }
  }

  /** Give a lease back at once (a graceful hand-over); the partition is free for others. */
  async release(partition: number): Promise<void> {
    if (!this.held.delete(partition)) return;
    await this.jsm.streams.purge(this.opts.stream, { filter: this.subject(partition) }).catch(() => undefined);
  }

  /** Forget a lease without touching the server (it was lost). */
  drop(partition: number): void {
    this.held.delete(partition);
  }

  /** Announce this worker as live (renewed like a lease). */
  async heartbeat(): Promise<void> {
    await this.js.publish(`${this.opts.subjectPrefix}.lease.worker.${this.worker}`, this.body(0)).catch(() => undefined);
  }

  /** Remove this worker's announcement (stopping). */
  async retire(): Promise<void> {
    await this.jsm.streams.purge(this.opts.stream, { filter: `${this.opts.subjectPrefix}.lease.worker.${this.worker}` }).catch(() => undefined);
  }

  /** Live workers and the partitions held by anyone, as the server has them now. */
  async survey(): Promise<{ workers: number; held: Set<number> }> {
    const info = await this.jsm.streams.info(this.opts.stream, { subjects_filter: `${this.opts.subjectPrefix}.lease.>` });
    const subjects = Object.keys(info.state.subjects ?? {});
    const workerPrefix = `${this.opts.subjectPrefix}.lease.worker.`;
    const partPrefix = `${this.opts.subjectPrefix}.lease.part.`;
    const held = new Set<number>();
    let workers = 0;
    for (const s of subjects) {
      if (s.startsWith(workerPrefix)) workers++;
      else if (s.startsWith(partPrefix)) held.add(Number(s.slice(partPrefix.length)));
    }
    return { workers, held };
  }
}
