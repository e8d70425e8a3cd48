/**
 * Every DAGA trace (../shared/datasets/can/daga, clean and infected, .can.zip) imports through
 * `vigil import` into a DuckDB store file with as many frames as its CSV has data rows and as
 * many attack labels as its ANOMALY column has `True`s. The counts to match come from a plain
 * read of each CSV, not from the importer's own parser.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeVin } from '../src/normalize/vin.js';
import yauzl from 'yauzl';
import { dataset } from './datasets.js';
import { sql, vigilFiles } from './import-helpers.js';
import { tempDir } from './trace-files.js';

const daga = dataset('can/daga', 'daga-import.test');

function traces(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.can.zip'))
    .map((f) => join(dir, f))
    .sort();
}

/** Data rows and `True` ANOMALY values of a DAGA CSV (its only zip entry), by a plain count of lines. */
async function csvCounts(path: string): Promise<{ rows: number; attacks: number }> {
  const zip = await yauzl.openPromise(path, { lazyEntries: true });
  let lines = 0;
  let attacks = 0;
  let carry = '';
  for await (const entry of zip.eachEntry()) {
    for await (const chunk of await zip.openReadStreamPromise(entry)) {
      const text = carry + (chunk as Buffer).toString('latin1');
      const end = text.lastIndexOf('\n') + 1;
      for (let i = text.indexOf('\n'); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) lines++;
      attacks += text.slice(0, end).match(/,true\r?\n/gi)?.length ?? 0;
      carry = text.slice(end);
    }
  }
  if (carry.trim()) {
    lines++;
    if (/,true\s*$/i.test(carry)) attacks++;
  }
  return { rows: lines - 1, attacks };
}

describe.skipIf(daga.skip)('DAGA traces', () => {
  it('import with stored frames = CSV data rows and attack labels = ANOMALY True, for every trace', async () => {
    const files = traces(daga.path);
    expect(files.length).toBeGreaterThanOrEqual(17);
    const dataDir = tempDir('vigil-daga-');
    let before = { frames: 0, attacks: 0 };
    for (const [k, file] of files.entries()) {
      const vin = makeVin({ wmi: 'YV1', vds: 'MV74A', year: 2016, plant: '2' }, k + 1);
      const r = await vigilFiles(['import', '--data-dir', dataDir, '--tenant', 'daga', '--vin', vin, '--layout', 'daga', file], { inline: true });
      expect(r.stderr, file).toBe('');
      const want = await csvCounts(file);
      expect(r.stdout, file).toContain(` ${want.rows.toLocaleString('en-US')} frames`);
      const [got] = await sql(dataDir, 'SELECT count(*)::INTEGER AS frames, count_if(label = 2)::INTEGER AS attacks, count_if(label = 0)::INTEGER AS unlabelled FROM can_frames');
      expect({ frames: (got!.frames as number) - before.frames, attacks: (got!.attacks as number) - before.attacks }, file).toEqual({ frames: want.rows, attacks: want.attacks });
      expect(got!.unlabelled).toBe(0);
      before = { frames: got!.frames as number, attacks: got!.attacks as number };
    }
    expect(await sql(dataDir, 'SELECT count(*)::INTEGER AS n FROM dead_letters')).toEqual([{ n: 0 }]);
    // Byte order: PAYLOAD_HEX is a little-endian number (its last two digits are byte 0).
    const first = await sql(dataDir, "SELECT printf('%03X', can_id) AS id, printf('%016X', data) AS data FROM can_frames ORDER BY ts, can_id LIMIT 1");
    expect(first).toEqual([{ id: '010', data: 'F831B02F00000000' }]); // CSV row 1: 0.0,10,64,000000002FB031F8
  }, 240_000);
});
