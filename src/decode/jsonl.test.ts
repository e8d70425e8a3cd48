import { describe, expect, it } from 'vitest';
import { detectFormat } from './file-format.js';
import { JsonlParser, kindOfFileName } from './jsonl.js';

const VIN = '1FTEW1EP5MFA12345';

describe('JSONL', () => {
  it('tells each line its kind from the kind field, the file name or the shape, with event times', () => {
    const p = new JsonlParser(undefined, true);
    const lines = [
      JSON.stringify({ vin: VIN, ts: 1000, signals: { 'Vehicle.Speed': 1 } }),
      JSON.stringify({ vin: VIN, ts: 2000, eventId: 32769, sensor: 'ids' }),
      JSON.stringify({ ts: 3000, service: 'tsp', endpoint: '/x' }),
      JSON.stringify({ kind: 'security', vin: VIN, ts: 'late' }),
      '',
      '{"vin": truncated',
      JSON.stringify({ kind: 'telemetry', vin: VIN }),
      JSON.stringify({ vin: VIN, ts: 4000 }),
    ];
    expect(p.block(lines.join('\n'), 1)).toBe(8);
    const t = p.take();
    expect(t.kinds).toEqual(['signals', 'security', 'log', 'security']);
    expect(t.times).toEqual([1000, 2000, 3000, NaN]);
    expect(t.lines).toEqual([1, 2, 3, 4]);
    expect(t.payloads[0]).toBe(lines[0]);
    expect(p.rejects.map((r) => [r.line, r.code])).toEqual([
      [6, 'json.malformed'],
      [7, 'jsonl.kind'],
      [8, 'jsonl.kind'],
    ]);
    expect(p.skipped).toBe(1);
    expect(p.take().payloads).toEqual([]);
  });

  it('passes lines of a file that names its kind through unparsed, so the lane refuses bad ones with its own reasons', () => {
    const p = new JsonlParser('signals', false);
    p.block('not json\n{"vin":1}\n{"kind":"security","eventId":1}\n', 1);
    const t = p.take();
    expect(t.payloads).toEqual(['not json', '{"vin":1}', '{"kind":"security","eventId":1}']);
    expect(t.kinds).toEqual(['signals', 'signals', 'security']); // a line's own kind wins over the file name
    expect(p.rejects).toEqual([]);
  });

  it('reads the kind from file names as vigil simulate writes them', () => {
    expect(kindOfFileName('run/signals.jsonl')).toBe('signals');
    expect(kindOfFileName('security-2025.ndjson.gz')).toBe('security');
    expect(kindOfFileName('fleet-a.log.jsonl')).toBe('log');
    expect(kindOfFileName('data.jsonl')).toBeUndefined();
    expect(kindOfFileName('signals-and-log.jsonl')).toBeUndefined();
  });
});

describe('format detection', () => {
  it('detects by content first, extension second', () => {
    expect(detectFormat('x.txt', '(1.0) can0 123#11\n')).toEqual({ ok: true, format: 'candump' });
    expect(detectFormat('x.log', '# header comment\n(1.0)  can0  123   [1]  11\n')).toEqual({ ok: true, format: 'candump' });
    expect(detectFormat('V40.can.txt', 'timestamp,CAN_ID,DLC,PAYLOAD_HEX,PAYLOAD_BIN,ANOMALY\n')).toEqual({ ok: true, format: 'csv', layout: 'daga' });
    expect(detectFormat('r.csv', '\uFEFFTime,Id,Byte1,Byte2,Byte3,Byte4,Byte5,Byte6,Byte7,Byte8,Label\n')).toEqual({ ok: true, format: 'csv', layout: 'road' });
    expect(detectFormat('a.dat', 't;id;data\n')).toEqual({ ok: true, format: 'csv' });
    expect(detectFormat('m.dat', '{"vin":"x"}\n')).toEqual({ ok: true, format: 'jsonl' });
    expect(detectFormat('empty.jsonl', '')).toEqual({ ok: true, format: 'jsonl' });
  });

  it('refuses what it cannot read, saying what to do', () => {
    expect(detectFormat('t.blf', 'x')).toMatchObject({ ok: false, reject: { code: 'format.unsupported' } });
    expect(detectFormat('t.bin', '\u0000\u0001garbage')).toMatchObject({ ok: false, reject: { code: 'format.unknown' } });
    expect(detectFormat('t.bin', '')).toMatchObject({ ok: false, reject: { code: 'format.empty' } });
  });
});
