/**
 * Bad input is reported per record, never thrown and never a failed batch: truncated JSON,
 * empty files, wrong types, missing required fields, unknown formats, unscorable vectors.
 * Documents are real records from the shared datasets, damaged in one place.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dataset } from '../../../test/datasets.js';
import { importFeedDocuments } from './index.js';

const intel = dataset('intel', 'intel/feeds/malformed.test.ts');
const read = (f: string): string => readFileSync(`${intel.path}/${f}`, 'utf8');
const json = (f: string): Record<string, any> => JSON.parse(read(f)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('documents that cannot be read at all', () => {
  it('empty, whitespace, truncated JSON, unknown JSON: one rejected line each, the good document beside them imports', () => {
    const good = '{"id":"GHSA-aaaa-bbbb-cccc","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2024-0001"],"affected":[{"package":{"ecosystem":"npm","name":"x"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.3"}]}]}]}';
    const r = importFeedDocuments([
      { name: 'empty.json', text: '' },
      { name: 'blank.json', text: '  \n' },
      { name: 'truncated.json', text: good.slice(0, 60) },
      { name: 'unknown.json', text: '{"hello":"world"}' },
      { name: 'csv.txt', text: 'a,b,c\n1,2,3\n' },
      { name: 'good.json', text: good },
    ]);
    const by = Object.fromEntries(r.report.map((l) => [l.document, l]));
    expect(by['empty.json']).toMatchObject({ status: 'rejected', problems: ['empty document'] });
    expect(by['blank.json']).toMatchObject({ status: 'rejected', problems: ['empty document'] });
    expect(by['truncated.json']!.status).toBe('rejected');
    expect(by['truncated.json']!.problems[0]).toMatch(/^not valid JSON: /);
    expect(by['unknown.json']!.problems[0]).toMatch(/^format not recognised/);
    expect(by['csv.txt']!.status).toBe('rejected');
    expect(by['good.json']).toMatchObject({ status: 'ok', recordId: 'GHSA-aaaa-bbbb-cccc' });
    expect(r.vulnerabilities.map((v) => v.id)).toEqual(['CVE-2024-0001']);
  });

  it.skipIf(intel.skip)('a real CVE 5 record cut in half is rejected with the JSON error', () => {
    const text = read('cve5/CVE-2024-26925.json');
    const r = importFeedDocuments([{ name: 'cut.json', text: text.slice(0, text.length / 2) }]);
    expect(r.report).toHaveLength(1);
    expect(r.report[0]).toMatchObject({ document: 'cut.json', status: 'rejected' });
    expect(r.vulnerabilities).toEqual([]);
  });
});

describe.skipIf(intel.skip)('records with damage: imported where readable, problems per record', () => {
  it('CVE 5: missing required fields and wrong types are reported, the record is partial and still merged', () => {
    const doc = json('cve5/CVE-2023-28902.json');
    delete doc.containers.cna.descriptions; // required for a published record
    doc.containers.cna.affected[0].versions[0].status = 'vulnerable'; // not in the enumeration
    doc.containers.cna.affected[0].versions.push({ version: 12 }); // wrong type, no status
    const r = importFeedDocuments([{ name: 'cve.json', text: JSON.stringify(doc) }]);
    const line = r.report[0]!;
    expect(line).toMatchObject({ recordId: 'CVE-2023-28902', status: 'partial' });
    expect(line.problems).toContain('schema: containers.cna.descriptions: Invalid input: expected array, received undefined');
    expect(line.problems.some((p) => p.includes('cna.affected[0].versions[0]: status "vulnerable"'))).toBe(true);
    const v = r.vulnerabilities[0]!;
    expect(v.affected[0]!.versions).toEqual([
      { version: '0', lessThanOrEqual: '0304', status: 'unknown', versionType: 'custom' },
      { version: '12', status: 'unknown' },
    ]);
  });

  it('CVE 5 without a CVE id is rejected; REJECTED records import as withdrawn', () => {
    const noId = json('cve5/CVE-2024-8355.json');
    delete noId.cveMetadata.cveId;
    const rej = {
      dataType: 'CVE_RECORD',
      dataVersion: '5.1',
      cveMetadata: { cveId: 'CVE-2024-99999', assignerOrgId: 'x', state: 'REJECTED', dateRejected: '2024-06-01T00:00:00Z' },
      containers: { cna: { providerMetadata: { orgId: 'x' }, rejectedReasons: [{ lang: 'en', value: 'Duplicate of CVE-2024-8355.' }] } },
    };
    const r = importFeedDocuments([
      { name: 'noid.json', text: JSON.stringify(noId) },
      { name: 'rejected.json', text: JSON.stringify(rej) },
    ]);
    expect(r.report.map((l) => [l.document, l.status])).toEqual([
      ['noid.json', 'rejected'],
      ['rejected.json', 'ok'],
    ]);
    expect(r.vulnerabilities).toEqual([expect.objectContaining({ id: 'CVE-2024-99999', withdrawn: expect.objectContaining({ at: '2024-06-01T00:00:00Z', reason: 'Duplicate of CVE-2024-8355.' }) })]);
  });

  it('CVSS: a stated score that disagrees with the vector is kept and flagged; a vector missing a base metric is unscored', () => {
    const doc = json('cve5/CVE-2024-23923.json');
    doc.containers.cna.metrics[0].cvssV3_1.baseScore = 5.0; // the vector scores 8.8
    doc.containers.cna.metrics.push({ cvssV3_1: { version: '3.1', vectorString: 'CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H', baseScore: 8.1 } });
    const r = importFeedDocuments([{ name: 'c.json', text: JSON.stringify(doc) }]);
    const [mismatch, broken] = r.vulnerabilities[0]!.cvss;
    expect(mismatch).toMatchObject({ baseScore: 8.8, statedScore: 5, severity: 'HIGH', scoreMismatch: true });
    expect(broken).toMatchObject({ baseScore: null, severity: null, statedScore: 8.1 });
    expect(broken!.problem).toMatch(/base metric A missing/);
    expect(r.report[0]!.status).toBe('partial');
    expect(r.report[0]!.problems).toEqual([
      'cna.metrics[0].cvssV3_1: CVSS 3.1 CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H: stated 5 HIGH but the vector scores 8.8 HIGH',
      expect.stringMatching(/^cna.metrics\[1\].cvssV3_1: CVSS 3.1 vector .*base metric A missing/),
    ]);
  });

  it('NVD paged response: a record with no id is rejected, wrong types reported, the others import', () => {
    const good = json('nvd/CVE-2017-9647.json');
    const bad = json('nvd/CVE-2022-27948.json');
    bad.published = 20220325; // wrong type
    bad.configurations[0].nodes[0].cpeMatch[0].criteria = 'cpe:/o:tesla:model_3'; // CPE 2.2 URI, not 2.3
    const page = { resultsPerPage: 3, startIndex: 0, totalResults: 5, format: 'NVD_CVE', version: '2.0', vulnerabilities: [{ cve: good }, { cve: bad }, { cve: { descriptions: [] } }] };
    const r = importFeedDocuments([{ name: 'page.json', text: JSON.stringify(page) }]);
    expect(r.report.map((l) => [l.recordId, l.status])).toEqual([
      ['(page)', 'partial'],
      ['CVE-2017-9647', 'ok'],
      ['CVE-2022-27948', 'partial'],
      ['(record 2: no id)', 'rejected'],
    ]);
    const badLine = r.report[2]!;
    expect(badLine.problems).toContain('schema: published: Invalid input: expected string, received number');
    expect(badLine.problems.some((p) => p.includes("'cpe:/o:tesla:model_3' is not a CPE 2.3 formatted string"))).toBe(true);
    expect(r.vulnerabilities.map((v) => v.id)).toEqual(['CVE-2017-9647', 'CVE-2022-27948']);
  });

  it('KEV: an entry with a missing required field and a bad date is reported by the catalog schema, the rest import', () => {
    const cat = json('kev/known_exploited_vulnerabilities.json');
    delete cat.vulnerabilities[5].requiredAction;
    cat.vulnerabilities[6].dueDate = '15/09/2025';
    cat.vulnerabilities[7] = 'not an entry';
    const r = importFeedDocuments([
      { name: 'kev.json', text: JSON.stringify(cat) },
      { name: 'schema.json', text: read('kev/known_exploited_vulnerabilities_schema.json') },
    ]);
    const entries = r.report.filter((l) => l.document === 'kev.json' && l.recordId !== 'catalog 2025.08.25');
    expect(entries).toHaveLength(1404);
    expect(entries.filter((l) => l.status !== 'ok').map((l) => [l.recordId, l.status, l.problems])).toEqual([
      [cat.vulnerabilities[5].cveID, 'partial', [expect.stringMatching(/^schema: \/vulnerabilities\/5 must have required property 'requiredAction'/)]],
      [cat.vulnerabilities[6].cveID, 'partial', ['schema: /vulnerabilities/6/dueDate must match format "date"']],
      ['(entry 7: no cveID)', 'rejected', ['schema: /vulnerabilities/7 must be object']],
    ]);
    expect(r.vulnerabilities.filter((v) => v.kev)).toHaveLength(1403);
  });

  it('KEV without its schema: the built-in zod schema finds the same problems', () => {
    const cat = json('kev/known_exploited_vulnerabilities.json');
    cat.vulnerabilities = cat.vulnerabilities.slice(0, 3);
    cat.vulnerabilities[1].cveID = 'CVE-25-1';
    const r = importFeedDocuments([{ name: 'kev.json', text: JSON.stringify(cat) }]);
    expect(r.report[0]!.problems).toEqual(['count says 1404 but the catalog holds 3 entries']);
    expect(r.report[2]).toMatchObject({ recordId: 'CVE-25-1', status: 'partial' });
    expect(r.report[2]!.problems[0]).toMatch(/^schema: cveID: /);
  });

  it('CSAF: undefined product ids, VEX profile violations, and a non-status key are reported per vulnerability', () => {
    const doc = json('csaf/oasis_csaf_vex/2022-evd-uc-01-na-001.json');
    doc.vulnerabilities[0].threats = []; // known_not_affected without impact or flag
    doc.vulnerabilities[0].product_status.known_affected = ['CSAFPID-9999'];
    doc.vulnerabilities[0].product_status.affected = ['CSAFPID-0001'];
    delete doc.document.publisher;
    const r = importFeedDocuments([{ name: 'vex.json', text: JSON.stringify(doc) }]);
    const [docLine, vulnLine] = r.report;
    expect(docLine).toMatchObject({ recordId: '2022-EVD-UC-01-NA-001', status: 'partial' });
    expect(docLine!.problems).toEqual(['schema: document.publisher: Invalid input: expected object, received undefined']);
    expect([...vulnLine!.problems].sort()).toEqual([
      'CSAFPID-0001: known_not_affected without a flag or impact statement (CSAF 6.1.27.9)',
      'CSAFPID-9999: known_affected without a remediation (CSAF 6.1.27.10)',
      'product_status.affected: not a CSAF product status, ignored',
      'product_status.known_affected: product CSAFPID-9999 is not defined in the product tree',
    ]);
    expect(r.vex.map((v) => [v.productId, v.status])).toEqual([
      ['CSAFPID-9999', 'affected'],
      ['CSAFPID-0001', 'not_affected'],
    ]);
  });

  it('STIX: an unparseable pattern and a missing required property are reported on that object only', () => {
    const bundle = json('stix/indicator-for-c2-ip-address.json');
    const ind = bundle.objects[0];
    bundle.objects.push({ ...ind, id: 'indicator--11111111-2222-4333-8444-555555555555', pattern: "[ipv4-addr:value = '10.0.0.1'" });
    bundle.objects.push({ ...ind, id: 'indicator--21111111-2222-4333-8444-555555555555', valid_from: undefined });
    bundle.objects.push({ type: 'indicator' });
    const r = importFeedDocuments([{ name: 'b.json', text: JSON.stringify(bundle) }]);
    expect(r.report.map((l) => l.status)).toEqual(['ok', 'partial', 'partial', 'rejected']);
    expect(r.report[1]!.problems[0]).toMatch(/^pattern .* could not be parsed: expected rb/);
    expect(r.report[2]!.problems).toEqual(['schema: valid_from: Invalid input: expected string, received undefined']);
    expect(r.indicators).toHaveLength(3);
    expect(r.indicators[1]!.parsed).toBeUndefined();
  });

  it('OSV: a bad range type and an event with two keys are reported; the readable ranges import', () => {
    const doc = json('osv/full_ranges.osv.json');
    doc.affected[0].ranges.push({ type: 'DATE', events: [{ introduced: '2020' }] });
    doc.affected[1].ranges[0].events[0] = { introduced: '2.5.0', fixed: '2.5.1' };
    const r = importFeedDocuments([{ name: 'o.json', text: JSON.stringify(doc) }]);
    expect(r.report[0]!.status).toBe('partial');
    expect(r.report[0]!.problems).toEqual(
      expect.arrayContaining([
        'affected[0].ranges[1]: type "DATE" is not SEMVER|ECOSYSTEM|GIT, skipped',
        expect.stringMatching(/^schema: affected\[1\]\.ranges\[0\]\.events\[0\]: an event has exactly one of/),
      ]),
    );
    expect(r.vulnerabilities[0]!.affected[0]!.ranges).toHaveLength(1);
    expect(r.vulnerabilities[0]!.affected[1]!.ranges[0]!.events.slice(0, 2)).toEqual([{ introduced: '2.5.0' }, { fixed: '2.5.1' }]);
  });
});

describe('EPSS CSV', () => {
  const csv = [
    '#model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z',
    'cve,epss,percentile',
    'CVE-2021-44228,0.94358,0.99957',
    'CVE-2017-1000251,0.01462,0.80108',
    'CVE-2017-1000251x,0.5,0.5',
    'CVE-2023-32156,1.7,0.2',
    'CVE-2024-26925,0.00018,',
    '',
  ].join('\n');

  it('reads the comment line and each row as a record; bad rows are reported', () => {
    const r = importFeedDocuments([{ name: 'epss.csv', text: csv }]);
    expect(r.report.map((l) => [l.recordId, l.status])).toEqual([
      ['CVE-2021-44228', 'ok'],
      ['CVE-2017-1000251', 'ok'],
      ['CVE-2017-1000251x', 'rejected'],
      ['CVE-2023-32156', 'rejected'],
      ['CVE-2024-26925', 'partial'],
    ]);
    expect(r.report[3]!.problems).toEqual(["line 6: epss '1.7' is not a probability in [0, 1]"]);
    const log4shell = r.vulnerabilities.find((v) => v.id === 'CVE-2021-44228')!;
    expect(log4shell.epss).toMatchObject({ score: 0.94358, percentile: 0.99957, date: '2025-08-25', modelVersion: 'v2025.03.14' });
  });

  it('merges onto the CVE imported from other feeds', () => {
    const r = importFeedDocuments([
      { name: 'epss.csv', text: csv },
      ...(intel.skip ? [] : [{ name: 'nvd.json', text: read('nvd/CVE-2017-1000251.json') }]),
    ]);
    const v = r.vulnerabilities.find((x) => x.id === 'CVE-2017-1000251')!;
    expect(v.epss?.score).toBe(0.01462);
    if (!intel.skip) expect(v.sources.map((s) => s.kind)).toEqual(['epss', 'nvd']);
  });

  it('a CSV without the header is rejected as a document', () => {
    const r = importFeedDocuments([{ name: 'x.csv', text: '#model_version:v1\nfoo,bar\n' }]);
    expect(r.report).toEqual([expect.objectContaining({ recordId: '(header)', status: 'rejected' })]);
  });
});
