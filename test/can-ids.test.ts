/**
 * CAN intrusion detection through the front door: a profile learnt from the clean DAGA
 * Volvo V40 drive, a config with `can.ids`, the composition root, real worker threads and
 * DuckDB. A slice of the denial-of-service and of the id-fuzzing trace raise alerts in the
 * store; the same slice of the clean drive at most one (a cold start's warm-up).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConfigReferences, startVigil, type Vigil } from '../src/api/vigil.js';
import type { CanFrameBatch } from '../src/core/can.js';
import { ConfigError } from '../src/core/errors.js';
import { learnCanProfile } from '../src/detect/can/index.js';
import { Pseudonymizer } from '../src/normalize/pseudonym.js';
import { makeVin } from '../src/normalize/vin.js';
import { parseConfig } from '../src/runtime/config.js';
import { dataset, loadDagaTrace } from './datasets.js';

const clean = dataset('can/daga/clean/V40_03.can.zip', 'can-ids.test.ts');
const dos = dataset('can/daga/infected/DenialOfService/lowestID_V40_03.can.zip', 'can-ids.test.ts');
const fuzz = dataset('can/daga/infected/MessageIDFuzzing/V40_03.can.zip', 'can-ids.test.ts');

const SECRET_ENV = 'VIGIL_TEST_CAN_IDS_SECRET';
const secret = 'can-ids-test-secret-0123456789abc';
const vin = (serial: number): string => makeVin({ wmi: 'YV1', vds: 'MV2RE', year: 2016, plant: '2' }, serial);
const FROM = 40_000;
const TO = 140_000;

/** Frames `from`..`to` of a trace, re-timed to start at `t0`, as the given vehicle's. */
function slice(b: CanFrameBatch, from: number, to: number, vin: string, t0: number): CanFrameBatch {
  const n = to - from;
  const time = new Float64Array(n);
  for (let i = 0; i < n; i++) time[i] = t0 + b.time[from + i]! - b.time[from]!;
  return {
    tenant: 'fleet', vin, source: 'file:daga', size: n, time, bus: 'can0', stride: 8, receivedAt: Date.now(),
    id: b.id.slice(from, to), dlc: b.dlc.slice(from, to), data: b.data.slice(from * 8, to * 8),
  };
}

describe.skipIf(clean.skip || dos.skip || fuzz.skip)('CAN intrusion detection in the pipeline (can.ids)', () => {
  let vigil: Vigil;
  let dir: string;
  const traces: Record<'clean' | 'dos' | 'fuzz', CanFrameBatch> = {} as never;

  beforeAll(async () => {
    process.env[SECRET_ENV] = secret;
    [traces.clean, traces.dos, traces.fuzz] = await Promise.all([loadDagaTrace(clean.path), loadDagaTrace(dos.path), loadDagaTrace(fuzz.path)]);
    dir = mkdtempSync(join(tmpdir(), 'vigil-can-ids-'));
    const profile = join(dir, 'v40.json');
    writeFileSync(profile, JSON.stringify(learnCanProfile([traces.clean])));
    const config = parseConfig({
      store: { path: ':memory:' },
      http: { enabled: false },
      runtime: { workers: 2 },
      normalize: { secretEnv: SECRET_ENV },
      can: { ids: [{ profile, match: { vin: 'YV1', bus: 'can0' } }] },
    });
    vigil = await startVigil(config);
  });
  afterAll(async () => {
    await vigil?.stop();
    delete process.env[SECRET_ENV];
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('raises can.* alerts with evidence for DoS and id fuzzing, none for the clean drive', async () => {
    const t0 = Date.now() - 600_000;
    const batches = { clean: slice(traces.clean, FROM, TO, vin(1), t0), dos: slice(traces.dos, FROM, TO, vin(2), t0), fuzz: slice(traces.fuzz, FROM, TO, vin(3), t0) };
    const attackFrames = (b: CanFrameBatch, from: number): number => traces[b === batches.dos ? 'dos' : 'fuzz']!.label!.subarray(from, TO).reduce((s, x) => s + (x ? 1 : 0), 0);
    const dosAttacks = attackFrames(batches.dos, FROM);
    const fuzzAttacks = attackFrames(batches.fuzz, FROM);
    expect(dosAttacks).toBeGreaterThan(1000);
    expect(fuzzAttacks).toBeGreaterThan(10);
    for (const b of Object.values(batches)) await vigil.pipeline.pushFrames(b);
    // The other bus of a vehicle is not scored: no profile matches it.
    await vigil.pipeline.pushFrames({ ...slice(traces.dos, FROM, TO, vin(4), t0), bus: 'can1' });
    await vigil.pipeline.drain();

    const p = new Pseudonymizer(secret);
    const alertsOf = async (v: string) => vigil.store.listAlerts({ tenant: 'fleet', vehicle: p.key('fleet', v), limit: 100 });
    // A detector that starts mid-drive has no schedule yet: one early frame of 0x3C8 in its
    // warm-up is flagged (the same as scoring this slice alone with `CanDetector`), nothing else.
    expect((await alertsOf(vin(1))).length).toBeLessThanOrEqual(1);
    expect(await alertsOf(vin(4))).toEqual([]);

    const dosAlerts = await alertsOf(vin(2));
    const timing = dosAlerts.find((a) => a.rule === 'can.timing');
    expect(timing).toMatchObject({ severity: 'high', details: { model: 'timing', bus: 'can0' } });
    expect(timing!.tags).toEqual(expect.arrayContaining(['ATM-T0068', 'R155-A5:8.1']));
    expect(String(timing!.details.reason)).toMatch(/^001 came [0-9.]+ ms after the previous one$/);
    // Rate-limited per vehicle and model: one alert per model in the ~30 s slice, not thousands.
    expect(dosAlerts.filter((a) => a.rule === 'can.timing')).toHaveLength(1);

    const fuzzAlerts = await alertsOf(vin(3));
    expect(fuzzAlerts.map((a) => a.rule)).toContain('can.unknown_id');
    expect(fuzzAlerts.find((a) => a.rule === 'can.unknown_id')!.tags).toEqual(expect.arrayContaining(['ATM-T0071', 'R155-A5:11.1']));

    // Every attack frame was flagged (and, DAGA protocol, no clean one).
    const flagged = vigil.pipeline.metrics.get('vigil_can_frames_flagged_total');
    expect(flagged).toBeGreaterThanOrEqual(Math.floor((dosAttacks + fuzzAttacks) * 0.99));
    expect(flagged).toBeLessThanOrEqual(dosAttacks + fuzzAttacks + 5);
    expect(vigil.pipeline.metrics.get('vigil_alerts_suppressed_total')).toBeGreaterThan(0);
  });

  it('refuses a missing or malformed profile at start-up, listing every problem', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ format: 'nope', ids: 3 }));
    const config = parseConfig({ can: { ids: [{ profile: join(dir, 'absent.json') }, { profile: bad }] } });
    expect(() => checkConfigReferences(config)).toThrow(ConfigError);
    try {
      checkConfigReferences(config);
    } catch (e) {
      const problems = (e as ConfigError).problems;
      expect(problems.some((p) => p.startsWith('can.ids.0.profile:') && p.includes('ENOENT'))).toBe(true);
      expect(problems.filter((p) => p.startsWith('can.ids.1.profile:'))).toHaveLength(3);
    }
  });
});
