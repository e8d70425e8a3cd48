/**
 * `vigil rules check|test` through the commander command, and the shipped pack in
 * rules/detections: every sample passes, every rule has both kinds of sample, and every ATM
 * tag names a technique or tactic that exists in the Auto-ISAC matrix.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dataset } from '../../test/datasets.js';
import { runRuleTests } from '../detect/rules/index.js';
import { loadRulePack, rulesCommand } from './rules.js';

const PACK = fileURLToPath(new URL('../../rules/detections', import.meta.url));
const atm = dataset('intel/atm/atm_v4.00.json', 'cli/rules.test.ts');

async function vigil(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(...String(s).split('\n').filter(Boolean)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (err.push(...String(s).split('\n').filter(Boolean)), true));
  try {
    await new Command('vigil').exitOverride().addCommand(rulesCommand()).parseAsync(args, { from: 'user' });
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { code, out, err };
}

afterEach(() => {
  process.exitCode = undefined;
});

const dir = mkdtempSync(join(tmpdir(), 'vigil-rules-cli-'));
const RULE = (id: string, extra = ''): string => `id: ${id}
title: Unlock at speed
status: test
level: high
tags: [ATM-T0070, R155-A5:11.1]
source: Vehicle.Cabin.Door.Row1.DriverSide.IsLocked
detection:
  unlocked: { value: false }
  fast: { state.Vehicle.Speed|gt: 60 }
  condition: unlocked and fast
${extra}`;

describe('vigil rules', () => {
  it('check: a good pack is ok; a bad one prints every problem with file, line and rule (exit 1)', async () => {
    writeFileSync(join(dir, 'good.yaml'), RULE('t.good'));
    expect(await vigil('rules', 'check', join(dir, 'good.yaml'))).toMatchObject({ code: 0, out: ['1 rules in 1 files: ok (match 1)'] });
    writeFileSync(join(dir, 'bad.yaml'), `${RULE('t.bad').replace('fast: {', 'fats: {').replace('level: high', 'level: urgent')}---\n${RULE('t.bad2', 'window: 5m\n')}`);
    const r = await vigil('rules', 'check', join(dir, 'bad.yaml'));
    expect(r.code).toBe(1);
    expect(r.err.slice(0, 2)).toEqual([
      expect.stringMatching(/bad\.yaml:4: rule t\.bad: level: Invalid option/),
      expect.stringMatching(/bad\.yaml:22: rule t\.bad2: Unrecognized key: "window"/),
    ]);
    expect(r.err.at(-1)).toBe('2 problem(s) in ' + join(dir, 'bad.yaml'));
  });

  it('test: runs samples, reports a failing one and a rule without a negative sample (exit 1)', async () => {
    const tests = `tests:
  - name: unlock at 100 km/h
    expect: alert
    events:
      - { at: 0s, signals: { Vehicle.Speed: 100 } }
      - { at: 1s, signals: { Vehicle.Cabin.Door.Row1.DriverSide.IsLocked: false } }
  - name: wrongly expected quiet
    expect: none
    events:
      - { at: 0s, signals: { Vehicle.Speed: 100 } }
      - { at: 1s, signals: { Vehicle.Cabin.Door.Row1.DriverSide.IsLocked: false } }
`;
    writeFileSync(join(dir, 'samples.yaml'), RULE('t.samples', tests));
    const r = await vigil('rules', 'test', join(dir, 'samples.yaml'));
    expect(r.code).toBe(1);
    expect(r.out).toContain('1 passed, 1 failed');
    expect(r.out.some((l) => l.startsWith('FAIL') && l.includes('"wrongly expected quiet": expected no alert, got 1'))).toBe(true);

    writeFileSync(join(dir, 'half.yaml'), RULE('t.half', tests.split('  - name: wrongly')[0]));
    const h = await vigil('rules', 'test', join(dir, 'half.yaml'));
    expect(h).toMatchObject({ code: 1 });
    expect(h.out).toContain('1 passed, 0 failed');
    expect(h.out.some((l) => l.startsWith('MISSING') && l.includes('t.half: no sample with expect: none'))).toBe(true);
  });
});

describe('the shipped rule pack (rules/detections)', () => {
  const { pack, files } = loadRulePack(PACK);

  it('compiles against the built-in catalog without problems', () => {
    expect(pack.problems).toEqual([]);
    expect(pack.disabled).toEqual([]);
    expect(files).toBeGreaterThanOrEqual(40); // issue 4: at least 40 scenarios, one a file
    expect(pack.rules.length).toBeGreaterThanOrEqual(150);
    expect(new Set(pack.rules.map((r) => r.meta.type))).toEqual(new Set(['match', 'threshold', 'sequence', 'absence', 'change', 'consistency', 'geo']));
  });

  it('passes every sample, and every rule has a matching and a non-matching one', () => {
    const report = runRuleTests(pack);
    expect(report.results.filter((r) => !r.ok).map((r) => `${r.rule} "${r.name}": ${r.reason}`)).toEqual([]);
    expect(report.uncovered).toEqual([]);
    expect(report.passed).toBeGreaterThanOrEqual(2 * pack.rules.length);
  });

  it('tags each rule with an ATM technique and an R155 Annex 5 reference', () => {
    for (const r of pack.rules) {
      expect(r.meta.tags.some((t) => /^ATM-T\d{4}$/.test(t)), r.meta.id).toBe(true);
      expect(r.meta.tags.some((t) => t.startsWith('R155-A5:')), r.meta.id).toBe(true);
    }
  });

  it.skipIf(atm.skip)('uses only ATM ids that exist in the Auto-ISAC matrix', () => {
    const matrix = JSON.parse(readFileSync(atm.path, 'utf8')) as { id: string; type: string }[];
    const known = new Set(matrix.filter((o) => o.type === 'technique' || o.type === 'tactic').map((o) => o.id));
    const used = new Set(pack.rules.flatMap((r) => r.meta.tags.filter((t) => t.startsWith('ATM-'))));
    expect(used.size).toBeGreaterThan(20);
    expect([...used].filter((t) => !known.has(t))).toEqual([]);
  });
});
