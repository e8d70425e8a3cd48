/**
 * The scale-out bus on NATS JetStream, publishing side (the ingest role). One stream holds
 * every partition's hand-overs on `<prefix>.part.<n>`; a partition's subject keeps its
 * messages in order, and the stream sequence is what workers' stored positions count
 * (Store.writeGroup). A publish is retried until the server has it — through a server
 * restart the ingest role's in-flight bound fills and its sources are slowed — and carries a
 * message id, so a retry of a publish whose acknowledgement was lost is stored once (the
 * stream's duplicate window).
 */
import { randomUUID } from 'node:crypto';
import { JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamClient } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import type { PartitionPublisher } from '../../runtime/bus.js';
import { encodeHandover } from '../../runtime/bus.js';
import type { PackedItems } from '../../runtime/handover.js';

/** Where the partitions' hand-overs live. */
export interface BusStreamOptions {
  /** The JetStream stream of the hand-overs. */
  readonly stream: string;
  /** Subjects are `<subjectPrefix>.part.<n>`. */
  readonly subjectPrefix: string;
  readonly partitions: number;
  /** Stream replicas when the stream is created here (3 on a NATS cluster). */
  readonly replicas?: number;
}

/** Pause between two attempts of a publish that failed (no server, no JetStream, timeout). */
export const PUBLISH_RETRY_MS = 250;
/** How long a publish waits for the server's acknowledgement. */
const PUBLISH_TIMEOUT_MS = 5000;
/** The stream's duplicate window: a retried publish within it is stored once. */
const DUPLICATE_WINDOW_MS = 2 * 60_000;

/** The subject of a partition's hand-overs. */
export const partitionSubject = (prefix: string, partition: number): string => `${prefix}.part.${partition}`;

/** The partition a subject names, or undefined. */
export function subjectPartition(prefix: string, subject: string): number | undefined {
  if (!subject.startsWith(`${prefix}.part.`)) return undefined;
  const n = Number(subject.slice(prefix.length + 6));
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** Creates the hand-over stream when missing (idempotent). */
export async function ensureBusStream(nc: NatsConnection, opts: BusStreamOptions): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.info(opts.stream);
  } catch (e) {
    if (!(e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamNotFound)) throw e;
    await jsm.streams.add({
      name: opts.stream,
      subjects: [`${opts.subjectPrefix}.part.*`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: opts.replicas ?? 1,
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    });
  }
}

/** Publishes hand-overs to the partitions' subjects; see the file comment. */
export class NatsPartitionPublisher implements PartitionPublisher {
  private readonly js: JetStreamClient;
  /** Message ids are `<publisher>:<n>`: unique per process run. */
  private readonly id = randomUUID();
  private next = 0;
  private stopped = false;
  /** Publishes that failed and were retried (a paused bus). */
  retries = 0;

  constructor(
    nc: NatsConnection,
    private readonly opts: BusStreamOptions,
  ) {
    this.js = jetstream(nc, { timeout: PUBLISH_TIMEOUT_MS });
  }

  async publish(partition: number, packed: PackedItems): Promise<void> {
    const data = encodeHandover(packed);
    const msgID = `${this.id}:${this.next++}`;
    const subject = partitionSubject(this.opts.subjectPrefix, partition);
    for (;;) {
      if (this.stopped) throw new Error('the bus publisher is stopped');
      try {
        await this.js.publish(subject, data, { msgID, timeout: PUBLISH_TIMEOUT_MS });
        return;
      } catch {
        this.retries++;
        await new Promise((r) => setTimeout(r, PUBLISH_RETRY_MS));
      }
    }
  }

  /** Publishes still retrying reject from now on. */
  stop(): void {
    this.stopped = true;
  }
}
