/**
 * Open a trace file as a sequence of entries, each a stream of bytes: a plain file is one
 * entry, `.gz` is gunzipped (node:zlib) on the fly, and `.zip` gives each file entry in turn
 * (yauzl: the central directory, then one entry inflated at a time). Streams are pulled, so a
 * slow consumer slows the disk reads. `counter.bytesRead` follows the bytes of the file on
 * disk that have been consumed, for a progress bar against `bytesTotal`.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline, Transform } from 'node:stream';
import { createGunzip, createInflateRaw } from 'node:zlib';
import yauzl from 'yauzl';
import { DecodeError } from '../../../core/errors.js';

export interface ByteCounter {
  bytesRead: number;
  bytesTotal: number;
}

export interface Entry {
  /** The file's own name, or the entry's name inside an archive. */
  readonly name: string;
  /** Whether it came out of an archive (`.zip`). */
  readonly inArchive: boolean;
  /** Entries in the archive (1 for a plain or `.gz` file). */
  readonly entries: number;
  readonly bytes: AsyncIterable<Buffer>;
}

const READ_CHUNK = 1 << 20;
const INFLATE_CHUNK = 256 * 1024;
/** macOS resource forks and folders are not trace data. */
const isJunk = (name: string): boolean => name.endsWith('/') || name.startsWith('__MACOSX/') || /(^|\/)\.DS_Store$/.test(name);

/** Count the bytes of `stream` into `counter` as they are consumed. */
async function* counted(stream: AsyncIterable<Buffer>, onBytes: (n: number) => void): AsyncGenerator<Buffer> {
  for await (const chunk of stream) {
    onBytes(chunk.length);
    yield chunk;
  }
}

/** The entries of `path`; throws DecodeError (with the cause) when the file cannot be opened or an archive is broken. */
export async function* openEntries(path: string, counter: ByteCounter): AsyncGenerator<Entry> {
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new Error('not a regular file');
    size = st.size;
  } catch (e) {
    throw new DecodeError(`${path}: cannot open: ${(e as Error).message}`, { cause: e });
  }
  counter.bytesTotal = size;
  const base = path.split('/').pop() ?? path;
  const lower = base.toLowerCase();
  if (lower.endsWith('.zip')) {
    yield* zipEntries(path, counter);
    return;
  }
  const raw = createReadStream(path, { highWaterMark: READ_CHUNK });
  if (lower.endsWith('.gz')) {
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        counter.bytesRead += chunk.length;
        done(null, chunk);
      },
    });
    const gunzip = pipeline(raw, count, createGunzip({ chunkSize: INFLATE_CHUNK }), () => {});
    yield { name: base.slice(0, -3), inArchive: false, entries: 1, bytes: rethrow(gunzip, path) };
    return;
  }
  yield { name: base, inArchive: false, entries: 1, bytes: rethrow(counted(raw, (n) => (counter.bytesRead += n)), path) };
}

/** Stream errors (corrupt gzip, a file that vanished) as DecodeError naming the file. */
async function* rethrow(stream: AsyncIterable<Buffer>, path: string): AsyncGenerator<Buffer> {
  try {
    yield* stream;
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    throw new DecodeError(`${path}: ${(e as Error).message}`, { cause: e });
  }
}

async function* zipEntries(path: string, counter: ByteCounter): AsyncGenerator<Entry> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false });
  } catch (e) {
    throw new DecodeError(`${path}: not a readable zip archive: ${(e as Error).message}`, { cause: e });
  }
  let current: Readable | undefined;
  try {
    let done = 0; // compressed bytes of the entries finished so far
    const files = zip.entryCount;
    for await (const entry of zip.eachEntry()) {
      if (isJunk(entry.fileName)) {
        done += entry.compressedSize;
        continue;
      }
      const where = `${path}!${entry.fileName}`;
      if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
        throw new DecodeError(`${where}: zip compression method ${entry.compressionMethod} is not supported (only stored and deflate)`);
      }
      // Inflate here rather than in yauzl: 256 KiB output chunks instead of 16 KiB halve the time.
      const stream = (current =
        entry.compressionMethod === 8
          ? pipeline(await zip.openReadStreamPromise(entry, { decompress: false }), createInflateRaw({ chunkSize: INFLATE_CHUNK }), () => {})
          : await zip.openReadStreamPromise(entry));
      const ratio = entry.uncompressedSize > 0 ? entry.compressedSize / entry.uncompressedSize : 0;
      let out = 0;
      const start = done;
      const bytes = counted(stream, (n) => {
        out += n;
        counter.bytesRead = start + Math.min(entry.compressedSize, Math.round(out * ratio));
      });
      yield { name: entry.fileName, inArchive: true, entries: files, bytes: rethrow(sized(bytes, entry.uncompressedSize, where), where) };
      done += entry.compressedSize;
      counter.bytesRead = done;
      current = undefined;
    }
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    throw new DecodeError(`${path}: broken zip archive: ${(e as Error).message}`, { cause: e });
  } finally {
    current?.destroy();
    zip.close();
  }
}

/** The bytes of an entry, failing when they are not as many as its header says (a truncated or altered archive). */
async function* sized(stream: AsyncIterable<Buffer>, expected: number, where: string): AsyncGenerator<Buffer> {
  let n = 0;
  for await (const chunk of stream) {
    n += chunk.length;
    if (n > expected) throw new DecodeError(`${where}: more data than the ${expected} bytes its zip header says`);
    yield chunk;
  }
  if (n !== expected) throw new DecodeError(`${where}: ${n} bytes where its zip header says ${expected}`);
}
