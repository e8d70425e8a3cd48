/**
 * Decodes checked by hand: each value below was worked out from the bit layout, not from
 * the decoder. Both strategies must give them.
 */
import { describe, expect, it } from 'vitest';
import { compileDbc, formatDiagnostic, parseDbc, type DecodeStrategy } from './index.js';

const DBC = `VERSION ""
BU_: ECU
BO_ 100 Hand: 8 ECU
 SG_ IntelU : 4|12@1+ (1,0) [0|4095] "" ECU
 SG_ MotoU : 23|16@0+ (0.1,5) [5|6558.5] "km/h" ECU
 SG_ IntelS : 32|8@1- (0.5,-10) [-74|53.5] "" ECU
 SG_ MotoS : 43|12@0- (1,0) [-2048|2047] "" ECU
 SG_ Flag : 63|1@1+ (1,0) [0|1] "" ECU

BO_ 200 Floats: 8 ECU
 SG_ F32 : 0|32@1- (1,0) [0|0] "" ECU
 SG_ U32 : 32|32@1+ (1,0) [0|4294967295] "" ECU

BO_ 201 Double: 8 ECU
 SG_ D : 0|64@1- (1,0) [0|0] "" ECU

BO_ 202 Big: 8 ECU
 SG_ U64 : 0|64@1+ (1,0) [0|0] "" ECU

BO_ 300 Mux: 8 ECU
 SG_ Sel M : 0|4@1+ (1,0) [0|15] "" ECU
 SG_ A m1 : 8|8@1+ (2,0) [0|510] "" ECU
 SG_ B m2 : 8|16@1- (1,0) [-32768|32767] "" ECU
 SG_ Always : 56|8@1+ (1,0) [0|255] "" ECU

BO_ 2566844672 J1939: 8 ECU
 SG_ Ratio : 0|16@1+ (0.125,0) [0|8191.875] "" ECU

SIG_VALTYPE_ 200 F32 : 1;
SIG_VALTYPE_ 201 D : 2;
`;

const parsed = parseDbc(DBC, 'hand.dbc');

function decode(strategy: DecodeStrategy, id: number, bytes: number[], length = bytes.length, only?: readonly string[]): { values: Record<string, number>; stats: { shortFrames: number; unknownFrames: number } } {
  const all = compileDbc(parsed.db).signals;
  const d = compileDbc(parsed.db, { strategy, ...(only ? { only: new Set(all.filter((s) => only.includes(s.name)).map((s) => s.index)) } : {}) });
  const s = new Uint32Array(32);
  const v = new Float64Array(32);
  const data = new Uint8Array(8);
  data.set(bytes);
  const n = d.decode(id, data, 0, length, s, v, 0);
  const values: Record<string, number> = {};
  for (let i = 0; i < n; i++) values[d.signals[s[i]!]!.name] = v[i]!;
  return { values, stats: { ...d.stats } };
}

const le = (n: number, write: (dv: DataView) => void): number[] => {
  const dv = new DataView(new ArrayBuffer(n));
  write(dv);
  return [...new Uint8Array(dv.buffer)];
};

describe.each(['codegen', 'plan'] as const)('decoding by hand (%s)', (strategy) => {
  it('parses the sample cleanly', () => {
    expect([...parsed.errors, ...parsed.warnings].map(formatDiagnostic)).toEqual([]);
  });

  it('reads Intel and Motorola, unsigned and signed, with factor and offset', () => {
    const { values } = decode(strategy, 100, [0xa5, 0x3c, 0x12, 0x34, 0xf6, 0x0f, 0xfe, 0x80]);
    expect(values.IntelU).toBe(0x3ca); // high nibble of byte 0, then byte 1 above it
    expect(values.MotoU).toBeCloseTo(0x1234 * 0.1 + 5, 9); // byte 2 most significant
    expect(values.IntelS).toBe(-10 * 0.5 - 10); // 0xF6 = -10
    expect(values.MotoS).toBe(-2); // low nibble of byte 5 then byte 6: 0xFFE, 12-bit signed
    expect(values.Flag).toBe(1);
  });

  it('reads IEEE floats and doubles (SIG_VALTYPE_) and 32/64-bit integers', () => {
    const f = decode(strategy, 200, [...le(4, (dv) => dv.setFloat32(0, 1.5, true)), 0xef, 0xbe, 0xad, 0xde]).values;
    expect(f).toEqual({ F32: 1.5, U32: 0xdeadbeef });
    expect(decode(strategy, 201, le(8, (dv) => dv.setFloat64(0, -2.25, true))).values).toEqual({ D: -2.25 });
    // 2^60 + 1 needs 61 bits: rounded once to the nearest double.
    expect(decode(strategy, 202, [1, 0, 0, 0, 0, 0, 0, 0x10]).values).toEqual({ U64: 2 ** 60 });
  });

  it('decodes only the multiplexed signals the switch selects', () => {
    expect(decode(strategy, 300, [0x01, 0x07, 0, 0, 0, 0, 0, 9]).values).toEqual({ Sel: 1, A: 14, Always: 9 });
    expect(decode(strategy, 300, [0x02, 0xff, 0xff, 0, 0, 0, 0, 9]).values).toEqual({ Sel: 2, B: -1, Always: 9 });
    expect(decode(strategy, 300, [0x03, 0xff, 0xff, 0, 0, 0, 0, 9]).values).toEqual({ Sel: 3, Always: 9 });
  });

  it('keys extended ids by bit 31: the same 29 bits without it are another (unknown) id', () => {
    expect(decode(strategy, 0x98fef100, [0x10, 0x00]).values).toEqual({ Ratio: 2 });
    const plain = decode(strategy, 0x18fef100, [0x10, 0x00]);
    expect(plain.values).toEqual({});
    expect(plain.stats).toEqual({ shortFrames: 0, unknownFrames: 1 });
  });

  it('decodes only the signals asked for, plus the switches they need, under the same indices', () => {
    expect(decode(strategy, 100, [0xa5, 0x3c, 0x12, 0x34, 0xf6, 0x0f, 0xfe, 0x80], 8, ['MotoS']).values).toEqual({ MotoS: -2 });
    expect(decode(strategy, 300, [0x01, 0x07, 0, 0, 0, 0, 0, 9], 8, ['A']).values).toEqual({ Sel: 1, A: 14 });
    expect(decode(strategy, 300, [0x02, 0x07, 0, 0, 0, 0, 0, 9], 8, ['A']).values).toEqual({ Sel: 2 });
  });

  it('decodes from a short frame only the signals that fit, and counts it', () => {
    const r = decode(strategy, 100, [0xa5, 0x3c, 0x12]);
    expect(r.values).toEqual({ IntelU: 0x3ca });
    expect(r.stats).toEqual({ shortFrames: 1, unknownFrames: 0 });
  });
});
