import { describe, expect, it } from 'vitest';
import type { CanFrameBatch } from '../../core/can.js';
import { ConfigError } from '../../core/errors.js';
import { CsvFrameParser } from './csv.js';
import { guessCsvMapping, layoutOfHeader, mapFlagsObject, resolveCsvMapping, type CsvMapping } from './csv-mapping.js';
import { CAN_EXTENDED_FLAG, FrameSink } from './frames.js';

const VIN = '1FTEW1EP5MFA12345';
const START = 1_764_064_800_000;

interface Row {
  time: number;
  id: number;
  data: string;
  label: number | undefined;
  vin: string;
  bus: string | undefined;
}

function parse(text: string, mapping: CsvMapping, vin: string | undefined = VIN) {
  const sink = new FrameSink({ tenant: 't', source: 's', labels: mapping.label !== undefined, start: START, timeBase: mapping.time.base });
  const p = new CsvFrameParser(sink, mapping, vin);
  const lines = p.block(text, 1);
  sink.flush();
  const rows: Row[] = sink.ready.flatMap((b: CanFrameBatch) =>
    Array.from({ length: b.size }, (_, i) => ({
      time: b.time[i]!,
      id: b.id[i]!,
      data: Buffer.from(b.data.subarray(i * b.stride, i * b.stride + b.dlc[i]!)).toString('hex').toUpperCase(),
      label: b.label?.[i],
      vin: b.vin,
      bus: b.bus,
    })),
  );
  return { rows, rejects: p.rejects.map((r) => [r.line, r.code]), fatal: p.fatal, skipped: p.skipped, lines, labelled: sink.labelled };
}

const daga = resolveCsvMapping({ layout: 'daga' })!;
const road = resolveCsvMapping({ layout: 'road' })!;

describe('CSV layout daga', () => {
  const header = 'timestamp,CAN_ID,DLC,PAYLOAD_HEX,PAYLOAD_BIN,ANOMALY';

  it('reads PAYLOAD_HEX as a little-endian number (last two digits = byte 0), DLC in bits, ANOMALY labels', () => {
    const text = [
      header,
      '0.0,10,64,000000002FB031F8,0000000000000000000000000000000000101111101100000011000111111000,FALSE',
      '9e-06,1D0,64,61,0,True',
      '0.5,145,32,A1B2,0,False',
      '',
    ].join('\n');
    const r = parse(text, daga);
    expect(r.rejects).toEqual([]);
    expect(r.rows).toEqual([
      { time: START, id: 0x10, data: 'F831B02F00000000', label: 0, vin: VIN, bus: undefined },
      { time: START + 0.009, id: 0x1d0, data: '6100000000000000', label: 1, vin: VIN, bus: undefined },
      { time: START + 500, id: 0x145, data: 'B2A10000', label: 0, vin: VIN, bus: undefined },
    ]);
    expect(r.labelled).toBe(1);
    expect(r.skipped).toBe(1); // the header
  });

  it('rejects rows that do not fit, with a code per problem', () => {
    const text = [
      header,
      '0.5,1D0,64,61,0,maybe',
      '0.5,1D0,63,61,0,True',
      '0.5,ZZ,64,61,0,True',
      '0.5,1D0,64,112233445566778899,0,True',
      '0.5,1D0',
      'x,1D0,64,61,0,True',
      '0.5,1D0,64,6G,0,True',
      '0.5,20000000,64,61,0,True',
      '1e300,1D0,64,61,0,True',
    ].join('\n');
    expect(parse(text, daga).rejects).toEqual([
      [2, 'csv.label'],
      [3, 'csv.dlc'],
      [4, 'csv.id'],
      [5, 'csv.payload'],
      [6, 'csv.columns'],
      [7, 'csv.time'],
      [8, 'csv.payload'],
      [9, 'csv.id'],
      [10, 'csv.time'],
    ]);
  });

  it('is recognised by its header', () => {
    expect(layoutOfHeader(header)).toBe('daga');
    expect(layoutOfHeader('Time,Id,Byte1,Byte2,Byte3,Byte4,Byte5,Byte6,Byte7,Byte8,Label')).toBe('road');
    expect(layoutOfHeader('a,b,c')).toBeUndefined();
  });
});

describe('CSV layout road', () => {
  it('reads byte columns, shorter frames ending at the first empty byte, 29-bit ids, labels', () => {
    const text = [
      'Time,Id,Byte1,Byte2,Byte3,Byte4,Byte5,Byte6,Byte7,Byte8,Label',
      '1.5,0D0,11,22,33,44,55,66,77,88,0',
      '1.6,1D0,11,22,,,,,,,1',
      '1.9,18FEF100,AA,BB,CC,DD,EE,FF,00,11,0',
      '1.7,1D0,11,,33,,,,,,1',
      '1.8,1D0,1FF,,,,,,,,1',
    ].join('\n');
    const r = parse(text, road);
    expect(r.rows.map((x) => [x.time - START, x.id, x.data, x.label])).toEqual([
      [1500, 0xd0, '1122334455667788', 0],
      [1600, 0x1d0, '1122', 1],
      [1900, (0x18fef100 | CAN_EXTENDED_FLAG) >>> 0, 'AABBCCDDEEFF0011', 0],
    ]);
    expect(r.rejects).toEqual([
      [5, 'csv.bytes'],
      [6, 'csv.bytes'],
    ]);
  });

  it('keeps epoch times as they are', () => {
    const r = parse('Time,Id,Byte1,Byte2,Byte3,Byte4,Byte5,Byte6,Byte7,Byte8,Label\n1764064800.25,123,01,,,,,,,,0\n', road);
    expect(r.rows[0]!.time).toBe(1764064800250);
  });
});

describe('CSV mappings from files and flags', () => {
  it('reads a YAML mapping file without a header, with columns by index and decimal ids', () => {
    const file = {
      name: 'm.yaml',
      text: ['header: false', 'delimiter: ";"', 'time: { column: 0, unit: ms }', 'id: { column: 1, format: dec }', 'dlc: { column: 2 }', 'payload: { column: 3 }', 'bus: { column: -1 }'].join('\n'),
    };
    const m = resolveCsvMapping({ file })!;
    const r = parse('1000;291;2;11 22;PT\n2000;2047;1;0x33;\n', m);
    expect(r.rows.map((x) => [x.time - START, x.id, x.data, x.bus])).toEqual([
      [1000, 291, '1122', 'PT'],
      [2000, 2047, '33', undefined],
    ]);
  });

  it('reads a JSON mapping file that extends a layout, `null` removing a key', () => {
    const m = resolveCsvMapping({ file: { name: 'm.json', text: JSON.stringify({ extends: 'daga', dlc: null, label: null, payload: { pad: 'none' } }) } })!;
    expect(m.dlc).toBeUndefined();
    expect(m.label).toBeUndefined();
    expect(m.payload).toEqual({ column: 'PAYLOAD_HEX', pad: 'none', order: 'reversed' });
    const r = parse('timestamp,CAN_ID,PAYLOAD_HEX\n0.1,123,0102\n', m);
    expect(r.rows[0]!.data).toBe('0201');
  });

  it('takes --map key=value pairs over a layout', () => {
    const m = resolveCsvMapping({ layout: 'daga', map: ['payload.order=wire', 'label.true=1,yes', 'time.base=epoch'] })!;
    expect(m.payload!.order).toBe('wire');
    expect(m.label!.true).toEqual(['1', 'yes']);
    expect(resolveCsvMapping({ layout: 'daga', map: ['label=null'] })!.label).toBeUndefined();
    expect(mapFlagsObject(['bytes.columns=D0..D3', 'time.column=2'])).toEqual({ bytes: { columns: ['D0', 'D1', 'D2', 'D3'] }, time: { column: 2 } });
    const r = parse('timestamp,CAN_ID,DLC,PAYLOAD_HEX,PAYLOAD_BIN,ANOMALY\n1764064800.5,123,16,0102,0,FALSE\n', resolveCsvMapping({ layout: 'daga', map: ['payload.order=wire', 'time.base=epoch'] })!);
    expect(r.rows[0]).toMatchObject({ time: 1764064800500, data: '0102' });
  });

  it('lists every problem of a bad mapping at once', () => {
    const bad = (): unknown => resolveCsvMapping({ file: { name: 'bad.yaml', text: 'time: { column: t, unit: minutes }\nid: {}\ncolour: red\n' } });
    expect(bad).toThrow(ConfigError);
    try {
      bad();
    } catch (e) {
      const problems = (e as ConfigError).problems.join('\n');
      expect(problems).toMatch(/time\.unit/);
      expect(problems).toMatch(/id\.column/);
      expect(problems).toMatch(/colour/);
    }
    expect(() => resolveCsvMapping({ layout: 'nope' })).toThrow(/unknown CSV layout/);
    expect(() => resolveCsvMapping({ file: { name: 'x.yaml', text: 'time: [' } })).toThrow(/x\.yaml:1/);
    expect(() => mapFlagsObject(['novalue'])).toThrow(/key=value/);
  });

  it('is fatal when the header lacks a mapped column', () => {
    const r = parse('Time,Identifier,Data\n1,123,11\n', road);
    expect(r.fatal?.code).toBe('csv.mapping');
    expect(r.fatal?.reason).toMatch(/no column "Id"/);
    expect(r.rows).toEqual([]);
  });

  it('guesses a mapping from common header names, with quoted fields and a vehicle column', () => {
    const m = guessCsvMapping('ts;can_id;dlc;data;vin;bus')!;
    expect(m.delimiter).toBe(';');
    const r = parse('ts;can_id;dlc;data;vin;bus\n1764064800.5;0x123;2;"11 22";1FTEW1EP5MFA12345;PT\n1764064800.6;123;2;1122;;PT\n', m, undefined);
    expect(r.rows).toEqual([{ time: 1764064800500, id: 0x123, data: '1122', label: undefined, vin: VIN, bus: 'PT' }]);
    expect(r.rejects).toEqual([[3, 'csv.vehicle']]);
    expect(guessCsvMapping('Time,ID,DATA0,DATA1,DATA2')!.bytes!.columns).toEqual(['DATA0', 'DATA1', 'DATA2']);
    expect(guessCsvMapping('a,b,c')).toBeUndefined();
  });
});
