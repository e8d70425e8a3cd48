/**
 * Where a signal's bits lie in the frame: a list of per-byte segments, least significant part
 * last-to-first however the byte order runs. Both decoders (generated code and plans) and the
 * linker's bounds check use these, so they agree by construction.
 *
 * Intel (`@1`): the start bit is the least significant bit; bits run upward through a byte and
 * on into the next byte. Motorola (`@0`): the start bit is the most significant bit, in the
 * DBC "sawtooth" numbering (bit 7 of byte 0 is 7, bit 0 of byte 1 is 8); bits run downward in
 * a byte and continue at bit 7 of the next byte.
 */
import type { DbcByteOrder } from './model.js';

/** `((data[byte] >> shift) & (2^width - 1))` is bits `at .. at+width-1` of the raw value. */
export interface BitSegment {
  readonly byte: number;
  readonly shift: number;
  readonly width: number;
  readonly at: number;
}

/** Longest signal the decoders handle (a 64-bit integer or double). */
export const MAX_SIGNAL_BITS = 64;

export function bitSegments(startBit: number, length: number, byteOrder: DbcByteOrder): BitSegment[] {
  const out: BitSegment[] = [];
  if (byteOrder === 'little_endian') {
    let pos = startBit;
    for (let at = 0; at < length; ) {
      const shift = pos & 7;
      const width = Math.min(8 - shift, length - at);
      out.push({ byte: pos >> 3, shift, width, at });
      at += width;
      pos += width;
    }
  } else {
    let byte = startBit >> 3;
    let hi = startBit & 7;
    for (let left = length; left > 0; ) {
      const width = Math.min(hi + 1, left);
      left -= width;
      out.push({ byte, shift: hi - width + 1, width, at: left });
      byte++;
      hi = 7;
    }
  }
  return out;
}

/** One past the last byte a signal reads: the frame length it needs. */
export function bytesNeeded(startBit: number, length: number, byteOrder: DbcByteOrder): number {
  let last = 0;
  for (const s of bitSegments(startBit, length, byteOrder)) last = Math.max(last, s.byte);
  return last + 1;
}

/** Bits `from .. from+31` of a signal's raw value, as an unsigned 32-bit number (exact). */
export function extractWord(data: Uint8Array, offset: number, segs: readonly BitSegment[], from: number): number {
  let w = 0;
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!;
    const lo = s.at > from ? s.at : from;
    const hi = Math.min(s.at + s.width, from + 32);
    if (lo >= hi) continue;
    w += ((data[offset + s.byte]! >>> (s.shift + lo - s.at)) & ((1 << (hi - lo)) - 1)) * 2 ** (lo - from);
  }
  return w;
}

/**
 * The raw value of a signal as a double, straight from its segments: the reference the
 * compiled decoders are tested against, and the plan decoder's extraction. Values of up to
 * 53 bits are exact; longer ones are rounded once, to the nearest double.
 */
export function extractRaw(data: Uint8Array, offset: number, segs: readonly BitSegment[], length: number, signed: boolean): number {
  const lo = extractWord(data, offset, segs, 0);
  if (length <= 32) return signed && lo >= 2 ** (length - 1) ? lo - 2 ** length : lo;
  let hi = extractWord(data, offset, segs, 32);
  if (signed && hi >= 2 ** (length - 33)) hi -= 2 ** (length - 32);
  return hi * 4294967296 + lo;
}
