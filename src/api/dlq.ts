/**
 * Dead-letter replay: after a fix (a mapping added, a catalog extended, a bug fixed), the
 * refused records are sent through the pipeline again. A dead letter is removed once its
 * replay is durable; if it is refused again, the new dead letter carries the replay's source
 * (`dlq-replay-<id>`), so nothing is lost either way.
 */
import { randomUUID } from 'node:crypto';
import type { DeadLetter } from '../core/records.js';
import type { Store } from '../core/store.js';
import type { Pipeline } from '../runtime/pipeline.js';

/** Dead letters replayed per call at most. */
export const MAX_REPLAY = 100_000;
const PAGE = 5000;

export interface ReplayFilter {
  readonly tenant?: string;
  readonly code?: string;
  readonly source?: string;
  readonly limit?: number;
}

export interface ReplayResult {
  readonly replaySource: string;
  readonly selected: number;
  readonly replayed: number;
  /** Replayed but refused again: listed under `replaySource`. */
  readonly deadAgain: number;
  /** Dead letters that cannot be replayed as messages (raw CAN frame batches: re-import the trace). */
  readonly skipped: number;
}

export async function replayDeadLetters(store: Store, pipeline: Pipeline, filter: ReplayFilter): Promise<ReplayResult> {
  const limit = Math.min(MAX_REPLAY, filter.limit ?? MAX_REPLAY);
  const replaySource = `dlq-replay-${randomUUID().slice(0, 8)}`;
  const selected: DeadLetter[] = [];
  for (let offset = 0; selected.length < limit; offset += PAGE) {
    const page = await store.listDeadLetters({ ...filter, limit: Math.min(PAGE, limit - selected.length), offset });
    selected.push(...page);
    if (page.length < PAGE) break;
  }
  const done: string[] = [];
  let skipped = 0;
  const acks: Promise<void>[] = [];
  for (const d of selected) {
    if (d.kind === 'can' || d.kind === 'unknown' || d.tenant === undefined) {
      skipped++;
      continue;
    }
    acks.push(
      new Promise<void>((resolve, reject) => {
        pipeline
          .push({ kind: d.kind as 'signals' | 'security' | 'log', tenant: d.tenant!, source: replaySource, payload: d.raw, receivedAt: Date.now() }, () => {
            done.push(d.id);
            resolve();
          })
          .catch(reject);
      }),
    );
  }
  await Promise.all(acks);
  await store.deleteDeadLetters(done);
  const deadAgain = (await store.listDeadLetters({ source: replaySource, limit: MAX_REPLAY })).length;
  return { replaySource, selected: selected.length, replayed: done.length, deadAgain, skipped };
}
