/**
 * readTrace on a worker thread: the same chunks, parsed on another core while this thread
 * hands the previous ones to the pipeline and the store. One thread reads the files of an
 * import one after another, at most CREDITS chunks ahead of the consumer; a consumer that
 * waits stops it. Times that come from a clock (the start of relative traces, receivedAt)
 * are set on this side, so an injected Clock still rules.
 */
import { Worker } from 'node:worker_threads';
import { DecodeError } from '../../core/errors.js';
import type { FromTraceWorker, ToTraceWorker } from './trace-worker.js';
import type { TraceChunk, TraceOptions } from './trace.js';

/** Chunks parsed ahead of the consumer. */
const CREDITS = 4;

export class TraceReaderThread {
  private worker: Worker | undefined;
  private inbox: FromTraceWorker[] = [];
  private wake: (() => void) | undefined;

  /** The chunks of `path`, as readTrace gives them. Read one file at a time. */
  async *read(path: string, opts: TraceOptions): AsyncGenerator<TraceChunk> {
    const now = opts.now ?? Date.now;
    const { now: _now, counter, ...rest } = opts;
    const worker = (this.worker ??= this.spawn());
    this.inbox = [];
    this.post({ type: 'read', path, opts: { ...rest, start: opts.start ?? now() }, credits: CREDITS });
    let finished = false;
    try {
      for (;;) {
        while (this.inbox.length === 0) await new Promise<void>((r) => (this.wake = r));
        const m = this.inbox.shift()!;
        if (m.type === 'end') {
          finished = true;
          return;
        }
        if (m.type === 'error') {
          finished = worker === this.worker && m.decode;
          throw m.decode ? new DecodeError(m.message) : new Error(m.message);
        }
        if (counter) {
          counter.bytesRead = m.bytesRead;
          counter.bytesTotal = m.bytesTotal;
        }
        this.post({ type: 'credit' });
        yield stamped(m.chunk, now());
      }
    } finally {
      // A file left half read (the consumer stopped, or the thread failed) takes the thread with it.
      if (!finished) await this.close();
    }
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) {
      w.removeAllListeners();
      await w.terminate();
    }
  }

  private post(m: ToTraceWorker): void {
    this.worker!.postMessage(m);
  }

  private deliver(m: FromTraceWorker): void {
    this.inbox.push(m);
    this.wake?.();
  }

  /**
   * From compiled JavaScript the worker file is loaded directly; from TypeScript sources (tests)
   * a bootstrap registers tsx inside the worker first, as the pipeline does for its lanes.
   */
  private spawn(): Worker {
    let w: Worker;
    if (!import.meta.url.endsWith('.ts')) w = new Worker(new URL('./trace-worker.js', import.meta.url));
    else {
      const entry = JSON.stringify(new URL('./trace-worker.ts', import.meta.url).href);
      w = new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${entry}); });`, { eval: true });
    }
    w.on('message', (m: FromTraceWorker) => this.deliver(m));
    w.on('error', (e) => this.deliver({ type: 'error', message: `reader thread failed: ${e.message}`, decode: false }));
    w.on('exit', (code) => this.deliver({ type: 'error', message: `reader thread exited with code ${code}`, decode: false }));
    w.unref();
    return w;
  }
}

/** The chunk with receivedAt from this side's clock. */
function stamped(c: TraceChunk, receivedAt: number): TraceChunk {
  if (c.type === 'frames') return { type: 'frames', batch: { ...c.batch, receivedAt } };
  if (c.type === 'records') return { ...c, items: c.items.map((i) => ({ ...i, receivedAt })) };
  if (c.type === 'rejects') return { type: 'rejects', deadLetters: c.deadLetters.map((d) => ({ ...d, receivedAt })) };
  return c;
}
