/**
 * Fuzz for the files source kind: more than 100,000 malformed lines — truncated, wrong types,
 * huge, binary garbage, the wrong encoding, bad ids, lengths and hex — mixed with valid ones in
 * candump logs (plain and .gz), DAGA and ROAD CSV (.zip and plain) and JSONL (kind from the
 * file name or from each line), through `vigil import` into a store file. The import finishes,
 * every malformed line is dead-lettered with a reason, and conservation is exact: lines =
 * stored + dead-lettered + skipped.
 */
import { describe, expect, it } from 'vitest';
import { makeVin } from '../src/normalize/vin.js';
import { prng } from './ingest-helpers.js';
import { sql, vigilFiles } from './import-helpers.js';
import { tempDir, writeGz, writeText, writeZip } from './trace-files.js';

const PER_FILE = 15_000; // malformed lines per file; 7 files
const HUGE = 2; // lines past the 1 MiB line limit, per file (each keeps a 1 MiB dead letter)
const VIN = makeVin({ wmi: 'YV1', vds: 'MV74A', year: 2016, plant: '2' }, 77);
const JVIN = makeVin({ wmi: '1FT', vds: 'EW1EP', year: 2021, plant: 'K' }, 5);
const T0 = 1_764_064_800;

type Rnd = () => number;
const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const hex = (rnd: Rnd, bytes: number): string => Array.from({ length: bytes }, () => Math.floor(rnd() * 256).toString(16).padStart(2, '0')).join('').toUpperCase();

/** Random bytes with no newline, never blank, never starting like a comment, a frame or JSON. */
function garbage(rnd: Rnd, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    let x = Math.floor(rnd() * 256);
    if (x === 10 || x === 44) x = 0x7f; // no newline, and no comma (a garbage CSV row is one field)
    b[i] = x;
  }
  b[0] = 0xc1 + Math.floor(rnd() * 0x1c);
  return b;
}

const utf16 = (s: string): Buffer => Buffer.from(s, 'utf16le');

interface FuzzFile {
  readonly lines: (string | Buffer)[];
  valid: number;
  malformed: number;
}

/** Valid and malformed lines in a seeded random mix; `make(i)` returns a line and whether it is valid. */
function mix(header: string | undefined, total: number, rnd: Rnd, validLine: (i: number) => string, bad: (i: number) => string | Buffer): FuzzFile {
  const f: FuzzFile = { lines: header ? [header] : [], valid: 0, malformed: 0 };
  for (let i = 0; f.malformed < total; i++) {
    if (f.malformed < HUGE) {
      f.lines.push(`${'x'.repeat((1 << 20) + 10 + i)}`);
      f.malformed++;
    } else if (rnd() < 0.35) {
      f.lines.push(validLine(i));
      f.valid++;
    } else {
      f.lines.push(bad(i));
      f.malformed++;
    }
  }
  return f;
}

const bytesOf = (f: FuzzFile): Buffer => Buffer.concat(f.lines.flatMap((l) => [Buffer.isBuffer(l) ? l : Buffer.from(l, 'latin1'), Buffer.from('\n')]));

function candumpFile(rnd: Rnd): FuzzFile {
  const t = (i: number): string => `(${T0 + i}.${String(i % 1e6).padStart(6, '0')})`;
  const valid = (i: number): string =>
    pick(rnd, [
      `${t(i)} can0 ${(i % 0x7ff).toString(16).toUpperCase().padStart(3, '0')}#${hex(rnd, i % 9)}`,
      `${t(i)} can1 ${(0x18fe0000 + i).toString(16).toUpperCase()}#${hex(rnd, 8)}`,
      `${t(i)} can0 123#R${i % 9}`,
      `${t(i)} can0 123##1${hex(rnd, pick(rnd, [12, 16, 64]))}`,
      `${t(i)}  can0  1D0   [2]  ${hex(rnd, 1)} ${hex(rnd, 1)}`,
    ]);
  const bad = (i: number): string | Buffer => {
    const good = `${t(i)} can0 1D0#${hex(rnd, 8)}`;
    switch (i % 9) {
      case 0: // truncated: inside the time, before the '#', or leaving an odd hex digit
        return pick(rnd, [good.slice(0, 1 + Math.floor(rnd() * 10)), good.slice(0, good.indexOf('#') - 1), good.slice(0, good.indexOf('#') + 2 + 2 * Math.floor(rnd() * 7))]);
      case 1: // wrong types
        return pick(rnd, [`(abc) can0 1D0#00`, `${t(i)} can0 XYZ#00`, `${t(i)} can0 1D0#hello`, `${t(i)}`, `can0 1D0#00`, `${t(i)} can0 1D0#00 maybe`]);
      case 2: // bad ids
        return pick(rnd, [`${t(i)} can0 800#00`, `${t(i)} can0 1234#00`, `${t(i)} can0 40000000#00`, `${t(i)} can0 #00`, `${t(i)} can0 12#00`]);
      case 3: // bad lengths
        return pick(rnd, [`${t(i)} can0 1D0#${hex(rnd, 9)}`, `${t(i)} can0 1D0##1${hex(rnd, 9)}`, `${t(i)} can0 1D0##`, `${t(i)} can0 1D0#R9`, `${t(i)} can0 1D0#${hex(rnd, 4)}_E`, `${t(i)}  can0  1D0   [9]  00`]);
      case 4: // bad hex
        return pick(rnd, [`${t(i)} can0 1D0#0G`, `${t(i)} can0 1D0#0x11`, `${t(i)} can0 1D0#1 1`, `${t(i)} can0 1D0#${hex(rnd, 2)}\u00e9`]);
      case 5: // binary garbage
        return garbage(rnd, 1 + Math.floor(rnd() * 300));
      case 6: // wrong encoding
        return utf16(good);
      case 7: // times out of range, long lines
        return pick(rnd, [`(99999999999.0) can0 1D0#00`, `${t(i)} can0 1D0#${'00'.repeat(5000)}`]);
      default: // CAN XL, other tools' formats
        return pick(rnd, [`${t(i)} can0 1D0:00:11`, `   0.001 1  1D0   Rx   d 8 00 11 22 33 44 55 66 77`, `1D0 [8] 00 11 22 33 44 55 66 77`]);
    }
  };
  return mix(undefined, PER_FILE, rnd, valid, bad);
}

function dagaFile(rnd: Rnd): FuzzFile {
  const valid = (i: number): string => `${(i / 1000).toFixed(6)},${(i % 0x7ff).toString(16).toUpperCase()},64,${hex(rnd, 1 + (i % 8))},0,${i % 13 ? 'False' : 'True'}`;
  const bad = (i: number): string | Buffer => {
    const good = valid(i);
    switch (i % 7) {
      case 0: // truncated: any proper, non-empty prefix misses the label or part of it
        return good.slice(0, 1 + Math.floor(rnd() * (good.length - 1)));
      case 1: // wrong types
        return pick(rnd, [`yesterday,1D0,64,00,0,False`, `0.1,XYZ,64,00,0,False`, `0.1,1D0,sixty,00,0,False`, `0.1,1D0,64,00,0,maybe`, `0.1,1D0,64,00,0,1`]);
      case 2: // bad lengths and ids
        return pick(rnd, [`0.1,1D0,63,00,0,False`, `0.1,1D0,72,${hex(rnd, 9)},0,False`, `0.1,1D0,600,00,0,False`, `0.1,1D0,64,${hex(rnd, 9)},0,False`, `0.1,20000000,64,00,0,False`, `0.1,,64,00,0,False`]);
      case 3: // bad hex
        return pick(rnd, [`0.1,1D0,64,0G,0,False`, `0.1,1D0,64,0x1Z,0,False`]);
      case 4:
        return garbage(rnd, 1 + Math.floor(rnd() * 300));
      case 5:
        return utf16(good);
      default: // times out of range, quotes left open
        return pick(rnd, [`1e300,1D0,64,00,0,False`, `-5,1D0,64,00,0,False`, `"0.1,1D0,64,00,0,False`]);
    }
  };
  return mix('timestamp,CAN_ID,DLC,PAYLOAD_HEX,PAYLOAD_BIN,ANOMALY', PER_FILE, rnd, valid, bad);
}

function roadFile(rnd: Rnd): FuzzFile {
  const bytes = (n: number): string => Array.from({ length: 8 }, (_, k) => (k < n ? hex(rnd, 1) : '')).join(',');
  const valid = (i: number): string => `${(i / 100).toFixed(3)},${(0x100 + (i % 50)).toString(16)},${bytes(1 + (i % 8))},${i % 20 ? 0 : 1}`;
  const bad = (i: number): string | Buffer => {
    switch (i % 5) {
      case 0:
        return pick(rnd, [`0.1,1D0,1FF,,,,,,,,0`, `0.1,1D0,ZZ,,,,,,,,0`, `0.1,1D0,11,,33,,,,,,0`, `0.1,1D0,${bytes(8)},2`, `0.1,1D0`, `0.1,1D0,${bytes(2)},attack!`]);
      case 1:
        return garbage(rnd, 1 + Math.floor(rnd() * 300));
      case 2:
        return utf16(valid(i));
      case 3:
        return `nan,1D0,${bytes(2)},0`;
      default: {
        const good = valid(i); // truncated before the label
        return good.slice(0, 1 + Math.floor(rnd() * good.lastIndexOf(',')));
      }
    }
  };
  return mix('Time,Id,Byte1,Byte2,Byte3,Byte4,Byte5,Byte6,Byte7,Byte8,Label', PER_FILE, rnd, valid, bad);
}

/** JSONL whose kind the file name gives: the lane refuses the bad lines (whole messages). */
function jsonlFile(rnd: Rnd, kind: 'signals' | 'security' | 'mixed'): FuzzFile {
  const ts = Date.now() - 60_000;
  const sig = (i: number, extra: Record<string, unknown> = {}): string => JSON.stringify({ ...(kind === 'mixed' ? { kind: 'signals' } : {}), vin: JVIN, ts: ts + i, signals: { 'Vehicle.Speed': i % 200 }, ...extra });
  const sec = (i: number): string => JSON.stringify({ vin: JVIN, ts: ts + i, eventId: 0x8001, sensor: 'CanGatewayIds', count: 1 });
  const valid = kind === 'security' ? sec : (i: number) => sig(i);
  const bad = (i: number): string | Buffer => {
    const good = valid(i);
    switch (i % 8) {
      case 0: // truncated JSON (no proper prefix of an object parses)
        return good.slice(0, 1 + Math.floor(rnd() * (good.length - 2)));
      case 1: // wrong types and values
        return kind === 'security'
          ? pick(rnd, [JSON.stringify({ vin: JVIN, ts, eventId: 'boom', sensor: 'ids' }), JSON.stringify({ vin: JVIN, ts, eventId: 70_000, sensor: 'ids' }), JSON.stringify({ vin: JVIN, ts, eventId: 1, sensor: '' }), JSON.stringify({ vin: JVIN, ts, eventId: 1, sensor: 'ids', count: 0 })])
          : pick(rnd, [sig(i, { vin: 12345 }), sig(i, { ts: 'yesterday' }), sig(i, { ts: -5 }), sig(i, { signals: [1, 2] }), sig(i, { vin: 'NOT-A-VIN' }), sig(i, { ts: Date.now() + 86_400_000 })]);
      case 2:
        return garbage(rnd, 1 + Math.floor(rnd() * 300));
      case 3: // wrong encodings: UTF-16, and Latin-1 text that is not UTF-8
        return pick(rnd, [utf16(good), Buffer.from(`${good.slice(0, -1)},"note":"caf\u00e9 cr\u00e8me"}`, 'latin1')]);
      case 4: // JSON that is no object
        return pick(rnd, ['[1,2,3]', '42', 'null', '"text"', 'true']);
      case 5: // long, but under the line limit
        return `{"pad":"${'y'.repeat(200 + Math.floor(rnd() * 4000))}"`;
      case 6:
        return kind === 'mixed' ? pick(rnd, [JSON.stringify({ kind: 'telemetry', vin: JVIN, ts }), JSON.stringify({ vin: JVIN, ts })]) : '{}';
      default:
        return `${good}}`;
    }
  };
  return mix(undefined, PER_FILE, rnd, valid, bad);
}

describe('files fuzz', () => {
  it(`dead-letters every one of ${(7 * PER_FILE).toLocaleString('en-US')} malformed lines with a reason, and conservation is exact`, async () => {
    const rnd = prng(20_261_203);
    const dir = tempDir('vigil-files-fuzz-');
    const dataDir = `${dir}/data`;
    const can = candumpFile(rnd);
    const canGz = candumpFile(rnd);
    const daga = dagaFile(rnd);
    const road = roadFile(rnd);
    const signals = jsonlFile(rnd, 'signals');
    const security = jsonlFile(rnd, 'security');
    const mixed = jsonlFile(rnd, 'mixed');
    const files = [
      writeText(dir, 'fuzz.log', bytesOf(can)),
      writeGz(dir, 'fuzz2.log.gz', bytesOf(canGz)),
      writeZip(dir, 'daga.zip', { 'fuzz.can.txt': bytesOf(daga) }),
      writeText(dir, 'road.csv', bytesOf(road)),
      writeText(dir, 'fleet-signals.jsonl', bytesOf(signals)),
      writeGz(dir, 'security.jsonl.gz', bytesOf(security)),
      writeText(dir, 'mixed.ndjson', bytesOf(mixed)),
    ];
    const all = [can, canGz, daga, road, signals, security, mixed];
    const malformed = all.reduce((a, f) => a + f.malformed, 0);
    expect(malformed).toBeGreaterThanOrEqual(100_000);

    const r = await vigilFiles(['import', '--data-dir', dataDir, '--vin', VIN, ...files], { inline: true });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const frames = can.valid + canGz.valid + daga.valid + road.valid;
    const records = signals.valid + security.valid + mixed.valid;
    expect(r.stdout).toContain(`imported 7 files: ${frames.toLocaleString('en-US')} frames`);

    const [stored] = await sql(
      dataDir,
      `SELECT (SELECT count(*) FROM can_frames)::INTEGER AS frames, (SELECT count(*) FROM signals)::INTEGER AS signals,
              (SELECT count(*) FROM security_events)::INTEGER AS security, (SELECT count(*) FROM dead_letters)::INTEGER AS dead`,
    );
    // Conservation: every valid line stored once (one signal per message), every malformed line dead-lettered once.
    expect(stored).toEqual({ frames, signals: signals.valid + mixed.valid, security: security.valid, dead: malformed });
    expect(records + frames + malformed).toBe(all.reduce((a, f) => a + f.lines.length, 0) - 2); // the two CSV headers

    const codes = await sql(dataDir, 'SELECT kind, code, count(*)::INTEGER AS n, min(length(reason))::INTEGER AS reason, min(octet_length(raw))::INTEGER AS raw FROM dead_letters GROUP BY ALL ORDER BY ALL');
    for (const c of codes) {
      expect(c.code, JSON.stringify(c)).toMatch(/^[a-z_0-9]+\.[a-z_]+$/);
      expect(c.reason as number, JSON.stringify(c)).toBeGreaterThan(10);
      expect(c.raw as number, JSON.stringify(c)).toBeGreaterThan(0);
    }
    const count = (kind: string): number => codes.filter((c) => c.kind === kind).reduce((a, c) => a + (c.n as number), 0);
    expect(count('can')).toBe(can.malformed + canGz.malformed + daga.malformed + road.malformed);
    expect(count('signals') + count('unknown')).toBe(signals.malformed + mixed.malformed);
    expect(count('security')).toBe(security.malformed);
    const seen = new Set(codes.map((c) => c.code));
    for (const c of ['line.too_long', 'candump.time', 'candump.id', 'candump.length', 'candump.data', 'csv.columns', 'csv.dlc', 'csv.label', 'csv.bytes', 'json.malformed', 'message.encoding', 'jsonl.kind', 'vin.invalid']) {
      expect(seen, c).toContain(c);
    }
    // Reader dead letters name the place; the huge lines keep their first MiB.
    const place = await sql(dataDir, "SELECT count(*)::INTEGER AS n FROM dead_letters WHERE kind = 'can' AND NOT regexp_matches(reason, '^[^:]+:[0-9]+: ')");
    expect(place).toEqual([{ n: 0 }]);
    expect(await sql(dataDir, "SELECT max(octet_length(raw))::INTEGER AS n FROM dead_letters WHERE code = 'line.too_long'")).toEqual([{ n: 1 << 20 }]);
    console.log(`files fuzz: ${malformed} malformed + ${frames + records} valid lines; ${r.stdout.trim()}`);
  }, 300_000);
});
