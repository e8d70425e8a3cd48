import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SignalCatalog, flattenVss, type SignalSpec } from './catalog.js';

/** ../shared/datasets/vss from the project root (see /shared/datasets/README.md). */
const VSS_DIR = fileURLToPath(new URL('../../../shared/datasets/vss/', import.meta.url));
const missing = !existsSync(VSS_DIR);
const inCi = process.env.CI === 'true';
if (missing && !inCi) console.warn(`catalog.test: skipping the VSS dataset tests, ${VSS_DIR} not found (under CI=true this fails)`);

const load = (file: string): SignalSpec[] => flattenVss(JSON.parse(readFileSync(join(VSS_DIR, file), 'utf8')));
const KNOWN_TYPES = new Set(['boolean', 'string', 'uint8', 'uint16', 'uint32', 'uint64', 'int8', 'int16', 'int32', 'int64', 'float', 'double']);

describe.skipIf(missing && !inCi)('flattenVss on the shared VSS exports', () => {
  it('finds the dataset', () => {
    expect(existsSync(VSS_DIR), `VSS datasets expected at ${VSS_DIR}`).toBe(true);
  });

  it('loads every .json file in the folder into unique, well-typed leaves', () => {
    const files = readdirSync(VSS_DIR).filter((f) => f.endsWith('.json')).sort();
    expect(files).toEqual(expect.arrayContaining(['vss_release_4.0.json', 'vss_release_6.0.json']));
    for (const file of files) {
      const specs = load(file);
      expect(specs.length, file).toBeGreaterThan(500);
      expect(new Set(specs.map((s) => s.path)).size, `${file}: duplicate paths`).toBe(specs.length);
      for (const s of specs) {
        expect(s.path, file).toMatch(/^Vehicle(\.[A-Za-z0-9_]+)+$/);
        expect(['sensor', 'actuator', 'attribute'], `${file} ${s.path}`).toContain(s.kind);
        expect(KNOWN_TYPES.has(s.datatype.replace(/\[\]$/, '')), `${file} ${s.path}: ${s.datatype}`).toBe(true);
        if (s.min !== undefined && s.max !== undefined) expect(s.min, `${file} ${s.path}`).toBeLessThanOrEqual(s.max);
      }
      // A catalog takes every leaf without loss.
      expect(new SignalCatalog(specs).size, file).toBe(specs.length);
    }
  });

  it('counts the VSS 6.0 leaves as the release does: 1,263 = 490 sensors + 643 actuators + 130 attributes', () => {
    const specs = load('vss_release_6.0.json');
    const count = (kind: string): number => specs.filter((s) => s.kind === kind).length;
    expect(specs).toHaveLength(1263);
    expect(count('sensor')).toBe(490);
    expect(count('actuator')).toBe(643);
    expect(count('attribute')).toBe(130);
  });

  it('counts 910 leaves in VSS 4.0, and sees what changed between the releases', () => {
    const v4 = load('vss_release_4.0.json');
    const v6 = load('vss_release_6.0.json');
    expect(v4).toHaveLength(910);
    const paths6 = new Set(v6.map((s) => s.path));
    const removed = v4.filter((s) => !paths6.has(s.path)).map((s) => s.path);
    // The refuel port moved from the body to the fuel system between the releases.
    expect(removed).toContain('Vehicle.Body.RefuelPosition');
    expect(paths6.has('Vehicle.Powertrain.FuelSystem.RefuelPortPosition')).toBe(true);
    expect(v4.some((s) => s.path === 'Vehicle.Powertrain.FuelSystem.RefuelPortPosition')).toBe(false);
  });

  it('keeps units, bounds and allowed values, and fills integer bounds from the datatype', () => {
    const catalog = new SignalCatalog(load('vss_release_6.0.json'), new Map(), 'vss-6.0');
    expect(catalog.get('Vehicle.Speed')).toMatchObject({ datatype: 'float', kind: 'sensor', unit: 'km/h', numeric: true, integer: false });
    expect(catalog.get('Vehicle.CurrentLocation.Latitude')).toMatchObject({ min: -90, max: 90, unit: 'degrees' });
    expect(catalog.get('Vehicle.Powertrain.Transmission.CurrentGear')).toMatchObject({ min: -128, max: 127, integer: true });
    expect(catalog.get('Vehicle.LowVoltageSystemState')?.allowed).toEqual(['UNDEFINED', 'LOCK', 'OFF', 'ACC', 'ON', 'START']);
    expect(catalog.get('Vehicle.VehicleIdentification.VIN')).toMatchObject({ kind: 'attribute', numeric: false });
  });

  it('keeps ids stable when rebuilt with the persisted dictionary', () => {
    const specs = load('vss_release_6.0.json');
    const first = new SignalCatalog(specs.slice(0, 800));
    const again = new SignalCatalog([...specs].reverse(), first.idMap());
    for (const { id, path } of first.dictionary()) expect(again.get(path)?.id).toBe(id);
    expect(again.size).toBe(1263);
    expect(again.idLimit).toBe(1263);
  });
});

describe('flattenVss', () => {
  it('refuses what is not a JSON object', () => {
    expect(() => flattenVss(null)).toThrow(TypeError);
    expect(() => flattenVss('Vehicle')).toThrow(TypeError);
  });

  it('walks branches and skips leaves without a datatype', () => {
    const specs = flattenVss({
      Vehicle: {
        type: 'branch',
        children: {
          Speed: { type: 'sensor', datatype: 'float', unit: 'km/h' },
          Cabin: { type: 'branch', children: { Door: { type: 'actuator', datatype: 'boolean' }, Odd: { type: 'sensor' } } },
        },
      },
    });
    expect(specs.map((s) => s.path)).toEqual(['Vehicle.Speed', 'Vehicle.Cabin.Door']);
  });
});
