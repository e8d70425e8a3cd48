/**
 * Line-oriented text (candump, CSV, JSONL): the line loop the parsers share, and a line's reject.
 *
 * Files are read as bytes, one character per byte (Latin-1), not as UTF-8: the formats are
 * ASCII where it matters, a refused line keeps its exact bytes (invalid UTF-8 included), and
 * JSON lines reach the lane as bytes, which decodes UTF-8 strictly. Text that people write
 * in UTF-8 (CSV header names) is decoded with utf8OfBytes.
 */
import type { Reject } from './reject.js';

/** A line that could not be read, with its 1-based line number and the line as it was. */
export interface LineReject extends Reject {
  readonly line: number;
  readonly raw: string;
}

/**
 * Call `fn(text, start, end, lineNo)` for each line of `text` (`\n` or `\r\n`; a last line
 * without a newline counts too), without slicing; returns the number of lines.
 */
export function forEachLine(text: string, firstLine: number, fn: (text: string, start: number, end: number, line: number) => void): number {
  let at = 0;
  let n = 0;
  const len = text.length;
  while (at < len) {
    let nl = text.indexOf('\n', at);
    if (nl < 0) nl = len;
    let end = nl;
    if (end > at && text.charCodeAt(end - 1) === 13) end--;
    fn(text, at, end, firstLine + n);
    n++;
    at = nl + 1;
  }
  return n;
}

const utf8 = new TextDecoder('utf-8');

/** The UTF-8 reading of a string of byte characters (Latin-1); ASCII comes back as is. */
export function utf8OfBytes(bytes: string): string {
  let ascii = true;
  for (let i = 0; i < bytes.length && ascii; i++) ascii = bytes.charCodeAt(i) < 0x80;
  if (ascii) return bytes;
  const b = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) b[i] = bytes.charCodeAt(i) & 0xff;
  return utf8.decode(b);
}

/** The bytes of a string of byte characters (Latin-1), in an array of exactly their length. */
export function bytesOf(bytes: string): Uint8Array {
  const b = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) b[i] = bytes.charCodeAt(i) & 0xff;
  return b;
}
