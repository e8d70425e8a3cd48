import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { dataset } from '../../test/datasets.js';
import { evalCommand, learnCommand } from './eval.js';

const daga = dataset('can/daga', 'vigil eval can');
const dir = mkdtempSync(join(tmpdir(), 'vigil-eval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function vigil(...args: string[]): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  const env = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } };
  const program = new Command('vigil').exitOverride().addCommand(evalCommand(env)).addCommand(learnCommand(env));
  await program.parseAsync(args, { from: 'user' });
  return { out, err };
}

describe.skipIf(daga.skip)('vigil learn can / vigil eval can', () => {
  const clean = `${daga.path}/clean/V40_03.can.zip`;
  const fuzz = `${daga.path}/infected/MessageIDFuzzing/V40_03.can.zip`;
  const profile = join(dir, 'v40.json');

  it('learns a profile from a clean DAGA trace and writes it as JSON', async () => {
    const { out } = await vigil('learn', 'can', '--train', clean, '--out', profile);
    expect(out).toMatch(/v40\.json: 50 ids from 245,144 frames \(153\.2 s\); 2-grams off \(held-out unseen 4\.\d\d %\)/);
    const json = JSON.parse(readFileSync(profile, 'utf8'));
    expect(json).toMatchObject({ format: 'vigil-can-profile/1', trainedFrames: 245_144 });
  });

  it('scores a labelled trace with the saved profile: one JSON object per test file', async () => {
    const { out } = await vigil('eval', 'can', '--profile', profile, '--test', fuzz, '--json');
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ file: fuzz, frames: 245_297, attack_frames: 153, precision: 1, recall: 1, f1: 1, false_alerts_per_hour: 0, episodes: 130, episodes_detected: 130 });
  });

  it('learns and scores in one go, as a table', async () => {
    const dos = `${daga.path}/infected/DenialOfService/lowestID_V40_03.can.zip`;
    const { out } = await vigil('eval', 'can', '--train', clean, '--test', dos, '--layout', 'daga');
    const [head, row] = out.trim().split('\n');
    expect(head).toMatch(/^file +frames +attacks +precision +recall +F1 +false alerts +FA\/h +episodes +latency p50\/max ms$/);
    expect(row).toMatch(/lowestID_V40_03\.can\.zip +254164 +13860 +1\.0000 +0\.9999 +0\.9999 +0 +0\.0 +145\/145/);
  });

  it('refuses --cv with a saved profile, and a profile that is not one', async () => {
    await expect(vigil('eval', 'can', '--profile', profile, '--test', fuzz, '--cv', '3')).rejects.toThrow(ConfigError);
    await expect(vigil('eval', 'can', '--profile', fuzz, '--test', fuzz)).rejects.toThrow(/cannot read the profile/);
  });
});
