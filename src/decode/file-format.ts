/**
 * Which format a trace file holds, from its name and its first lines: candump text, a CAN CSV
 * (DAGA or ROAD by their headers, or another CSV), or JSONL wire messages. The content decides
 * when it is clear (DAGA zips hold `.txt` files); the extension breaks ties.
 */
import { layoutOfHeader, type CsvLayoutName } from './can-text/csv-mapping.js';
import { reject, type Reject } from './reject.js';

export type TraceFormat = 'candump' | 'csv' | 'jsonl';
export const TRACE_FORMATS: readonly TraceFormat[] = ['candump', 'csv', 'jsonl'];

export type Detected = { ok: true; format: TraceFormat; layout?: CsvLayoutName } | { ok: false; reject: Reject };

/** Formats we are asked for and do not read, with what to do instead. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  asc: 'Vector ASC',
  blf: 'Vector BLF',
  trc: 'PEAK TRC',
  mf4: 'ASAM MDF4',
  mdf: 'ASAM MDF',
  pcap: 'pcap',
  pcapng: 'pcapng',
};

const BY_EXTENSION: Readonly<Record<string, TraceFormat>> = {
  log: 'candump',
  candump: 'candump',
  csv: 'csv',
  tsv: 'csv',
  jsonl: 'jsonl',
  ndjson: 'jsonl',
  json: 'jsonl',
};

/** The extension that says what the content is: `trace.csv.gz` -> `csv`, `V40.can.zip` -> `can`. */
export function contentExtension(name: string): string {
  const parts = (name.split('/').pop() ?? name).toLowerCase().split('.');
  while (parts.length > 1 && (parts[parts.length - 1] === 'gz' || parts[parts.length - 1] === 'zip')) parts.pop();
  return parts.length > 1 ? parts[parts.length - 1]! : '';
}

const CANDUMP_LOG = /^\s*\(\s*[\d-]+[\d:. -]*\)\s+\S+\s+[0-9A-Fa-f]+#/;
const CANDUMP_SCREEN = /^\s*\(\s*[\d-]+[\d:. -]*\)\s+\S+\s+(?:[RT]X\s+\S+\s+\S+\s+)?[0-9A-Fa-f]{3,8}\s+\[\d{1,2}\]/;

/** The first line that is not blank or a `#` comment. */
export function firstContentLine(head: string): string | undefined {
  for (const line of head.split('\n').slice(0, 50)) {
    const t = line.replace(/\r$/, '').replace(/^\uFEFF/, '');
    if (t.trim().length > 0 && !t.trimStart().startsWith('#')) return t;
  }
  return undefined;
}

/** Detect the format of `name` whose text starts with `head` (a few lines are enough). */
export function detectFormat(name: string, head: string): Detected {
  const ext = contentExtension(name);
  if (UNSUPPORTED[ext]) {
    return { ok: false, reject: reject('format.unsupported', `${UNSUPPORTED[ext]} files are not read; convert to a candump log (python-can's can.logconvert does) or CSV`) };
  }
  const line = firstContentLine(head);
  if (line === undefined) {
    const byExt = BY_EXTENSION[ext];
    return byExt ? { ok: true, format: byExt } : { ok: false, reject: reject('format.empty', 'the file is empty') };
  }
  if (CANDUMP_LOG.test(line) || CANDUMP_SCREEN.test(line)) return { ok: true, format: 'candump' };
  if (line.trimStart().startsWith('{')) return { ok: true, format: 'jsonl' };
  const layout = layoutOfHeader(line);
  if (layout) return { ok: true, format: 'csv', layout };
  if (/[,;\t|]/.test(line) && line.split(/[,;\t|]/).length >= 3) return { ok: true, format: 'csv' };
  const byExt = BY_EXTENSION[ext];
  if (byExt) return { ok: true, format: byExt };
  return { ok: false, reject: reject('format.unknown', `cannot tell the format from the name or the first line ${JSON.stringify(line.slice(0, 80))}; give it (candump, csv or jsonl)`) };
}
