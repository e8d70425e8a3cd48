/** Shared by the HTTP ingest tests. */
import { constants, deflateRawSync } from 'node:zlib';

/**
 * A gzip member claiming `mib` MiB: one deflate block of 1 MiB of zeros, full-flushed (so it
 * stands alone, byte-aligned), repeated; about 1 kB on the wire per MiB claimed. Its trailer
 * is never reached by a reader that stops at its cap.
 */
export function gzipBomb(mib: number): Buffer {
  const block = deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: constants.Z_FULL_FLUSH });
  const header = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03]);
  const end = deflateRawSync(Buffer.alloc(0));
  return Buffer.concat([header, ...Array.from({ length: mib }, () => block), end, Buffer.alloc(8)]);
}
