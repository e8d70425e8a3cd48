import { describe, expect, it } from 'vitest';
import { CandumpParser, parseCandumpLine } from './candump.js';
import { CAN_ERR_FLAG, CAN_EXTENDED_FLAG, CAN_RTR_FLAG, FrameSink } from './frames.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

function frame(line: string) {
  const r = parseCandumpLine(line);
  if (r.ok !== true) throw new Error(`${line}: ${JSON.stringify(r)}`);
  return { ...r.frame, data: hex(r.frame.data) };
}

function code(line: string): string {
  const r = parseCandumpLine(line);
  if (r.ok !== false) throw new Error(`${line}: expected a reject, got ${JSON.stringify(r)}`);
  return r.reject.code;
}

describe('candump log format', () => {
  it('reads classic frames with standard and extended ids', () => {
    expect(frame('(1764064800.123456) can0 1D0#0011223344556677')).toMatchObject({ time: 1764064800123.456, iface: 'can0', id: 0x1d0, data: '0011223344556677', fd: false });
    const ext = frame('(1764064800.000001) can1 18FEF100#AABB');
    expect(ext.id).toBe((0x18fef100 | CAN_EXTENDED_FLAG) >>> 0);
    expect(ext.data).toBe('AABB');
    // Eight digits mean a 29-bit id even when the value is small (can-utils' rule).
    expect(frame('(1.0) can0 00000123#').id).toBe((0x123 | CAN_EXTENDED_FLAG) >>> 0);
  });

  it('reads relative times, dot separators, empty data, raw DLCs and the -x direction', () => {
    expect(frame('(000.000123) vcan0 123#11.22.33')).toMatchObject({ time: 0.123, data: '112233' });
    expect(frame('(1.5) can0 123#')).toMatchObject({ time: 1500, data: '' });
    expect(frame('(1.0) can0 123#1122334455667788_E').data).toBe('1122334455667788');
    expect(frame('(1.0) can0 123#1122 T')).toMatchObject({ direction: 'T', data: '1122' });
    expect(frame('(1.0)   can0 123#11')).toMatchObject({ iface: 'can0' });
  });

  it('reads remote frames with the RTR flag and the requested length', () => {
    expect(frame('(1.0) can0 123#R')).toMatchObject({ id: (0x123 | CAN_RTR_FLAG) >>> 0, data: '' });
    expect(frame('(1.0) can0 123#R4')).toMatchObject({ id: (0x123 | CAN_RTR_FLAG) >>> 0, data: '00000000' });
    expect(frame('(1.0) can0 12345678#R8_E').id).toBe((0x12345678 | CAN_EXTENDED_FLAG | CAN_RTR_FLAG) >>> 0);
  });

  it('reads error frames as CAN_ERR_FLAG with the error class', () => {
    const f = frame('(1.0) can0 20000080#0000000000000000');
    expect(f.id).toBe((CAN_ERR_FLAG | 0x80) >>> 0);
    expect(f.id & CAN_EXTENDED_FLAG).toBe(0);
  });

  it('reads CAN FD frames (##, flags nibble, FD lengths)', () => {
    expect(frame('(1.0) can0 123##1112233')).toMatchObject({ fd: true, fdFlags: 1, data: '112233' });
    const f = frame('(1.0) can0 18FEF100##3' + '00'.repeat(64));
    expect(f).toMatchObject({ fd: true, fdFlags: 3 });
    expect(f.data.length).toBe(128);
    expect(code('(1.0) can0 123##1' + '00'.repeat(9))).toBe('candump.length'); // 9 is no FD length
    expect(code('(1.0) can0 123##')).toBe('candump.fd_flags');
  });

  it('rejects bad ids, lengths, hex and layout with a reason code', () => {
    expect(code('(1.0) can0 800#11')).toBe('candump.id');
    expect(code('(1.0) can0 1234#11')).toBe('candump.id');
    expect(code('(1.0) can0 40000000#11')).toBe('candump.id');
    expect(code('(1.0) can0 123#1')).toBe('candump.data');
    expect(code('(1.0) can0 123#G1')).toBe('candump.data');
    expect(code('(1.0) can0 123#112233445566778899')).toBe('candump.length');
    expect(code('(1.0) can0 123#11_9')).toBe('candump.data');
    expect(code('(1.0) can0 123#R9')).toBe('candump.remote');
    expect(code('1.0 can0 123#11')).toBe('candump.no_time');
    expect(code('(1.x) can0 123#11')).toBe('candump.time');
    expect(code('(1.0)can0 123#11')).toBe('candump.frame');
    expect(code('(1.0) can0')).toBe('candump.frame');
    expect(code('(1.0) can0 123#11 X')).toBe('candump.trailing');
    expect(code('(1.0) can0 123:11:22')).toBe('candump.frame');
    expect(code('(1.0) can0 123#11\u00e9')).toBe('candump.data');
  });

  it('skips blank lines, comments and DROPCOUNT lines', () => {
    for (const l of ['', '   ', '# comment', 'DROPCOUNT: dropped 3 CAN frames on can0 socket']) expect(parseCandumpLine(l).ok).toBe('skip');
  });
});

describe('candump screen format', () => {
  it('reads -ta/-tz lines, CAN FD lengths, -x columns, -a ASCII, remote requests and error frames', () => {
    expect(frame('(1764064800.123456)  can0  1D0   [8]  00 11 22 33 44 55 66 77')).toMatchObject({ id: 0x1d0, data: '0011223344556677', fd: false });
    expect(frame('(000.100000)  can0  123  [12]  00 11 22 33 44 55 66 77 88 99 AA BB')).toMatchObject({ fd: true, time: 100 });
    expect(frame('(1.0)  can0  18FEF100   [2]  11 22').id).toBe((0x18fef100 | CAN_EXTENDED_FLAG) >>> 0);
    expect(frame("(1.0)  can0  RX - -  123   [2]  11 22   '.\"'")).toMatchObject({ direction: 'R', data: '1122' });
    expect(frame('(1.0)  can0  123   [4]  remote request')).toMatchObject({ id: (0x123 | CAN_RTR_FLAG) >>> 0, data: '00000000' });
    expect(frame('(1.0)  can0  20000004   [8]  00 04 00 00 00 00 00 00   ERRORFRAME').id).toBe((CAN_ERR_FLAG | 4) >>> 0);
  });

  it('reads absolute dates (-tA) as local time', () => {
    const t = frame('(2025-11-25 10:00:00.250000)  can0  123   [1]  11').time;
    expect(t).toBe(new Date(2025, 10, 25, 10, 0, 0).getTime() + 250);
  });

  it('rejects short data and the views it does not read', () => {
    expect(code('(1.0)  can0  123   [4]  11 22')).toBe('candump.data');
    expect(code('(1.0)  can0  123   [9]  11')).toBe('candump.length');
    expect(code('(1.0)  can0  123   [2]  11 22 extra')).toBe('candump.trailing');
    expect(code('(1.0)  can0  123   [2]  00010001 00100010')).toBe('candump.data'); // -i binary
  });
});

describe('CandumpParser', () => {
  it('streams blocks into batches per interface, with line numbers on rejects and ERRORFRAME details skipped', () => {
    const sink = new FrameSink({ tenant: 't', source: 's', labels: false, start: 0 });
    const p = new CandumpParser(sink, '1FTEW1EP5MFA12345');
    const text = [
      '(1764064800.000000) can0 1D0#01',
      '(1764064800.001000) can1 1D0#02',
      'not a frame',
      '(1764064800.002000)  can0  20000004   [8]  00 04 00 00 00 00 00 00   ERRORFRAME',
      '\tcontroller-problem{rx-error-warning}',
      '(1764064800.003000) can0 123##1' + '11'.repeat(12),
      '(99999999999.0) can0 123#11',
      '',
    ].join('\r\n');
    expect(p.block(text, 10)).toBe(7);
    sink.flush();
    expect(p.rejects.map((r) => [r.line, r.code, r.raw])).toEqual([
      [12, 'candump.no_time', 'not a frame'],
      [16, 'candump.time', '(99999999999.0) can0 123#11'],
    ]);
    expect(p.skipped).toBe(1); // the ERRORFRAME detail line
    const byBus = sink.ready.map((b) => [b.bus, b.stride, b.size]);
    // can0 turned to stride 64 at its FD frame: its classic chunk was flushed first.
    expect(byBus).toEqual([
      ['can0', 8, 2],
      ['can0', 64, 1],
      ['can1', 8, 1],
    ]);
    expect(sink.ready[1]!.dlc[0]).toBe(12);
    expect(sink.ready.every((b) => b.vin === '1FTEW1EP5MFA12345' && b.time[0]! >= 1764064800000)).toBe(true);
  });
});
