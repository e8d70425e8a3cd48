import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dataset } from '../../../test/datasets.js';
import { parseCycloneDx } from './cyclonedx.js';
import { cycloneDxValidator } from './schema.js';

const SCHEMAS = fileURLToPath(new URL('../../../node_modules/@cyclonedx/cyclonedx-library/res/schema/', import.meta.url));
const schema = (f: string): object => JSON.parse(readFileSync(`${SCHEMAS}${f}`, 'utf8')) as object;
const validate = cycloneDxValidator({
  bom: { '1.4': schema('bom-1.4.SNAPSHOT.schema.json'), '1.5': schema('bom-1.5.SNAPSHOT.schema.json'), '1.6': schema('bom-1.6.SNAPSHOT.schema.json') },
  spdx: schema('spdx.SNAPSHOT.schema.json'),
  jsf: schema('jsf-0.82.SNAPSHOT.schema.json'),
});
const fixture = (f: string): string => readFileSync(fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url)), 'utf8');
const cdx = dataset('intel/cyclonedx', 'cyclonedx.test');

describe.skipIf(cdx.skip)('CycloneDX files of the shared datasets', () => {
  const files = cdx.present ? readdirSync(cdx.path).filter((f) => f.endsWith('.json')).sort() : [];
  it('finds the four files', () => {
    expect(files).toHaveLength(4);
  });
  it.each(files)('%s parses and is schema-valid', (f) => {
    const r = parseCycloneDx(readFileSync(`${cdx.path}/${f}`, 'utf8'), { document: f, validate });
    expect(r.problems).toEqual([]);
    expect(r.sbom?.format).toBe('cyclonedx');
    expect(r.sbom?.subject?.name).toBeTruthy();
  });
  it('reads the MBOM board: components, suppliers, subject', () => {
    const r = parseCycloneDx(readFileSync(`${cdx.path}/MBOM_PCIe-SATA-adapter-board_bom.json`, 'utf8'), { document: 'mbom' });
    expect(r.sbom!.subject).toMatchObject({ name: 'pcie-sata-adaptor-board', version: 'rev-1', bomRef: 'pcie-sata-adaptor-board' });
    expect(r.sbom!.components.find((c) => c.bomRef === 'PCIE-098-02-F-D-EMS2')).toMatchObject({ name: 'PCIE-098-02-F-D-EMS2', version: '2.9.10', supplier: 'Samtec', type: 'device' });
  });
  it('reads a VEX document for its subject (its vulnerabilities are the VEX importer\'s)', () => {
    const r = parseCycloneDx(readFileSync(`${cdx.path}/VEX_CISA_Case-1_vex-not_affected.json`, 'utf8'), { document: 'vex' });
    expect(r.sbom!.subject).toMatchObject({ name: 'ABC', version: '4.2', bomRef: 'product-ABC' });
    expect(r.sbom!.components).toEqual([]);
  });
});

describe('CycloneDX 1.6 fixtures', () => {
  it('the TCU SBOM is valid 1.6 and reads into components with identities, nesting and dependencies', () => {
    const r = parseCycloneDx(fixture('tcu-linux.cdx.json'), { document: 'tcu-linux.cdx.json', validate });
    expect(r.problems).toEqual([]);
    const sbom = r.sbom!;
    expect(sbom).toMatchObject({ specVersion: '1.6', serial: 'urn:uuid:6f1c2a8e-0b1d-4c55-9d51-3f0c6d2b7a10' });
    expect(sbom.subject).toEqual({ name: 'TCU firmware', version: '4.2.1', bomRef: 'tcu-fw', cpes: [], type: 'firmware', supplier: 'Example Telematics GmbH', vehicleModel: 'EV-7', ecu: 'TCU', softwareVersion: '4.2.1' });
    expect(sbom.components.map((c) => c.bomRef)).toEqual(['linux-kernel', 'openssl', 'libssl1.1', 'busybox', 'bluez', 'i18next', 'modem', 'baseband']);
    const byRef = new Map(sbom.components.map((c) => [c.bomRef, c]));
    expect(byRef.get('openssl')).toMatchObject({ purl: 'pkg:deb/debian/openssl@1.1.1n-0+deb11u4?arch=armhf&distro=debian-11', cpes: ['cpe:2.3:a:openssl:openssl:1.1.1n:*:*:*:*:*:*:*'], supplier: 'Debian' });
    expect(byRef.get('libssl1.1')!.parents).toEqual(['openssl']);
    expect(byRef.get('linux-kernel')!.parents.sort()).toEqual(['bluez', 'tcu-fw']);
    expect(byRef.get('linux-kernel')!.hashes).toEqual([{ algorithm: 'SHA-256', value: '3f6b2c1d9a0e4b7c8d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4' }]);
    expect(byRef.get('baseband')!.version).toBeUndefined();
  });

  it('the AUTOSAR gateway SBOM is valid and binds to an ECU; a caller binding overrides the document', () => {
    const r = parseCycloneDx(fixture('autosar-gateway.cdx.json'), { document: 'cgw', validate, binding: { softwareVersion: 'GW-11.3.0-hotfix1', vehicleModel: 'EV-7 (2027)' } });
    expect(r.problems).toEqual([]);
    expect(r.sbom!.subject).toMatchObject({ ecu: 'CGW', vehicleModel: 'EV-7 (2027)', softwareVersion: 'GW-11.3.0-hotfix1', version: 'GW-11.3.0' });
    expect(r.sbom!.components).toHaveLength(5);
    expect(r.sbom!.components.find((c) => c.bomRef === 'hsm')!.parents).toEqual(['microsar']);
  });
});

describe('CycloneDX bad input: reported per item, the rest is read', () => {
  it('reports bad purl, bad CPE, missing names, duplicate refs and dangling dependencies', () => {
    const doc = {
      bomFormat: 'CycloneDX',
      specVersion: '1.5',
      components: [
        { type: 'library', 'bom-ref': 'a', name: 'a', version: '1', purl: 'not-a-purl' },
        { type: 'library', 'bom-ref': 'b', name: 'b', version: '2', cpe: 'cpe:2.3:a:x:b' },
        { type: 'library', 'bom-ref': 'c', version: '3' },
        { type: 'library', 'bom-ref': 'a', name: 'a2', version: '4' },
        'junk',
      ],
      dependencies: [{ ref: 'a', dependsOn: ['b', 'ghost'] }, { dependsOn: ['a'] }],
    };
    const r = parseCycloneDx(doc, { document: 'bad', validate });
    expect(r.sbom!.components.map((c) => [c.bomRef, c.name, c.purl, c.cpes.length])).toEqual([
      ['a', 'a', undefined, 0],
      ['b', 'b', undefined, 0],
      ['a#dup-3', 'a2', undefined, 0],
    ]);
    const text = r.problems.join('\n');
    expect(text).toContain('components[0] (a): purl "not-a-purl" does not parse');
    expect(text).toContain('components[1] (b): cpe "cpe:2.3:a:x:b"');
    expect(text).toContain('components[2] (c): no name, skipped');
    expect(text).toContain('components[3]: duplicate bom-ref "a"');
    expect(text).toContain('components[4]: not an object');
    expect(text).toContain('dependencies[0]: dependsOn "ghost" names no component');
    expect(text).toContain('dependencies[1]: no ref');
    expect(text).toMatch(/schema: \/components\/4 must be object/);
    expect(r.sbom!.components[1]!.parents).toEqual(['a']);
  });

  it('refuses what is not CycloneDX JSON, with the reason', () => {
    expect(parseCycloneDx('{', { document: 'x' }).problems[0]).toMatch(/^not JSON/);
    expect(parseCycloneDx({ bomFormat: 'SPDX' }, { document: 'x' })).toEqual({ problems: ['bomFormat is "SPDX", not "CycloneDX"'] });
  });
});
