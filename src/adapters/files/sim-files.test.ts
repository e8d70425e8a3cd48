import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isValidVin } from '../../normalize/vin.js';
import { CAN_ID, canChecksumOk, decodeCanFrame } from '../../sim/can-layout.js';
import type { ScenarioLabel, ScenarioPlan } from '../../sim/scenarios.js';
import { PATHS } from '../../sim/signals.js';
import { FleetSimulator } from '../../sim/simulator.js';
import { writeSimulationFiles, type SimFilesSummary } from './sim-files.js';

const PLAN: ScenarioPlan[] = [
  { scenario: 'speed-injection', atS: 40, durationS: 40, vehicle: 3 },
  { scenario: 'credential-stuffing', atS: 20, durationS: 30 },
];
const OPTS = { vehicles: 25, seed: 4, attacks: PLAN, malformedRate: 0.01 };
const CANDUMP = /^\((\d+)\.(\d{6})\) can0 ([0-9A-F]{3})#([0-9A-F]{16})$/;

let dir: string;
let summary: SimFilesSummary;
const lines = async (name: string): Promise<string[]> => (await readFile(join(dir, name), 'utf8')).split('\n').filter((l) => l.length > 0);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-sim-files-'));
  // A tiny stream buffer makes every stream wait for 'drain' many times.
  summary = await writeSimulationFiles(OPTS, { durationS: 120 }, { dir, highWaterMark: 1024 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeSimulationFiles', () => {
  it('writes one wire message per line per kind, exactly what the simulator produces', async () => {
    const sim = new FleetSimulator(OPTS);
    const expected = { signals: [] as string[], security: [] as string[], log: [] as string[] };
    for (const it of sim.items(sim.options.start + 120_000)) expected[it.kind].push(it.payload);
    for (const kind of ['signals', 'security', 'log'] as const) {
      const got = await lines(`${kind}.jsonl`);
      expect(got.sort(), kind).toEqual(expected[kind].sort());
    }
    expect((await lines('signals.jsonl')).length).toBe(summary.messages);
    expect((await lines('security.jsonl')).length).toBe(summary.securityEvents);
    expect((await lines('log.jsonl')).length).toBe(summary.logEvents);
  });

  it('writes the labels and the fleet identities', async () => {
    const labels = (await lines('labels.jsonl')).map((l) => JSON.parse(l) as ScenarioLabel);
    expect(labels).toHaveLength(summary.labels);
    expect(labels.filter((l) => l.scenario !== 'malformed').map((l) => l.scenario).sort()).toEqual(['credential-stuffing', 'speed-injection']);
    expect(labels.filter((l) => l.scenario === 'malformed')).toHaveLength(summary.malformed);
    const fleet = (await lines('fleet.jsonl')).map((l) => JSON.parse(l) as { vin: string; software: Record<string, string> });
    expect(fleet).toHaveLength(25);
    expect(fleet.every((v) => isValidVin(v.vin) && Object.keys(v.software).length >= 4)).toBe(true);
  });

  it('writes candump logs: vehicle 0 from the start, the speed-injection target with genuine and injected frames', async () => {
    const sim = new FleetSimulator(OPTS);
    const target = sim.fleet.vin(3);
    expect((await readdir(join(dir, 'can'))).sort()).toEqual([`${sim.fleet.vin(0)}.log`, `${target}.log`].sort());
    const first = await lines(`can/${sim.fleet.vin(0)}.log`);
    expect(first.length).toBeGreaterThan(120 * 3);
    for (const l of first) expect(l).toMatch(CANDUMP);

    const label = (await lines('labels.jsonl')).map((l) => JSON.parse(l) as ScenarioLabel).find((l) => l.scenario === 'speed-injection')!;
    const frames = (await lines(`can/${target}.log`)).map((l) => {
      const [, sec, us, id, hex] = CANDUMP.exec(l)!;
      const data = Uint8Array.from(hex!.match(/../g)!.map((b) => parseInt(b, 16)));
      return { ts: Number(sec) * 1000 + Number(us) / 1000, id: parseInt(id!, 16), data };
    });
    expect(frames.every((f) => canChecksumOk(f.data))).toBe(true);
    // Logging starts with the tick in which the attack starts (1 s), whose samples reach back one more interval.
    expect(frames[0]!.ts).toBeGreaterThanOrEqual(label.start - 2100);
    const speed = frames.filter((f) => f.id === CAN_ID.speed && f.ts <= label.end);
    const bodies = frames.filter((f) => f.id === CAN_ID.body && f.ts <= label.end);
    // Twice the 0x1D0 frames per message during the injection, and the two disagree.
    expect(speed.length).toBeGreaterThan(bodies.length * 2 * 1.5);
    const disagree = speed.filter((f) => {
      const d = decodeCanFrame(f.id, f.data)!;
      return Math.abs((d[PATHS.speed] as number) - (d[PATHS.wheelFL] as number)) > 20;
    });
    expect(disagree.length).toBeGreaterThan(speed.length / 3);
  });

  it('writes a manifest that lists the files and counts', async () => {
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
      format: string;
      options: { vehicles: number; seed: number };
      lines: Record<string, number>;
      files: string[];
      candump: { frames: number };
    };
    expect(manifest.format).toBe('vigil-sim-files/1');
    expect(manifest.options).toMatchObject({ vehicles: 25, seed: 4 });
    expect(manifest.lines).toEqual({ signals: summary.messages, security: summary.securityEvents, log: summary.logEvents, labels: summary.labels });
    expect(manifest.files).toEqual(expect.arrayContaining(['signals.jsonl', 'security.jsonl', 'log.jsonl', 'labels.jsonl', 'fleet.jsonl']));
    expect(manifest.candump.frames).toBe(summary.candumpFrames);
    expect(summary.files).toHaveLength(manifest.files.length + 1);
  });
});
