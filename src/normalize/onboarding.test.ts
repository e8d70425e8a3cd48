import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { parseAlerts, parseVehicles } from './onboarding.js';

const VIN = 'YV1MV39H1HG000101';
const VIN2 = '5YJ3E1EA2MF004242';

describe('onboarding files', () => {
  it('CSV exported on Windows (BOM, CRLF, a quoted field over two lines): records and rejects keep the line they start on', () => {
    const csv = `\uFEFFVIN,Make,Model,ecu.TCU\r\n${VIN},Volvo,"V40\r\nCross Country",4.1.0\r\n\r\n${VIN2},Tesla\r\n${VIN2},Tesla,"Model 3",2021.44\r\n`;
    const r = parseVehicles(csv, 'csv', { checkDigit: true });
    expect(r.records).toEqual([
      { line: 2, value: { vin: VIN, make: 'Volvo', model: 'V40\nCross Country', software: { TCU: '4.1.0' } } },
      { line: 6, value: { vin: VIN2, make: 'Tesla', model: 'Model 3', software: { TCU: '2021.44' } } },
    ]);
    expect(r.rejects).toEqual([{ line: 5, code: 'import.vehicle_invalid', reason: '2 fields, the header has 4', raw: `${VIN2},Tesla` }]);
  });

  it('a broken quote is a reject with its raw text, and reading goes on', () => {
    const r = parseVehicles(`vin,make\n${VIN},"Vol"vo\n${VIN2},Tesla\n`, 'csv', { checkDigit: true });
    expect(r.rejects[0]).toMatchObject({ line: 2, reason: expect.stringMatching(/^unreadable CSV: Invalid Closing Quote/) });
    expect(r.rejects[0]!.raw).toContain(`${VIN},"Vol"`);
  });

  it('a header without vin or with unknown columns refuses the file, every problem listed', () => {
    let err: unknown;
    try {
      parseVehicles('make,colour,make\nVolvo,red,x\n', 'csv', { checkDigit: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      'column 2: unknown column "colour" (expected vin, make, model, year, trim, region, ecus or ecu.<NAME>)',
      'column 3: "make" appears twice',
      'no vin column',
    ]);
    expect(() => parseVehicles('', 'csv', { checkDigit: true })).toThrow(/empty/);
  });

  it('JSONL: unknown keys, duplicate ECUs and a wrong check digit are rejects; the check digit is optional by policy', () => {
    const lines = [
      JSON.stringify({ vin: VIN, colour: 'red' }),
      JSON.stringify({ vin: VIN, ecus: [{ name: 'TCU', software: '1' }, { name: 'TCU', software: '2' }] }),
      JSON.stringify({ vin: 'YV1MV39H2HG000101', year: 2017 }),
      '[1]',
    ].join('\n');
    expect(parseVehicles(lines, 'jsonl', { checkDigit: true }).rejects.map((x) => [x.line, x.reason])).toEqual([
      [1, 'Unrecognized key: "colour"'],
      [2, 'ecus: ECU TCU is listed twice'],
      [3, 'vin "YV1MV39H2HG000101" has a wrong check digit (ISO 3779; normalize.vinCheckDigit)'],
      [4, 'expected a JSON object'],
    ]);
    expect(parseVehicles(lines, 'jsonl', { checkDigit: false }).records).toEqual([{ line: 3, value: { vin: 'YV1MV39H2HG000101', year: 2017 } }]);
  });

  it('alerts: RFC 3339 with a zone or epoch ms; vin and vehicle not both; defaults for title, tags, details, detectedAt', () => {
    const r = parseAlerts([
      JSON.stringify({ id: 'a', time: '2026-10-03T12:00:00+02:00', rule: 'r', severity: 'low' }),
      JSON.stringify({ id: 'b', vin: VIN, vehicle: '0123456789abcdef', time: 0, rule: 'r', severity: 'low' }),
      JSON.stringify({ id: 'c', vehicle: '0123456789ABCDEF', time: 1, rule: 'r', severity: 'low' }),
      JSON.stringify({ id: 'd', time: '2026-10-03 12:00', rule: 'r', severity: 'low' }),
    ].join('\n'), { checkDigit: true });
    expect(r.records).toEqual([{ line: 1, value: { id: 'a', time: Date.UTC(2026, 9, 3, 10), detectedAt: Date.UTC(2026, 9, 3, 10), rule: 'r', title: 'r', severity: 'low', tags: [], details: {} } }]);
    expect(r.rejects.map((x) => [x.line, x.reason])).toEqual([
      [2, 'give vin or vehicle, not both'],
      [3, 'vehicle: vehicle must be a vehicle key: 16 lowercase hex digits'],
      [4, 'time: expected an RFC 3339 time with a zone (Z or +hh:mm) or epoch milliseconds'],
    ]);
  });
});
