/**
 * Bytes to blocks of whole lines. A block is a string of complete lines (each ending in
 * `\n`, except perhaps the file's last), so parsers walk it in place; a partial line waits for
 * the next chunk. Bytes become characters one to one (Latin-1, see src/decode/lines.ts): no
 * byte is lost or replaced, and a chunk boundary cannot split a character. A UTF-8 byte-order
 * mark at the start is dropped. A line longer than `maxLine` is not buffered whole: it is
 * reported once as `{ overlong }` with its first `maxLine` bytes and its length, then skipped.
 */

/** Longest line kept, in bytes (the wire format's message limit). */
export const MAX_LINE = 1 << 20;

export type TextBlock = string | { readonly overlong: string; readonly length: number };

const UTF8_BOM = '\u00ef\u00bb\u00bf';

export async function* textBlocks(bytes: AsyncIterable<Uint8Array>, maxLine = MAX_LINE): AsyncGenerator<TextBlock> {
  let carry = '';
  let first = true;
  /** While skipping the rest of an overlong line: its prefix and length so far. */
  let skipped: { head: string; length: number } | undefined;
  for await (const chunk of bytes) {
    let text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    if (first && text.length > 0) {
      if (text.startsWith(UTF8_BOM)) text = text.slice(3);
      first = false;
    }
    if (skipped) {
      const nl = text.indexOf('\n');
      if (nl < 0) {
        skipped.length += text.length;
        continue;
      }
      yield { overlong: skipped.head, length: skipped.length + nl };
      skipped = undefined;
      text = text.slice(nl + 1);
    }
    if (carry.length > 0) {
      // The line begun in earlier chunks ends in this one: refuse it here if it grew too long.
      const end = text.indexOf('\n');
      if (end >= 0 && carry.length + end > maxLine) {
        yield { overlong: (carry + text.slice(0, Math.max(0, maxLine - carry.length))).slice(0, maxLine), length: carry.length + end };
        carry = '';
        text = text.slice(end + 1);
      }
    }
    const nl = text.lastIndexOf('\n');
    if (nl < 0) {
      carry += text;
      if (carry.length > maxLine) {
        skipped = { head: carry.slice(0, maxLine), length: carry.length };
        carry = '';
      }
      continue;
    }
    const block = carry + text.slice(0, nl + 1);
    carry = text.slice(nl + 1);
    yield block;
  }
  if (skipped) yield { overlong: skipped.head, length: skipped.length };
  else if (carry.length > 0) yield carry;
}
