/** `vigil dbc check` through its commander command, as main.ts registers it. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dataset } from '../../test/datasets.js';
import { dbcCommand } from './dbc.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-dbc-cli-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const good = file('good.dbc', 'BO_ 16 Motion: 8 ECU\n SG_ Speed : 0|16@1+ (0.01,0) [0|655.35] "km/h" X\n SG_ Far : 60|8@1+ (1,0) [0|1] "" X\n');
const bad = file('bad.dbc', 'BO_ 16 Motion: 8 ECU\n SG_ Speed : 0|16@3+ (0.01,0) [0|655.35] "km/h" X\nBO_ 17 Other 8 ECU\n');

async function vigil(...args: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    lines.push(...String(s).split('\n').filter(Boolean));
    return true;
  });
  try {
    await new Command('vigil').exitOverride().addCommand(dbcCommand()).parseAsync(args, { from: 'user' });
  } finally {
    spy.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { code, lines };
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('vigil dbc check', () => {
  it('reports messages, signals, warnings and errors per file at file:line:col, and exits 1 on any error', async () => {
    const r = await vigil('dbc', 'check', good, bad, join(dir, 'absent.dbc'));
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([
      `${good}: 1 messages, 2 signals, 0 error(s), 1 warning(s)`,
      `  ${good}:3:2: warning: signal Far (start bit 60, 8 bits, Intel) needs 9 byte(s) but message Motion declares 8: decoded only from frames long enough`,
      `${bad}: 1 messages, 0 signals, 2 error(s), 0 warning(s)`,
      `  ${bad}:2:19: error: SG_: byte order must be 0 (Motorola) or 1 (Intel), found 3`,
      `  ${bad}:3:14: error: BO_: expected ':' after the message name, found number 8`,
      `${join(dir, 'absent.dbc')}: 0 messages, 0 signals, 1 error(s), 0 warning(s)`,
      expect.stringMatching(/^ {2}\S+absent\.dbc: error: ENOENT/),
      '3 files: 2 messages, 2 signals, 3 error(s), 1 warning(s)',
    ]);
  });

  it('exits 0 on warnings only, and prints one JSON object per file with --json', async () => {
    const r = await vigil('dbc', 'check', '--json', good);
    expect(r.code).toBe(0);
    expect(r.lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      { file: good, messages: 1, signals: 2, errors: [], warnings: [{ line: 3, col: 2, message: expect.stringContaining('signal Far') }] },
    ]);
  });

  it('binds a mapping to the DBC and the catalog with --mapping', async () => {
    const ok = file('ok.vss.yaml', 'version: 1\nsignals:\n  - { signal: Motion.Speed, path: Vehicle.Speed }\n');
    const wrong = file('wrong.vss.yaml', 'version: 1\nsignals:\n  - { signal: Motion.Speed, path: Vehicle.Body.Lights.Beam.High.IsOn }\n');
    expect(await vigil('dbc', 'check', good, '--mapping', ok)).toMatchObject({ code: 0, lines: [expect.anything(), expect.anything(), `${ok}: ok, 1 signal(s) mapped to VSS`] });
    // Not in the built-in catalog; with the VSS 6.0 catalog it is, and a boolean takes the value as is.
    const r = await vigil('dbc', 'check', good, '--mapping', wrong);
    expect(r.code).toBe(1);
    expect(r.lines.slice(2)).toEqual([`${wrong}: 1 problem(s)`, `  ${wrong}:3:5: signals.0.path: Vehicle.Body.Lights.Beam.High.IsOn is not in the signal catalog`]);
    const vss = dataset('vss/vss_release_6.0.json', 'cli/dbc.test.ts');
    if (!vss.skip) expect((await vigil('dbc', 'check', good, '--mapping', wrong, '--vss', vss.path)).code).toBe(0);
  });

  const volvo = dataset('dbc/opendbc/volvo_v40_2017_pt.dbc', 'cli/dbc.test.ts');
  const vss = dataset('vss/vss_release_6.0.json', 'cli/dbc.test.ts');
  it.skipIf(volvo.skip || vss.skip)('checks the shipped Volvo V40 mapping', async () => {
    const mapping = fileURLToPath(new URL('../../rules/can/volvo_v40_2017_pt.vss.yaml', import.meta.url));
    const r = await vigil('dbc', 'check', volvo.path, '--mapping', mapping, '--vss', vss.path, '--json');
    expect(r.code).toBe(0);
    const [dbcReport, mappingReport] = r.lines.map((l) => JSON.parse(l) as { messages: number; errors: unknown[]; mapped: number; problems: unknown[] });
    expect(dbcReport).toMatchObject({ errors: [] });
    expect(dbcReport!.messages).toBeGreaterThan(50);
    expect(mappingReport).toMatchObject({ problems: [], mapped: 19 });
  });
});
