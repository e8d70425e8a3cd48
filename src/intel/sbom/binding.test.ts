import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SbomIndex, runsOn } from './binding.js';
import { parseCycloneDx } from './cyclonedx.js';
import { parseSpdx } from './spdx.js';

const fixture = (f: string): string => readFileSync(fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url)), 'utf8');

describe('SBOM to vehicle binding', () => {
  const tcu = parseCycloneDx(fixture('tcu-linux.cdx.json'), { document: 'tcu' }).sbom!; // EV-7, TCU 4.2.1
  const cgw = parseCycloneDx(fixture('autosar-gateway.cdx.json'), { document: 'cgw' }).sbom!; // EV-7, CGW GW-11.3.0
  const huUnbound = parseSpdx(fixture('headunit-qnx.spdx.json'), { document: 'hu' }).sbom!;
  const hu = parseSpdx(fixture('headunit-qnx.spdx.json'), { document: 'hu', binding: { ecu: 'HU' } }).sbom!;

  it('a vehicle runs the SBOMs of its ECU software versions, for its model', () => {
    const index = new SbomIndex([tcu, cgw, hu, huUnbound]);
    const car = { model: 'EV-7', software: { tcu: '4.2.1', CGW: 'GW-11.3.0', HU: 'HU-2023.6' } };
    expect(index.forVehicle(car).map((s) => s.document).sort()).toEqual(['cgw', 'hu', 'tcu']);
    expect(index.forVehicle({ model: 'EV-7', software: { TCU: '4.2.2' } })).toEqual([]);
    // the TCU SBOM names its vehicle model: another model with the same TCU version does not run it
    expect(index.forVehicle({ model: 'EV-9', software: { TCU: '4.2.1', HU: 'HU-2023.6' } }).map((s) => s.document)).toEqual(['hu']);
    expect(index.unbound).toEqual([{ sbom: huUnbound, reason: 'subject Head unit software names no ECU (bind one)' }]);
  });

  it('runsOn agrees for one SBOM', () => {
    expect(runsOn(tcu, { model: 'ev-7', software: { TCU: '4.2.1' } })).toBe(true);
    expect(runsOn(tcu, { software: { TCU: '4.2.1' } })).toBe(false);
    expect(runsOn(huUnbound, { software: { HU: 'HU-2023.6' } })).toBe(false);
  });
});
