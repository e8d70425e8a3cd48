/**
 * Per-message decoders that interpret a precomputed extraction plan: the same signals, order,
 * multiplexing and short-frame rules as the generated code, read through `extractRaw`. Used
 * where code generation is disabled, and in tests as the reference the generated code must
 * match bit for bit. Allocation-free per frame: switch values live in a buffer made once.
 */
import type { DecodeStats, MessageDecoder } from './codegen.js';
import { extractRaw, extractWord } from './layout.js';
import type { PreparedMessage } from './prepare.js';

export function planMessageDecoder(m: PreparedMessage, stats: DecodeStats, dv: DataView): MessageDecoder {
  const signals = m.signals;
  const count = signals.length;
  const switches = new Float64Array(Math.max(1, m.switchCount));
  const active = (slot: number, ranges: readonly (readonly [number, number])[]): boolean => {
    const w = switches[slot]!;
    for (const [lo, hi] of ranges) if (w >= lo && w <= hi) return true;
    return false;
  };
  return (d, o, n, S, V, p) => {
    switches.fill(-1);
    if (n < m.size) stats.shortFrames++;
    for (let i = 0; i < count; i++) {
      const s = signals[i]!;
      if (n < s.need) continue;
      if (s.cond && !active(s.cond.slot, s.cond.ranges)) continue;
      const info = s.info;
      let raw: number;
      if (info.valueType === 'float') {
        dv.setUint32(0, extractWord(d, o, s.segments, 0), true);
        raw = dv.getFloat32(0, true);
      } else if (info.valueType === 'double') {
        dv.setUint32(0, extractWord(d, o, s.segments, 0), true);
        dv.setUint32(4, extractWord(d, o, s.segments, 32), true);
        raw = dv.getFloat64(0, true);
      } else {
        raw = extractRaw(d, o, s.segments, info.length, info.signed);
      }
      if (s.switchSlot >= 0) switches[s.switchSlot] = raw;
      let v = raw;
      if (info.factor !== 1) v *= info.factor;
      if (info.offset !== 0) v += info.offset;
      S[p] = info.index;
      V[p++] = v;
    }
    return p;
  };
}
