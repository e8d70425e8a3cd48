/**
 * The `can` config section: its schema, and the loader that reads and binds the files before
 * start-up, reporting every problem at once.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { parseConfig } from '../runtime/config.js';
import { defaultCatalog } from '../sim/default-catalog.js';
import { loadCanBindings } from './can-config.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-can-config-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const dbc = file('car.dbc', 'BO_ 16 Motion: 8 ECU\n SG_ Speed : 0|16@1+ (0.01,0) [0|655.35] "km/h" X\n');
const good = file('car.vss.yaml', 'version: 1\nsignals:\n  - { signal: Motion.Speed, path: Vehicle.Speed }\n');
const problems = (f: () => unknown): readonly string[] => {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
};

describe('can config', () => {
  it('defaults to no DBC, and checks the shape of entries', () => {
    expect(parseConfig({}).can).toEqual({ dbc: [], ids: [] });
    expect(problems(() => parseConfig({ can: { dbc: [{ file: 'a.dbc', mapping: 'a.yaml', match: { vin: 'yv1', fleet: 'x' } }] } }))).toEqual([
      'can.dbc.0.match.vin: a VIN prefix: up to 17 of A-Z (not I, O, Q) and 0-9',
      'can.dbc.0.match: Unrecognized key: "fleet"',
    ]);
  });

  it('loads DBC and mapping texts for the lanes, keeping the match', () => {
    const c = parseConfig({ can: { dbc: [{ file: dbc, mapping: good, match: { tenant: 'acme', vin: 'YV1' } }] } }).can;
    const [b] = loadCanBindings(c, defaultCatalog());
    expect(b).toMatchObject({ dbcFile: dbc, mappingFile: good, match: { tenant: 'acme', vin: 'YV1' } });
    expect(b!.dbcText).toContain('BO_ 16 Motion');
  });

  it('reports every problem of every entry at once: missing files, DBC errors, mapping and binding problems', () => {
    const badDbc = file('bad.dbc', 'BO_ 16 Motion 8 ECU\n');
    const badMap = file('bad.vss.yaml', 'version: 1\nsignals:\n  - { signal: Motion.Nope, path: Vehicle.Nope }\n');
    const c = parseConfig({ can: { dbc: [
      { file: join(dir, 'absent.dbc'), mapping: good },
      { file: badDbc, mapping: good },
      { file: dbc, mapping: badMap },
    ] } }).can;
    const p = problems(() => loadCanBindings(c, defaultCatalog()));
    expect(p).toEqual([
      expect.stringMatching(/^can\.dbc\.0\.file: ENOENT/),
      `can.dbc.1: ${badDbc}:1:15: error: BO_: expected ':' after the message name, found number 8`,
      `can.dbc.2: ${badMap}:3:5: signals.0.signal: Motion.Nope: message Motion has no signal Nope`,
      `can.dbc.2: ${badMap}:3:5: signals.0.path: Vehicle.Nope is not in the signal catalog`,
    ]);
  });
});
