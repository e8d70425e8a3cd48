/**
 * Worker-thread entry of TraceReaderThread (parallel.ts): reads the files it is sent, one at
 * a time, with readTrace, and posts their chunks, buffers transferred, never more than the
 * credits the reading side gave.
 */
import { parentPort } from 'node:worker_threads';
import { canTransferables } from '../../core/can.js';
import { VigilError } from '../../core/errors.js';
import { readTrace, type TraceChunk, type TraceOptions } from './trace.js';

export type ToTraceWorker =
  | { readonly type: 'read'; readonly path: string; readonly opts: Omit<TraceOptions, 'counter' | 'now'>; readonly credits: number }
  | { readonly type: 'credit' };

export type FromTraceWorker =
  | { readonly type: 'chunk'; readonly chunk: TraceChunk; readonly bytesRead: number; readonly bytesTotal: number }
  | { readonly type: 'end' }
  | { readonly type: 'error'; readonly message: string; readonly decode: boolean };

/** The buffers a chunk owns alone (each payload and raw line is its own array), to transfer rather than copy. */
function transfers(c: TraceChunk): ArrayBuffer[] {
  if (c.type === 'frames') return canTransferables(c.batch);
  if (c.type === 'records') return c.items.map((i) => (i.payload as Uint8Array).buffer as ArrayBuffer);
  if (c.type === 'rejects') return c.deadLetters.map((d) => d.raw.buffer as ArrayBuffer);
  return [];
}

function serve(port: NonNullable<typeof parentPort>): void {
  let credits = 0;
  let resume: (() => void) | undefined;
  let queue: Promise<void> = Promise.resolve();
  const read = async (m: Extract<ToTraceWorker, { type: 'read' }>): Promise<void> => {
    credits = m.credits;
    const counter = { bytesRead: 0, bytesTotal: 0 };
    try {
      for await (const chunk of readTrace(m.path, { ...m.opts, counter })) {
        while (credits <= 0) await new Promise<void>((r) => (resume = r));
        credits--;
        port.postMessage({ type: 'chunk', chunk, bytesRead: counter.bytesRead, bytesTotal: counter.bytesTotal } satisfies FromTraceWorker, transfers(chunk));
      }
      port.postMessage({ type: 'end' } satisfies FromTraceWorker);
    } catch (e) {
      port.postMessage({ type: 'error', message: (e as Error).message, decode: e instanceof VigilError } satisfies FromTraceWorker);
    }
  };
  port.on('message', (m: ToTraceWorker) => {
    if (m.type === 'credit') {
      credits++;
      resume?.();
    } else queue = queue.then(() => read(m));
  });
}

if (parentPort) serve(parentPort);
