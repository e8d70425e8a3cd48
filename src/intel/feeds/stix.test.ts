import { describe, expect, it } from 'vitest';
import { parseStix } from './stix.js';

const t = '2024-01-01T00:00:00.000Z';
const bundle = {
  type: 'bundle',
  id: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d',
  objects: [
    {
      type: 'indicator',
      spec_version: '2.1',
      id: 'indicator--a740531e-63ff-4e49-a9e1-a0a3eed0e3e7',
      created: t,
      modified: t,
      name: 'TCU C2',
      pattern: "[ipv4-addr:value = '203.0.113.7' OR domain-name:value = 'c2.example.net'] OR [url:value = 'https://c2.example.net/ota']",
      pattern_type: 'stix',
      valid_from: t,
      valid_until: '2025-01-01T00:00:00.000Z',
      kill_chain_phases: [{ kill_chain_name: 'mitre-attack', phase_name: 'command-and-control' }],
    },
    { type: 'vulnerability', spec_version: '2.1', id: 'vulnerability--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061', created: t, modified: t, name: 'Gateway firmware bypass', external_references: [{ source_name: 'cve', external_id: 'CVE-2023-32156' }] },
    { type: 'relationship', spec_version: '2.1', id: 'relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad', created: t, modified: t, relationship_type: 'indicates', source_ref: 'indicator--a740531e-63ff-4e49-a9e1-a0a3eed0e3e7', target_ref: 'vulnerability--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061' },
    { type: 'indicator', spec_version: '2.1', id: 'indicator--b740531e-63ff-4e49-a9e1-a0a3eed0e3e7', created: t, modified: t, pattern: 'alert tcp any any -> any 443', pattern_type: 'snort', valid_from: t },
  ],
};

describe('STIX 2.1 bundles', () => {
  it('indicators with OR across and within observations, a vulnerability SDO linked by relationship', () => {
    const r = parseStix(bundle, 'b.json');
    expect(r.report.map((l) => l.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    const [c2, snort] = r.indicators;
    expect(c2!.parsed!.anyOf.map((g) => g.map((o) => `${o.kind}=${o.value}`))).toEqual([['ipv4=203.0.113.7'], ['domain=c2.example.net'], ['url=https://c2.example.net/ota']]);
    expect(c2).toMatchObject({ validUntil: '2025-01-01T00:00:00.000Z', killChain: [{ killChainName: 'mitre-attack', phaseName: 'command-and-control' }], vulnerabilities: ['CVE-2023-32156'] });
    expect(c2!.indicates).toEqual([{ id: 'vulnerability--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061', type: 'vulnerability', name: 'Gateway firmware bypass' }]);
    expect(r.vulnerabilities).toEqual([expect.objectContaining({ id: 'CVE-2023-32156', aliases: ['vulnerability--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061'], title: 'Gateway firmware bypass' })]);
    // a non-STIX pattern type is kept as text, said in a note
    expect(snort!.parsed).toBeUndefined();
    expect(r.report[3]!.notes).toEqual(["pattern_type 'snort' is kept as text, not parsed"]);
  });

  it('a 2.1 object missing spec_version and pattern_type is partial; a relationship to an absent object is reported', () => {
    const b = structuredClone(bundle);
    delete (b.objects[0] as Record<string, unknown>).spec_version;
    delete (b.objects[0] as Record<string, unknown>).pattern_type;
    b.objects[2]!.target_ref = 'malware--00000000-0000-4000-8000-000000000000';
    const r = parseStix(b, 'b.json');
    expect(r.report[0]!.status).toBe('partial');
    expect(r.report[0]!.problems).toEqual([
      'schema: spec_version: Invalid input: expected "2.1"',
      'schema: pattern_type: Invalid input: expected string, received undefined',
    ]);
    expect(r.report[2]!.problems).toEqual(['target malware--00000000-0000-4000-8000-000000000000 is not in this bundle']);
    expect(r.indicators[0]!.vulnerabilities).toEqual([]);
  });

  it('not a bundle: one rejected line', () => {
    expect(parseStix({ objects: 3 }, 'x.json').report).toEqual([expect.objectContaining({ status: 'rejected', recordId: '(document)' })]);
  });
});
