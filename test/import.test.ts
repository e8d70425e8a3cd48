/**
 * `vigil import` and `vigil replay` end to end: files of every format through the real
 * pipeline (worker threads) into a DuckDB store file, then SQL on what was stored.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/clock.js';
import { makeVin } from '../src/normalize/vin.js';
import { sql, vigilFiles } from './import-helpers.js';
import { tempDir, writeGz, writeText, writeZip } from './trace-files.js';

const VIN = makeVin({ wmi: 'YV1', vds: 'MV74A', year: 2016, plant: '2' }, 1);
const VIN2 = makeVin({ wmi: '1FT', vds: 'EW1EP', year: 2021, plant: 'K' }, 7);
const T0 = 1_764_064_800; // epoch seconds

const candump = [
  `(${T0}.000000) can0 1D0#0011223344556677`,
  `(${T0}.001000) can0 18FEF100#AABB`,
  `(${T0}.002000) can0 123#R`,
  `(${T0}.003000) can0 20000080#0000000000000000`,
  `(${T0}.004000) can0 123##1${'11'.repeat(12)}`,
  `(${T0}.005000)  can0  1D0   [2]  01 02`,
  `(${T0}.006000) can0 1D0#GG`,
  `(${T0}.007000) can0 1234#11`,
  '# a comment',
  '',
].join('\n');

const road = (rows: number): string => {
  const lines = ['Time,Id,Byte1,Byte2,Byte3,Byte4,Byte5,Byte6,Byte7,Byte8,Label'];
  for (let i = 0; i < rows; i++) lines.push(`${(i * 0.01).toFixed(2)},${(0x100 + (i % 7)).toString(16)},${'0A,'.repeat(8)}${i % 10 === 0 ? 1 : 0}`);
  lines.push('0.5,XYZ,00,,,,,,,,0', '0.6,1D0,00,,,,,,,,maybe?');
  return `${lines.join('\n')}\n`;
};

describe('vigil import', () => {
  it('imports candump, ROAD CSV (zipped), a mapped CSV (gzipped) and JSONL into the store; every bad line is a dead letter', async () => {
    const dir = tempDir();
    const dataDir = `${dir}/data`;
    const signals = [
      JSON.stringify({ vin: VIN2, ts: T0 * 1000, seq: 1, signals: { 'Vehicle.Speed': 50 } }),
      JSON.stringify({ vin: VIN2, ts: T0 * 1000 + 1000, seq: 2, signals: { 'Vehicle.Speed': 51 } }),
      JSON.stringify({ vin: 'NOT-A-VIN', ts: T0 * 1000, signals: { 'Vehicle.Speed': 1 } }),
      '{"vin": trunc',
    ].join('\n');
    const files = [
      writeText(dir, 'drive.log', candump),
      writeZip(dir, 'road.zip', { 'road_attack.csv': road(500) }),
      writeGz(dir, 'custom.csv.gz', 'zeit;kennung;laenge;daten\n1000;291;2;11 22\n2000;2047;1;33\nbad;1;1;00\n'),
      writeText(dir, 'signals.jsonl', `${signals}\n`),
    ];
    const mapping = writeText(dir, 'custom.yaml', 'delimiter: ";"\ntime: { column: zeit, unit: ms, base: epoch }\nid: { column: kennung, format: dec }\ndlc: { column: laenge }\npayload: { column: daten }\n');
    const r = await vigilFiles(['import', '--data-dir', dataDir, '--vin', VIN, '--tenant', 'lab', files[0]!, files[1]!, files[3]!]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^imported 3 files: 506 frames \(50 labelled attack\), 4 records, 4 lines rejected, and the pipeline refused 0 frames and 2 messages, \d+\.\d s, [\d,]+ frames\/s \(see vigil dlq list\)\n$/);
    const m = await vigilFiles(['import', '--data-dir', dataDir, '--vin', VIN, '--tenant', 'lab', '--mapping', mapping, files[2]!]);
    expect(m.stdout).toMatch(/^imported 1 file: 2 frames, 0 records, 1 rejected/);

    const frames = await sql(dataDir, 'SELECT label, count(*)::INTEGER AS n, sum(CASE WHEN data_fd IS NOT NULL THEN 1 ELSE 0 END)::INTEGER AS fd FROM can_frames GROUP BY label ORDER BY label');
    // 0: no ground truth (candump, the mapped CSV); 1 normal, 2 attack (ROAD labels).
    expect(frames).toEqual([
      { label: 0, n: 6 + 2, fd: 1 },
      { label: 1, n: 450, fd: 0 },
      { label: 2, n: 50, fd: 0 },
    ]);
    const ids = await sql(dataDir, "SELECT printf('%08X', can_id) AS id FROM can_frames WHERE label = 0 ORDER BY ts");
    // The mapped CSV's epoch-ms times (1 s and 2 s after 1970) come first.
    expect(ids.map((x) => x.id)).toEqual(['00000123', '000007FF', '000001D0', '98FEF100', '40000123', '20000080', '00000123', '000001D0']);
    expect(await sql(dataDir, 'SELECT count(*)::INTEGER AS n FROM signals')).toEqual([{ n: 2 }]);

    const dead = await sql(dataDir, 'SELECT kind, code, reason, decode(raw) AS raw FROM dead_letters ORDER BY kind, code');
    expect(dead.map((d) => [d.kind, d.code])).toEqual([
      ['can', 'candump.data'],
      ['can', 'candump.id'],
      ['can', 'csv.id'],
      ['can', 'csv.label'],
      ['can', 'csv.time'],
      ['signals', 'json.malformed'],
      ['signals', 'vin.invalid'],
    ]);
    expect(dead[0]).toMatchObject({ reason: expect.stringMatching(/^drive\.log:7: data "1D0#GG"/), raw: `(${T0}.006000) can0 1D0#GG` });
    expect(dead[2]!.reason).toMatch(/^road\.zip!road_attack\.csv:502: bad id "XYZ"/);
    expect(dead[3]!.reason).toMatch(/^road\.zip!road_attack\.csv:503: label "maybe\?"/);
    expect(dead[4]!.reason).toMatch(/^custom\.csv\.gz:4: bad time "bad"/);
    expect(dead[6]!.raw).toContain('NOT-A-VIN');
  });

  it('exits 1 naming a file it cannot read, after importing the others', async () => {
    const dir = tempDir();
    const r = await vigilFiles(['import', '--memory', '--vin', VIN, `${dir}/nope.log`, writeText(dir, 'ok.log', candump), writeText(dir, 'x.bin', '\u0001\u0002')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nope\.log: cannot open/);
    expect(r.stderr).toMatch(/x\.bin: cannot tell the format/);
    expect(r.stdout).toMatch(/^imported 3 files \(2 unreadable\): 6 frames/);
  });

  it('draws a progress bar on a terminal, and nothing but the summary in a pipe', async () => {
    const dir = tempDir();
    const file = writeText(dir, 'ok.log', candump);
    let tty = '';
    const r = await vigilFiles(['import', '--memory', '--vin', VIN, file], { inline: true, stderr: { write: (s: string) => (tty += s), isTTY: true } });
    const CLEAR = '\r\u001b[K';
    expect(tty.startsWith(CLEAR)).toBe(true);
    expect(tty.slice(CLEAR.length)).toMatch(/^\[#+-*\] +\d+% {2}0\.0\/0\.0 MB {2}\d+ frames {2}[\d,]+\/s {2}(\d+ rejected {2})?ok\.log/);
    expect(tty.endsWith(CLEAR)).toBe(true);
    expect(r.stdout).toMatch(/^imported 1 file: 6 frames/);
    const piped = await vigilFiles(['import', '--memory', '--vin', VIN, file], { inline: true });
    expect(piped.stderr).toBe('');
  });

  it('refuses bad flags before reading anything', async () => {
    const dir = tempDir();
    const file = writeText(dir, 'ok.log', candump);
    expect((await vigilFiles(['import', '--memory', '--vin', 'YV1MV74AXG2123457', file])).stderr).toMatch(/not a valid VIN/);
    expect((await vigilFiles(['import', '--memory', '--layout', 'kvaser', file])).stderr).toMatch(/unknown CSV layout "kvaser"/);
    expect((await vigilFiles(['import', '--memory', '--map', 'time.unit=weeks', '--layout', 'daga', file])).stderr).toMatch(/time\.unit/);
    expect((await vigilFiles(['import', '--memory', '--tenant', 'Bad Tenant', file])).stderr).toMatch(/tenant/);
    expect((await vigilFiles(['replay', '--memory', '--speed', '0', file])).code).toBe(1);
  });
});

describe('vigil replay', () => {
  it('sends frames and messages at their recorded times divided by --speed, on the injected clock', async () => {
    const dir = tempDir();
    const dataDir = `${dir}/data`;
    // Frames at 0, 1, 1.005 (same 10 ms slice), 3 and 3.5 s; then JSONL at 0, 2 and 2 s (its own schedule: files go one after another).
    const log = [0, 1, 1.005, 3, 3.5].map((t) => `(${(T0 + t).toFixed(6)}) can0 1D0#01`).join('\n');
    const jsonl = [0, 2000, 2000].map((t, i) => JSON.stringify({ vin: VIN2, ts: T0 * 1000 + t, seq: i, signals: { 'Vehicle.Speed': i } })).join('\n');
    const clock = new ManualClock(T0 * 1000 + 10_000);
    const sleeps: [number, number][] = [];
    const sleep = async (ms: number): Promise<void> => {
      sleeps.push([clock.now() - (T0 * 1000 + 10_000), ms]);
      clock.advance(ms);
    };
    const r = await vigilFiles(['replay', '--data-dir', dataDir, '--vin', VIN, '--speed', '2', writeText(dir, 'a.log', log), writeText(dir, 'signals.jsonl', jsonl)], { clock, sleep, inline: true });
    expect(r.stdout).toMatch(/^replayed 2 files: 5 frames, 3 records, 0 rejected, 2\.8 s,/);
    // [clock ms since start, sleep ms]: 1 s / 2, then 3 s / 2 ... and the JSONL file from where the log ended.
    expect(sleeps).toEqual([
      [0, 500],
      [500, 1000],
      [1500, 250],
      [1750, 1000],
    ]);
    expect(await sql(dataDir, 'SELECT count(*)::INTEGER AS n FROM can_frames')).toEqual([{ n: 5 }]);
    expect(await sql(dataDir, 'SELECT count(*)::INTEGER AS n FROM signals')).toEqual([{ n: 3 }]);
  });
});
