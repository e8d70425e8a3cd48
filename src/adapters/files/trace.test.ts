import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../core/errors.js';
import type { DeadLetter } from '../../core/records.js';
import type { InputItem } from '../../runtime/lane.js';
import { tempDir, writeGz, writeText, writeZip } from '../../../test/trace-files.js';
import { csvLayout, readTrace, type EntrySummary, type TraceOptions } from './trace.js';
import { textBlocks } from './readers/lines.js';

const VIN = '1FTEW1EP5MFA12345';
const CANDUMP = '(1764064800.000000) can0 1D0#0102\n(1764064800.010000) can0 123#R\nbad line\n(1764064800.020000) can1 18FEF100#AABBCCDD\n';
const DAGA = 'timestamp,CAN_ID,DLC,PAYLOAD_HEX,PAYLOAD_BIN,ANOMALY\n0.0,10,64,0102030405060708,0,False\n0.5,1D0,64,61,0,True\n';

async function read(path: string, opts: Partial<TraceOptions> = {}) {
  let frames = 0;
  let labelled = 0;
  const dead: DeadLetter[] = [];
  const items: InputItem[] = [];
  const summaries: EntrySummary[] = [];
  const counter = { bytesRead: 0, bytesTotal: 0 };
  for await (const c of readTrace(path, { tenant: 'lab', vin: VIN, start: 0, now: () => 42, counter, ...opts })) {
    if (c.type === 'frames') {
      frames += c.batch.size;
      labelled += c.batch.label?.reduce((a, b) => a + b, 0) ?? 0;
    } else if (c.type === 'rejects') dead.push(...c.deadLetters);
    else if (c.type === 'records') items.push(...c.items);
    else summaries.push(c.summary);
  }
  return { frames, labelled, dead, items, summaries, counter };
}

describe('readTrace', () => {
  const dir = tempDir();

  it('reads a plain candump log; a bad line becomes a dead letter with file:line, code and its exact bytes', async () => {
    const r = await read(writeText(dir, 'drive.log', CANDUMP));
    expect(r.frames).toBe(3);
    expect(r.dead).toHaveLength(1);
    expect(r.dead[0]).toMatchObject({ tenant: 'lab', source: 'file:drive.log', kind: 'can', code: 'candump.no_time', receivedAt: 42 });
    expect(r.dead[0]!.reason).toMatch(/^drive\.log:3: /);
    expect(Buffer.from(r.dead[0]!.raw).toString()).toBe('bad line');
    expect(r.summaries).toEqual([{ file: `${dir}/drive.log`, entry: 'drive.log', format: 'candump', lines: 4, frames: 3, labelled: 0, records: 0, rejected: 1, skipped: 0 }]);
    expect(r.counter.bytesRead).toBe(CANDUMP.length);
    expect(r.counter.bytesTotal).toBe(CANDUMP.length);
  });

  it('reads .gz and every entry of a .zip (stored or deflated), skipping macOS junk', async () => {
    const gz = await read(writeGz(dir, 'drive.log.gz', CANDUMP));
    expect([gz.frames, gz.dead.length]).toEqual([3, 1]);
    const zip = await read(writeZip(dir, 'traces.zip', { 'a/V40.can.txt': DAGA, 'b.log': CANDUMP, '__MACOSX/._b.log': 'junk', 'dir/': '' }, ['b.log']));
    expect(zip.summaries.map((s) => [s.entry, s.format, s.layout, s.frames, s.labelled])).toEqual([
      ['traces.zip!a/V40.can.txt', 'csv', 'daga', 2, 1],
      ['traces.zip!b.log', 'candump', undefined, 3, 0],
    ]);
    expect(zip.labelled).toBe(1);
    expect(zip.dead[0]!.reason).toMatch(/^traces\.zip!b\.log:3: /);
    // Progress counts the compressed bytes of the entries: all of them once done, headers aside.
    expect(zip.counter.bytesRead).toBeGreaterThan(DAGA.length / 4);
    expect(zip.counter.bytesRead).toBeLessThan(zip.counter.bytesTotal);
  });

  it('throws a DecodeError naming the file when it cannot be read at all', async () => {
    await expect(read(`${dir}/missing.log`)).rejects.toThrow(/missing\.log: cannot open/);
    await expect(read(writeText(dir, 'fake.zip', 'not a zip'))).rejects.toThrow(DecodeError);
    await expect(read(writeText(dir, 'fake.log.gz', 'not gzip'))).rejects.toThrow(/fake\.log\.gz/);
    await expect(read(writeText(dir, 'x.bin', '\u0000\u0001\u0002'))).rejects.toThrow(/cannot tell the format/);
    await expect(read(writeText(dir, 'novin.log', CANDUMP), { vin: undefined })).rejects.toThrow(/--vin/);
    await expect(read(writeText(dir, 'q.csv', 'a,b,c\n1,123,11\n'))).rejects.toThrow(/none can be guessed/);
    await expect(read(writeText(dir, 'r.csv', 'Time,Identifier,Data\n1,123,11\n'), { mapping: csvLayout('road') })).rejects.toThrow(/no column "Id"/);
    const broken = gzipSync(CANDUMP.repeat(2000));
    await expect(read(writeText(dir, 'cut.log.gz', broken.subarray(0, broken.length - 100)))).rejects.toThrow(/cut\.log\.gz/);
  });

  it('takes the vehicle from a file named by its VIN, as vigil simulate writes candump logs', async () => {
    const r = await read(writeText(dir, `${VIN}.log`, CANDUMP), { vin: undefined });
    expect(r.frames).toBe(3);
  });

  it('turns JSONL lines into wire messages as bytes, kind from the file name, with a transport id per line', async () => {
    const good = JSON.stringify({ vin: VIN, ts: 5, signals: { 'Vehicle.Speed': 1 } });
    const r = await read(writeText(dir, 'signals.jsonl', `${good}\n\n{broken\n`), { eventTimes: false });
    expect(r.items).toHaveLength(2);
    expect(r.items[0]).toMatchObject({ kind: 'signals', tenant: 'lab', source: 'file:signals.jsonl', transportId: 'signals.jsonl:1', receivedAt: 42 });
    expect(Buffer.from(r.items[0]!.payload as Uint8Array).toString()).toBe(good);
    expect(r.summaries[0]).toMatchObject({ records: 2, rejected: 0, skipped: 1 });
    // Without a kind in the name, a line that is not even JSON is refused here, kind unknown.
    const u = await read(writeText(dir, 'data.jsonl', `${good}\n{broken\n`));
    expect(u.items).toHaveLength(1);
    expect(u.dead.map((d) => [d.kind, d.code])).toEqual([['unknown', 'json.malformed']]);
  });

  it('keeps invalid UTF-8 bytes exactly, and refuses an overlong line with its head', async () => {
    const bytes = Buffer.concat([Buffer.from('(1.0) can0 123#11'), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from('\n')]);
    const r = await read(writeText(dir, 'bin.log', Buffer.concat([Buffer.from('(1.0) can0 123#11\n'), bytes])));
    expect(r.frames).toBe(1);
    expect(Buffer.from(r.dead[0]!.raw).equals(bytes.subarray(0, bytes.length - 1))).toBe(true);

    const blocks: unknown[] = [];
    const chunks = ['ab\ncd', 'x'.repeat(30), 'y'.repeat(30), 'z\nef\n', 'tail'].map((s) => Buffer.from(s));
    for await (const b of textBlocks((async function* () { yield* chunks; })(), 20)) blocks.push(b);
    expect(blocks).toEqual(['ab\n', { overlong: `cd${'x'.repeat(18)}`, length: 63 }, 'ef\n', 'tail']);
    const split: unknown[] = [];
    for await (const b of textBlocks((async function* () { yield* ['a'.repeat(15), `${'b'.repeat(10)}\nok\n`].map((x) => Buffer.from(x)); })(), 20)) split.push(b);
    expect(split).toEqual([{ overlong: `${'a'.repeat(15)}${'b'.repeat(5)}`, length: 25 }, 'ok\n']);
  });
});
