/**
 * `vigil learn can --from-store` through the front door: frames go in through the pipeline
 * into a DuckDB file, the server stops, and the CLI learns one vehicle's profile from the
 * frames stored in the learning window (two pages), by VIN.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVigil } from '../api/vigil.js';
import type { CanFrameBatch } from '../core/can.js';
import { parseCanProfile } from '../detect/can/index.js';
import { makeVin } from '../normalize/vin.js';
import { parseConfigYaml } from '../runtime/config.js';
import { dataset, loadDagaTrace } from '../../test/datasets.js';
import { learnCommand } from './eval.js';
import { LEARN_PAGE_FRAMES } from './learn-store.js';

const trace = dataset('can/daga/clean/V40_03.can.zip', 'learn-store.test.ts');
const SECRET_ENV = 'VIGIL_TEST_LEARN_STORE_SECRET';
const VIN = makeVin({ wmi: 'YV1', vds: 'MV2RE', year: 2016, plant: '2' }, 11);
const OTHER = makeVin({ wmi: 'YV1', vds: 'MV2RE', year: 2016, plant: '2' }, 12);
const T0 = Date.UTC(2026, 11, 1, 8, 0, 0);
const N = 120_000;

function retimed(b: CanFrameBatch, n: number, vin: string, t0: number, idOffset = 0): CanFrameBatch {
  const time = new Float64Array(n);
  for (let i = 0; i < n; i++) time[i] = t0 + Math.round((b.time[i]! - b.time[0]!) * 1000) / 1000;
  const id = b.id.slice(0, n).map((x) => x + idOffset);
  return { tenant: 'fleet', vin, source: 'test', size: n, time, id, dlc: b.dlc.slice(0, n), data: b.data.slice(0, n * 8), stride: 8, receivedAt: T0 };
}

async function learn(...args: string[]): Promise<string> {
  let out = '';
  const env = { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true } };
  await new Command('vigil').exitOverride().addCommand(learnCommand(env)).parseAsync(args, { from: 'user' });
  return out;
}

describe.skipIf(trace.skip)('vigil learn can --from-store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-learn-store-'));
  const configFile = join(dir, 'vigil.yaml');
  let full: CanFrameBatch;

  beforeAll(async () => {
    process.env[SECRET_ENV] = 'learn-store-secret-0123456789abcdef';
    writeFileSync(configFile, `tenant: fleet\ndataDir: ${dir}\nhttp: { enabled: false }\nnormalize: { secretEnv: ${SECRET_ENV} }\n`);
    full = await loadDagaTrace(trace.path);
    const vigil = await startVigil(parseConfigYaml(readFileSync(configFile, 'utf8')), { inline: true });
    try {
      await vigil.pipeline.pushFrames(retimed(full, N, VIN, T0));
      // Another vehicle in the same window, with ids shifted: none of them may be learnt.
      await vigil.pipeline.pushFrames(retimed(full, 5000, OTHER, T0, 0x400));
      await vigil.pipeline.drain();
    } finally {
      await vigil.stop();
    }
  }, 60_000);
  afterAll(() => {
    delete process.env[SECRET_ENV];
    rmSync(dir, { recursive: true, force: true });
  });

  it('learns one vehicle from its stored frames in the window, across pages', async () => {
    const out = join(dir, 'live.json');
    const until = Math.ceil(T0 + full.time[N - 1]! - full.time[0]! + 1);
    const msg = await learn('learn', 'can', '--from-store', '-c', configFile, '--vin', VIN, '--since', new Date(T0).toISOString(), '--until', String(until), '--out', out);
    const profile = parseCanProfile(JSON.parse(readFileSync(out, 'utf8')));
    expect(N).toBeGreaterThan(LEARN_PAGE_FRAMES);
    expect(profile.trainedFrames).toBe(N);
    expect(new Set(profile.ids.map((m) => m.id))).toEqual(new Set(full.id.subarray(0, N)));
    expect(msg).toMatch(/^.*live\.json: \d+ ids from 120,000 frames/);

    // A shorter window learns fewer frames; an empty one is an error naming the window.
    await learn('learn', 'can', '--from-store', '-c', configFile, '--vin', VIN, '--since', String(T0), '--until', String(T0 + 10_000), '--out', out);
    const short = parseCanProfile(JSON.parse(readFileSync(out, 'utf8')));
    expect(short.trainedFrames).toBeGreaterThan(1000);
    expect(short.trainedFrames).toBeLessThan(N / 5);
    await expect(learn('learn', 'can', '--from-store', '-c', configFile, '--vin', VIN, '--since', String(T0 - 60_000), '--until', String(T0 - 1), '--out', out)).rejects.toThrow(/no CAN frames stored for [0-9a-f]+ \(tenant fleet\)/);
    await expect(learn('learn', 'can', '--from-store', '-c', configFile, '--out', out)).rejects.toThrow(/--from-store needs --vin[\s\S]*needs --since/);
  });
});
