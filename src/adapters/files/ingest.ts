/**
 * Trace files into the pipeline — what `vigil import` and `vigil replay` run. Files are read
 * one after another through readTrace: frame batches go to `pipeline.pushFrames`, wire
 * messages to `pipeline.push`, unreadable lines to `pipeline.deadLetter`; each waits when the
 * pipeline is full, so reading never runs ahead of the store. With a Pacer, every frame and
 * message waits for its recorded time (replay); without one, it goes as fast as accepted.
 *
 * Conservation, per file: lines = frames + records + rejected + skipped. Downstream, every
 * frame and record is stored or dead-lettered by the lane (pipeline metrics say which).
 */
import { stat } from 'node:fs/promises';
import { VigilError } from '../../core/errors.js';
import type { Pipeline } from '../../runtime/pipeline.js';
import type { Pacer } from './pace.js';
import { readTrace, type EntrySummary, type TraceOptions } from './trace.js';

/** Dead-letter groups handed to the store and not yet durable before reading waits. */
const MAX_PENDING_DEAD = 16;

export interface IngestOptions extends Omit<TraceOptions, 'counter' | 'source'> {
  readonly pipeline: Pipeline;
  /** Replay at recorded time; absent: as fast as the pipeline takes it. */
  readonly pacer?: Pacer;
  /** Called after every chunk (often): the renderer decides how often to draw. */
  readonly onProgress?: (p: IngestProgress) => void;
}

export interface IngestProgress {
  readonly file: string;
  /** Bytes of all files on disk: read so far, and in total. */
  readonly bytesRead: number;
  readonly bytesTotal: number;
  readonly frames: number;
  readonly records: number;
  readonly rejected: number;
}

export interface IngestResult {
  /** Files and archive entries read to the end. */
  readonly entries: readonly EntrySummary[];
  /** Files that could not be read, or not to the end (what was read before the error stays imported). */
  readonly failed: readonly { readonly file: string; readonly error: string }[];
  readonly frames: number;
  readonly labelled: number;
  readonly records: number;
  /** Lines dead-lettered by the reader (the lane's refusals are in the pipeline metrics). */
  readonly rejected: number;
  readonly skipped: number;
  readonly lines: number;
}

/** Read `paths` into the pipeline and wait until everything is durable. */
export async function ingestTraces(paths: readonly string[], opts: IngestOptions): Promise<IngestResult> {
  const { pipeline, pacer, onProgress, ...read } = opts;
  const sizes = await Promise.all(paths.map((p) => stat(p).then((s) => (s.isFile() ? s.size : 0), () => 0)));
  const bytesTotal = sizes.reduce((a, b) => a + b, 0);
  const entries: EntrySummary[] = [];
  const failed: { file: string; error: string }[] = [];
  let frames = 0;
  let labelled = 0;
  let records = 0;
  let rejected = 0;
  let bytesBefore = 0;

  let pendingDead = 0;
  let deadDrained: (() => void) | undefined;
  const deadDone = (): void => {
    pendingDead--;
    deadDrained?.();
  };

  for (const [k, path] of paths.entries()) {
    const counter = { bytesRead: 0, bytesTotal: 0 };
    const progress = (): void =>
      onProgress?.({ file: path, bytesRead: bytesBefore + counter.bytesRead, bytesTotal, frames, records, rejected });
    pacer?.restart();
    try {
      for await (const c of readTrace(path, { ...read, counter })) {
        if (c.type === 'frames') {
          const batches = pacer ? pacer.frames(c.batch) : [c.batch];
          for await (const b of batches) {
            // Count before the hand-over: pushFrames transfers the batch's buffers.
            frames += b.size;
            if (b.label) for (let i = 0; i < b.size; i++) labelled += b.label[i]!;
            await pipeline.pushFrames(b);
          }
        } else if (c.type === 'records') {
          for (const [i, item] of c.items.entries()) {
            if (pacer) await pacer.wait(c.times[i]!);
            await pipeline.push(pacer ? { ...item, receivedAt: (read.now ?? Date.now)() } : item);
          }
          records += c.items.length;
        } else if (c.type === 'rejects') {
          rejected += c.deadLetters.length;
          pendingDead++;
          pipeline.deadLetter(c.deadLetters, deadDone);
          while (pendingDead > MAX_PENDING_DEAD) await new Promise<void>((r) => (deadDrained = r));
        } else entries.push(c.summary);
        progress();
      }
    } catch (e) {
      if (!(e instanceof VigilError)) throw e;
      failed.push({ file: path, error: e.message });
    }
    bytesBefore += sizes[k]!;
    progress();
  }
  await pipeline.drain();
  const sum = (f: (e: EntrySummary) => number): number => entries.reduce((a, e) => a + f(e), 0);
  return { entries, failed, frames, labelled, records, rejected, skipped: sum((e) => e.skipped), lines: sum((e) => e.lines) };
}
