/** Template suggestions on real CVE records (../shared/datasets/intel), read by the feed importer. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataset } from '../../../test/datasets.js';
import { importFeedDocuments } from '../feeds/index.js';
import { newVulnerability, type Vulnerability } from '../model.js';
import { parseTemplates, renderDetection, suggestTemplates } from './index.js';

const DIR = join(import.meta.dirname, '../../../rules/templates');
const { templates } = parseTemplates(readdirSync(DIR).map((f) => ({ file: f, text: readFileSync(join(DIR, f), 'utf8') })));
const intel = dataset('intel', 'intel/templates/suggest.test.ts');

function load(...names: string[]): Map<string, Vulnerability> {
  const docs = names.map((n) => ({ name: n, text: readFileSync(join(intel.path, n), 'utf8') }));
  return new Map(importFeedDocuments(docs).vulnerabilities.map((v) => [v.id, v]));
}

describe.skipIf(intel.skip)('suggestTemplates on real CVE records', () => {
  // The describe body runs at collection even when skipped: read the files only when they are there.
  const vulns = intel.skip ? new Map<string, Vulnerability>() : load('cve5/CVE-2017-1000251.json', 'nvd/CVE-2017-1000251.json', 'cve5/CVE-2017-9633.json', 'cve5/CVE-2017-9647.json', 'cve5/CVE-2023-29389.json', 'cve5/CVE-2023-32156.json', 'cve5/CVE-2024-45431.json');
  const first = (id: string) => suggestTemplates(templates, vulns.get(id)!)[0];

  it('BlueBorne (CVE-2017-1000251): the Bluetooth template first, for its CWE, attack vector and L2CAP', () => {
    const s = first('CVE-2017-1000251')!;
    expect(s.template).toBe('bluetooth-stack-rce');
    expect(s.reasons).toEqual(expect.arrayContaining(['CWE-787', 'AV:A', "'l2cap' in the description"]));
    expect(s.summary).toMatch(/^CWE-787 and AV:A and .*'l2cap' in the description.* -> bluetooth-stack-rce$/);
    // Its NVD CPEs name enterprise_linux_server: no reason to offer the back-end template.
    expect(suggestTemplates(templates, vulns.get('CVE-2017-1000251')!).map((x) => x.template)).not.toContain('backend-api-bola');
  });

  it('the S-Gold 2 TCU baseband CVEs (CVE-2017-9633, CVE-2017-9647): the cellular/TCU template first', () => {
    expect(first('CVE-2017-9633')!.template).toBe('cellular-tcu-rce');
    const s = first('CVE-2017-9647')!;
    expect(s.template).toBe('cellular-tcu-rce');
    expect(s.reasons).toEqual(expect.arrayContaining(['CWE-121', "'baseband' in the description"]));
  });

  it('CAN injection at the headlight connector, the gateway signature bypass, BlueSDK', () => {
    expect(first('CVE-2023-29389')!.template).toBe('can-injection-gateway');
    expect(first('CVE-2023-32156')!.template).toBe('ota-signature-bypass');
    expect(first('CVE-2024-45431')!.template).toBe('bluetooth-stack-rce');
  });

  it('a record with nothing that places it in a vehicle component gets no suggestion', () => {
    const bare: Vulnerability = { ...newVulnerability('CVE-2099-0002', []), description: 'A memory leak in a library.' };
    expect(suggestTemplates(templates, bare)).toEqual([]);
  });

  it('the rendered BlueBorne detection names the CVE in id, title, description, tags and details', () => {
    const r = renderDetection(templates.find((t) => t.id === 'bluetooth-stack-rce')!, { faults: 4, window: '5m' }, vulns.get('CVE-2017-1000251')!);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.id).toBe('custom.bluetooth-stack-rce.cve-2017-1000251');
    expect(r.yaml).toContain('title: Bluetooth faults followed by an unexpected head-unit action (CVE-2017-1000251)');
    expect(r.yaml).toMatch(/description: .*for CVE-2017-1000251: The native Bluetooth stack/);
    expect(r.yaml).toContain('- cve:CVE-2017-1000251');
    expect(r.yaml).toMatch(/details:\n {2}intel: CVE-2017-1000251\n {2}cve: CVE-2017-1000251\n {2}template: bluetooth-stack-rce/);
    expect(r.yaml).toMatch(/timespan: 5m/);
  });
});

describe('bad parameters name their field', () => {
  const t = templates.find((x) => x.id === 'backend-api-bola')!;
  const v = newVulnerability('CVE-2099-0003', []);
  it.each([
    [{ vehicles: 1 }, 'params.vehicles', /out of bounds: from 2 to 1000/],
    [{ vehicles: 'many' }, 'params.vehicles', /integer/],
    [{ window: '10 minutes' }, 'params.window', /duration/],
    [{ window: '2d' }, 'params.window', /out of bounds/],
    [{ endpoint_prefix: 'vehicles' }, 'params.endpoint_prefix', /matching/],
    [{ level: 'urgent' }, 'params.level', /one of medium, high, critical/],
    [{ colour: 'red' }, 'params.colour', /not a parameter/],
  ])('%j -> %s', (params, field, message) => {
    const r = renderDetection(t, params, v);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toEqual([expect.objectContaining({ field, message: expect.stringMatching(message) })]);
  });
  it('text values from the command line are read as their types', () => {
    const r = renderDetection(t, { vehicles: '25', window: '30m' }, v);
    expect(r.ok && r.params).toMatchObject({ vehicles: 25, window: '30m' });
  });
});
