/**
 * Read a trace file — candump log, CAN CSV, JSONL wire messages; plain, `.gz` or `.zip` —
 * as a stream of chunks ready for the pipeline: columnar CAN frame batches, wire messages,
 * and the lines that could not be read, already shaped as dead letters (file:line, reason,
 * exact raw bytes). `vigil import`, `vigil replay` and evaluations all read through here.
 *
 * ```ts
 * for await (const c of readTrace('V40_03.can.zip', { tenant: 'lab', vin, mapping: csvLayout('daga') })) {
 *   if (c.type === 'frames') use(c.batch);          // CanFrameBatch, labels when the CSV has them
 *   else if (c.type === 'records') send(c.items);   // InputItems for pipeline.push
 *   else if (c.type === 'rejects') keep(c.deadLetters);
 *   else console.log(c.summary);                    // 'entry': counts of one file (or zip entry)
 * }
 * ```
 *
 * A file that cannot be read at all (missing, not an archive, unknown format, a CSV header
 * the mapping does not fit, no vehicle for a CAN trace) throws a DecodeError; a corrupt
 * stream throws when reached, after the chunks before it. A malformed line never throws.
 * The generator pulls: a consumer that waits (backpressure) stops the reading.
 */
import { createHash } from 'node:crypto';
import type { CanFrameBatch } from '../../core/can.js';
import { DecodeError } from '../../core/errors.js';
import type { DeadLetter, RecordKind } from '../../core/records.js';
import { CandumpParser } from '../../decode/can-text/candump.js';
import { CsvFrameParser } from '../../decode/can-text/csv.js';
import { CSV_LAYOUTS, guessCsvMapping, parseCsvMapping, type CsvLayoutName, type CsvMapping } from '../../decode/can-text/csv-mapping.js';
import { FrameSink, type TimeBase } from '../../decode/can-text/frames.js';
import { detectFormat, firstContentLine, type TraceFormat } from '../../decode/file-format.js';
import { JsonlParser, kindOfFileName } from '../../decode/jsonl.js';
import { bytesOf, type LineReject } from '../../decode/lines.js';
import type { InputItem } from '../../runtime/lane.js';
import { openEntries, type ByteCounter } from './readers/open.js';
import { textBlocks } from './readers/lines.js';

export type { TraceFormat } from '../../decode/file-format.js';
export type { ByteCounter } from './readers/open.js';

export interface TraceOptions {
  readonly tenant: string;
  /** The vehicle (VIN) of a CAN trace; default: the file name when it is a VIN (`<VIN>.log`, as `vigil simulate` writes). */
  readonly vin?: string;
  /** Skip detection. */
  readonly format?: TraceFormat;
  /** CSV column mapping; default: the built-in layout the header matches, else a guess from the header names. */
  readonly mapping?: CsvMapping;
  /** JSONL record kind when lines and file name do not say it. */
  readonly kind?: RecordKind;
  /** Epoch ms that relative CAN times count from (default: `now()` when the file is opened). */
  readonly start?: number;
  /** Override the time base of CAN traces (default: the mapping's, `auto` for candump). */
  readonly timeBase?: TimeBase;
  /** Frames per batch (default 65,536; replay uses fewer for finer pacing). */
  readonly chunkFrames?: number;
  /** JSONL: read every line's `ts` (replay needs it); otherwise a file whose name gives the kind is passed through unparsed. */
  readonly eventTimes?: boolean;
  /** Filled in as the file is read: bytes of the file on disk consumed, and its size. */
  readonly counter?: ByteCounter;
  /** Processing time (receivedAt, default start); default Date.now. */
  readonly now?: () => number;
  /** The `source` of batches, messages and dead letters; default `file:<file name>`. */
  readonly source?: string;
}

/** What one file, or one entry of a zip archive, held. */
export interface EntrySummary {
  /** The path as given. */
  readonly file: string;
  /** `name` or `name.zip!entry`: how dead-letter reasons name the place. */
  readonly entry: string;
  readonly format: TraceFormat;
  readonly layout?: CsvLayoutName;
  readonly lines: number;
  readonly frames: number;
  /** Frames labelled as attacks. */
  readonly labelled: number;
  readonly records: number;
  readonly rejected: number;
  /** Blank lines, comments, repeated headers (intentional). */
  readonly skipped: number;
}

export type TraceChunk =
  | { readonly type: 'frames'; readonly batch: CanFrameBatch }
  /** Wire messages with their event time (`ts`, NaN when not read) and line number, index-aligned. */
  | { readonly type: 'records'; readonly items: readonly InputItem[]; readonly times: readonly number[]; readonly lines: readonly number[] }
  | { readonly type: 'rejects'; readonly deadLetters: readonly DeadLetter[] }
  | { readonly type: 'entry'; readonly summary: EntrySummary };

/** A built-in layout as a mapping. */
export const csvLayout = (name: CsvLayoutName): CsvMapping => parseCsvMapping(CSV_LAYOUTS[name], `layout ${name}`);

/** Bytes of a file's start used to detect its format. */
const HEAD_CHARS = 64 * 1024;
const VIN_NAME = /^[A-HJ-NPR-Z0-9]{17}$/;

/** The chunks of the trace at `path`; see the file comment. */
export async function* readTrace(path: string, opts: TraceOptions): AsyncGenerator<TraceChunk> {
  const file = path.split('/').pop() ?? path;
  const source = opts.source ?? `file:${file}`;
  const now = opts.now ?? Date.now;
  const counter = opts.counter ?? { bytesRead: 0, bytesTotal: 0 };
  for await (const entry of openEntries(path, counter)) {
    yield* readEntry(entry.inArchive ? `${file}!${entry.name}` : file, entry.name, entry.bytes, { ...opts, path, source, now });
  }
}

type EntryOptions = TraceOptions & { readonly path: string; readonly source: string; readonly now: () => number };

async function* readEntry(where: string, name: string, bytes: AsyncIterable<Uint8Array>, opts: EntryOptions): AsyncGenerator<TraceChunk> {
  const blocks = textBlocks(bytes);
  let reader: EntryReader | undefined;
  let line = 1;
  for await (const block of blocks) {
    reader ??= makeReader(where, name, typeof block === 'string' ? block.slice(0, HEAD_CHARS) : block.overlong.slice(0, HEAD_CHARS), opts);
    if (typeof block === 'string') line += reader.block(block, line);
    else {
      reader.reject({ line, code: 'line.too_long', reason: `line of ${block.length} bytes exceeds ${block.overlong.length}; its first ${block.overlong.length} bytes are kept`, raw: block.overlong });
      line++;
    }
    yield* reader.drain(false);
  }
  reader ??= makeReader(where, name, '', opts);
  yield* reader.drain(true);
  yield { type: 'entry', summary: reader.summary(line - 1) };
}

/** One entry's parser behind one interface. */
interface EntryReader {
  block(text: string, firstLine: number): number;
  reject(r: LineReject): void;
  drain(end: boolean): Generator<TraceChunk>;
  summary(lines: number): EntrySummary;
}

function makeReader(where: string, name: string, head: string, opts: EntryOptions): EntryReader {
  let format = opts.format;
  let layout: CsvLayoutName | undefined;
  if (!format) {
    const d = detectFormat(name, head);
    if (!d.ok) throw new DecodeError(`${where}: ${d.reject.reason}`);
    format = d.format;
    layout = d.layout;
  }
  return format === 'jsonl' ? jsonlReader(where, name, opts) : canReader(where, name, format, head, layout, opts);
}

/** Shapes line rejects as dead letters; ids hash tenant, source, place and bytes, so a re-import has one effect. */
class Rejects {
  private list: DeadLetter[] = [];
  count = 0;
  constructor(
    private readonly where: string,
    private readonly kind: DeadLetter['kind'],
    private readonly opts: EntryOptions,
  ) {}

  add(rejects: LineReject[]): void {
    for (const r of rejects) {
      const raw = bytesOf(r.raw);
      const id = createHash('sha256').update(`${this.opts.tenant}\0${this.opts.source}\0${this.where}\0${r.line}\0`).update(raw).digest('hex').slice(0, 32);
      this.list.push({
        id: `file-${id}`, tenant: this.opts.tenant, source: this.opts.source, kind: this.kind, code: r.code,
        reason: `${this.where}:${r.line}: ${r.reason}`, receivedAt: this.opts.now(), raw,
      });
    }
    this.count += rejects.length;
    rejects.length = 0;
  }

  *take(): Generator<TraceChunk> {
    if (this.list.length === 0) return;
    const deadLetters = this.list;
    this.list = [];
    yield { type: 'rejects', deadLetters };
  }
}

function canReader(where: string, name: string, format: 'candump' | 'csv', head: string, detected: CsvLayoutName | undefined, opts: EntryOptions): EntryReader {
  let mapping: CsvMapping | undefined;
  let layout = detected;
  if (format === 'csv') {
    mapping = opts.mapping;
    if (!mapping && detected) mapping = csvLayout(detected);
    if (!mapping) {
      const header = firstContentLine(head);
      mapping = header === undefined ? undefined : guessCsvMapping(header);
      if (!mapping) throw new DecodeError(`${where}: no column mapping for this CSV and none can be guessed from its header ${JSON.stringify((header ?? '').slice(0, 120))}; give --layout, --mapping or --map`);
    } else if (opts.mapping) layout = undefined;
  }
  const stem = (name.split('/').pop() ?? name).split('.')[0]!;
  const vin = opts.vin ?? (VIN_NAME.test(stem) ? stem : undefined);
  if (vin === undefined && !mapping?.vehicle) {
    throw new DecodeError(`${where}: which vehicle is this CAN trace from? Give --vin (or name the file <VIN>.log, or map a vehicle column)`);
  }
  const sink = new FrameSink({
    tenant: opts.tenant, source: opts.source, labels: mapping?.label !== undefined, start: opts.start ?? opts.now(), now: opts.now,
    timeBase: opts.timeBase ?? mapping?.time.base ?? 'auto',
    ...(opts.chunkFrames ? { chunkFrames: opts.chunkFrames } : {}),
  });
  const parser = mapping ? new CsvFrameParser(sink, mapping, vin) : new CandumpParser(sink, vin!);
  if (parser instanceof CsvFrameParser && parser.fatal) throw new DecodeError(`${where}: ${parser.fatal.reason}`);
  const rejects = new Rejects(where, 'can', opts);
  return {
    block(text, firstLine) {
      const n = parser.block(text, firstLine);
      if (parser instanceof CsvFrameParser && parser.fatal) throw new DecodeError(`${where}: ${parser.fatal.reason}`);
      return n;
    },
    reject: (r) => parser.rejects.push(r),
    *drain(end) {
      if (end) sink.flush();
      rejects.add(parser.rejects);
      yield* rejects.take();
      for (const batch of sink.ready.splice(0)) yield { type: 'frames', batch };
    },
    summary: (lines) => ({
      file: opts.path, entry: where, format, ...(layout ? { layout } : {}), lines, frames: sink.frames, labelled: sink.labelled,
      records: 0, rejected: rejects.count, skipped: parser.skipped,
    }),
  };
}

function jsonlReader(where: string, name: string, opts: EntryOptions): EntryReader {
  const fileKind = opts.kind ?? kindOfFileName(name);
  const parser = new JsonlParser(fileKind, opts.eventTimes ?? false);
  const rejects = new Rejects(where, fileKind ?? 'unknown', opts);
  let records = 0;
  return {
    block: (text, firstLine) => parser.block(text, firstLine),
    reject: (r) => parser.rejects.push(r),
    *drain() {
      rejects.add(parser.rejects);
      yield* rejects.take();
      const { payloads, kinds, times, lines } = parser.take();
      if (payloads.length === 0) return;
      const receivedAt = opts.now();
      // Bytes, not text: the lane decodes UTF-8 strictly and refuses what is not.
      const items: InputItem[] = payloads.map((p, i) => ({
        kind: kinds[i]!, tenant: opts.tenant, source: opts.source, payload: bytesOf(p), receivedAt, transportId: `${where}:${lines[i]}`,
      }));
      records += items.length;
      yield { type: 'records', items, times, lines };
    },
    summary: (lines) => ({ file: opts.path, entry: where, format: 'jsonl', lines, frames: 0, labelled: 0, records, rejected: rejects.count, skipped: parser.skipped }),
  };
}
