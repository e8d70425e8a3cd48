import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseSpdx } from './spdx.js';

const fixture = (f: string): string => readFileSync(fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url)), 'utf8');

describe('SPDX 2.3 JSON', () => {
  it('reads the QNX head unit: the described package is the subject, packages are components with refs and parents', () => {
    const r = parseSpdx(fixture('headunit-qnx.spdx.json'), { document: 'headunit-qnx.spdx.json', binding: { ecu: 'HU', vehicleModel: 'EV-7' } });
    expect(r.problems).toEqual([]);
    const sbom = r.sbom!;
    expect(sbom).toMatchObject({ format: 'spdx', specVersion: 'SPDX-2.3', serial: 'https://sbom.example.com/spdx/head-unit/HU-2023.6-5b1e0d5c' });
    expect(sbom.subject).toEqual({
      name: 'Head unit software', version: 'HU-2023.6', softwareVersion: 'HU-2023.6', bomRef: 'SPDXRef-headunit', cpes: [],
      type: 'firmware', supplier: 'Example Infotainment Ltd', ecu: 'HU', vehicleModel: 'EV-7',
    });
    const byRef = new Map(sbom.components.map((c) => [c.bomRef, c]));
    expect([...byRef.keys()]).toEqual(['SPDXRef-qnx-sdp', 'SPDXRef-mib3', 'SPDXRef-infotainment-ecu', 'SPDXRef-mm-renderer', 'SPDXRef-zlib']);
    expect(byRef.get('SPDXRef-qnx-sdp')).toMatchObject({
      name: 'QNX Software Development Platform', version: '6.5.0 SP1', supplier: 'BlackBerry Limited', type: 'operating-system',
      cpes: ['cpe:2.3:a:blackberry:qnx_software_development_platform:6.5.0:sp1:*:*:*:*:*:*'],
    });
    expect(byRef.get('SPDXRef-qnx-sdp')!.parents.sort()).toEqual(['SPDXRef-headunit', 'SPDXRef-mm-renderer']);
    expect(byRef.get('SPDXRef-zlib')).toMatchObject({ purl: 'pkg:generic/zlib@1.2.11', parents: ['SPDXRef-mm-renderer'] });
    expect(byRef.get('SPDXRef-mm-renderer')!.hashes).toEqual([{ algorithm: 'SHA-256', value: '2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae' }]);
  });

  it('reports bad packages, locators and relationships one by one and reads the rest', () => {
    const doc = {
      spdxVersion: 'SPDX-2.2',
      SPDXID: 'SPDXRef-DOCUMENT',
      documentDescribes: ['SPDXRef-a', 'SPDXRef-b'],
      packages: [
        { SPDXID: 'SPDXRef-a', name: 'a', versionInfo: 'NOASSERTION', externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:' }] },
        { SPDXID: 'SPDXRef-b', name: 'b', versionInfo: '1.0', externalRefs: [{ referenceCategory: 'SECURITY', referenceType: 'cpe23Type', referenceLocator: 'cpe:2.3:a:b' }] },
        { name: 'no-id' },
        { SPDXID: 'SPDXRef-a', name: 'dup' },
      ],
      relationships: [
        { spdxElementId: 'SPDXRef-a', relationshipType: 'CONTAINS', relatedSpdxElement: 'SPDXRef-ghost' },
        { spdxElementId: 'SPDXRef-a', relationshipType: 'CONTAINS', relatedSpdxElement: 'SPDXRef-b' },
        { spdxElementId: 'SPDXRef-a', relationshipType: 'CONTAINS' },
      ],
    };
    const r = parseSpdx(doc, { document: 'bad' });
    expect(r.sbom!.components.map((c) => [c.bomRef, c.version, c.purl, c.cpes, c.parents])).toEqual([
      ['SPDXRef-a', undefined, undefined, [], []],
      ['SPDXRef-b', '1.0', undefined, [], ['SPDXRef-a']],
    ]);
    expect(r.sbom!.subject).toBeUndefined();
    const text = r.problems.join('\n');
    for (const p of ['SPDX-2.2: read as SPDX-2.3', 'packages[0] (a): purl "pkg:" does not parse', 'packages[1] (b): cpe23Type "cpe:2.3:a:b"', 'packages[2]: no SPDXID, skipped', 'packages[3]: duplicate SPDXID SPDXRef-a', 'relationships[0]: CONTAINS names unknown element SPDXRef-ghost', 'relationships[2]: incomplete', 'describes 2 packages']) {
      expect(text).toContain(p);
    }
  });

  it('refuses what is not SPDX 2 JSON', () => {
    expect(parseSpdx({ spdxVersion: 'SPDX-3.0' }, { document: 'x' })).toEqual({ problems: ['spdxVersion is "SPDX-3.0", not SPDX-2.x'] });
    expect(parseSpdx('nope', { document: 'x' }).problems[0]).toMatch(/^not JSON/);
  });
});
