/**
 * JSONL (one wire message per line, README.md here) to records for the pipeline: each line's
 * kind and event time, without changing the line. The kind comes from the line's `kind` field,
 * else from the file name (`signals.jsonl`, `security.jsonl`, `log.jsonl`, as `vigil simulate`
 * writes them), else from the message's shape. When the file names the kind, a line that is
 * not even JSON still goes through as is, so the lane dead-letters it with its usual reason.
 */
import type { RecordKind } from '../core/records.js';
import { forEachLine, type LineReject } from './lines.js';
import { parseJsonObject } from './json.js';

export const RECORD_KINDS: readonly RecordKind[] = ['signals', 'security', 'log'];
const isKind = (k: unknown): k is RecordKind => k === 'signals' || k === 'security' || k === 'log';

/** Files `vigil simulate` writes beside the messages that are not wire messages. */
export const NOT_MESSAGE_FILES: Readonly<Record<string, string>> = {
  labels: 'ground-truth labels (scenario windows), not wire messages',
  fleet: 'vehicle identities, not wire messages',
  manifest: 'the run manifest, not wire messages',
};

/** The stem of a file name: `can/signals.jsonl.gz` -> `signals`. */
export const fileStem = (name: string): string => (name.split('/').pop() ?? name).replace(/\..*$/, '');

/** The kind a file's name gives its lines: `signals.jsonl`, `security-2025.ndjson`, `fleet-a.log.jsonl`. */
export function kindOfFileName(name: string): RecordKind | undefined {
  const base = (name.split('/').pop() ?? name).toLowerCase();
  const parts = base.split(/[.\-_]/);
  const hits = parts.filter(isKind);
  return hits.length === 1 ? hits[0] : undefined;
}

/** The kind a message's fields suggest, for files that name none. */
function kindOfShape(o: Record<string, unknown>): RecordKind | undefined {
  if (o.signals !== undefined || o.samples !== undefined) return 'signals';
  if (o.eventId !== undefined) return 'security';
  if (o.endpoint !== undefined || o.service !== undefined) return 'log';
  return undefined;
}

/** JSONL lines to kinds, event times and line numbers; one per file, fed whole lines in blocks. */
export class JsonlParser {
  readonly rejects: LineReject[] = [];
  /** Blank lines. */
  skipped = 0;
  /** Lines accepted since the last take(). */
  payloads: string[] = [];
  kinds: RecordKind[] = [];
  /** Event time (`ts`, epoch ms) per line; NaN when the line has none or was not parsed. */
  times: number[] = [];
  lines: number[] = [];
  private readonly onLine = (s: string, a: number, b: number, line: number): void => this.line(s.slice(a, b), line);

  /**
   * `fileKind`: the kind the file name (or the caller) gives; `eventTime`: parse every line for
   * its `ts` (replay needs it; import of a named file can skip the parse).
   */
  constructor(
    private readonly fileKind: RecordKind | undefined,
    private readonly eventTime = true,
  ) {}

  /** Parse the lines of `text` (complete lines; numbering starts at `firstLine`); returns the line count. */
  block(text: string, firstLine: number): number {
    return forEachLine(text, firstLine, this.onLine);
  }

  /** The lines accepted so far, and start over. */
  take(): { payloads: string[]; kinds: RecordKind[]; times: number[]; lines: number[] } {
    const out = { payloads: this.payloads, kinds: this.kinds, times: this.times, lines: this.lines };
    this.payloads = [];
    this.kinds = [];
    this.times = [];
    this.lines = [];
    return out;
  }

  private accept(payload: string, kind: RecordKind, time: number, line: number): void {
    this.payloads.push(payload);
    this.kinds.push(kind);
    this.times.push(time);
    this.lines.push(line);
  }

  private line(text: string, line: number): void {
    if (text.trim().length === 0) {
      this.skipped++;
      return;
    }
    const fileKind = this.fileKind;
    // Fast path: the file names the kind and no time is wanted, so only a line naming its own kind is parsed.
    if (fileKind !== undefined && !this.eventTime && !text.includes('"kind"')) return this.accept(text, fileKind, NaN, line);
    const parsed = parseJsonObject(text);
    if (!parsed.ok) {
      if (fileKind !== undefined) return this.accept(text, fileKind, NaN, line);
      this.rejects.push({ line, raw: text, ...parsed.reject });
      return;
    }
    const o = parsed.value;
    if (o.kind !== undefined && !isKind(o.kind)) {
      this.rejects.push({ line, raw: text, code: 'jsonl.kind', reason: `kind ${JSON.stringify(o.kind)} is none of ${RECORD_KINDS.join(', ')}` });
      return;
    }
    const kind = (o.kind as RecordKind | undefined) ?? fileKind ?? kindOfShape(o);
    if (kind === undefined) {
      this.rejects.push({ line, raw: text, code: 'jsonl.kind', reason: 'cannot tell the kind: no `kind` field, the file name names none, and the fields fit no kind' });
      return;
    }
    this.accept(text, kind, typeof o.ts === 'number' && Number.isFinite(o.ts) ? o.ts : NaN, line);
  }
}
