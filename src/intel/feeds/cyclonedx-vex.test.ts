import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dataset } from '../../../test/datasets.js';
import { cycloneDxValidator } from '../sbom/schema.js';
import { importFeedDocuments } from './index.js';

const SCHEMAS = fileURLToPath(new URL('../../../node_modules/@cyclonedx/cyclonedx-library/res/schema/', import.meta.url));
const schema = (f: string): object => JSON.parse(readFileSync(`${SCHEMAS}${f}`, 'utf8')) as object;
const validator = cycloneDxValidator({
  bom: { '1.4': schema('bom-1.4.SNAPSHOT.schema.json'), '1.5': schema('bom-1.5.SNAPSHOT.schema.json'), '1.6': schema('bom-1.6.SNAPSHOT.schema.json') },
  spdx: schema('spdx.SNAPSHOT.schema.json'),
  jsf: schema('jsf-0.82.SNAPSHOT.schema.json'),
});
const cdx = dataset('intel/cyclonedx', 'intel/feeds/cyclonedx-vex.test.ts');
const read = (f: string): string => readFileSync(`${cdx.path}/${f}`, 'utf8');

describe.skipIf(cdx.skip)('CycloneDX VEX validated against the CycloneDX 1.4 schema', () => {
  it('the CISA VEX examples are schema-valid and import', () => {
    const r = importFeedDocuments(
      ['VEX_CISA_Case-1_vex-not_affected.json', 'VEX_CISA_Case-8_bom-1.json'].map((f) => ({ name: f, text: read(f) })),
      { cycloneDxValidator: validator },
    );
    expect(r.report.map((l) => [l.document, l.status, l.problems])).toEqual([
      ['VEX_CISA_Case-1_vex-not_affected.json', 'ok', []],
      ['VEX_CISA_Case-8_bom-1.json', 'ok', []],
    ]);
    expect(r.vex).toHaveLength(1);
  });

  it('a schema violation in a vulnerability lands on that vulnerability; one elsewhere on the document line', () => {
    const doc = JSON.parse(read('VEX_CISA_Case-1_vex-not_affected.json')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    doc.vulnerabilities[0].analysis.justification = 'we_checked'; // not in the impactAnalysisJustification enumeration
    doc.metadata.timestamp = 'yesterday';
    const r = importFeedDocuments([{ name: 'v.json', text: JSON.stringify(doc) }], { cycloneDxValidator: validator });
    expect(r.report.map((l) => [l.recordId, l.status])).toEqual([
      ['v.json (document)', 'partial'],
      ['CVE-2021-44228', 'partial'],
    ]);
    expect(r.report[0]!.problems).toEqual(['schema: /metadata/timestamp must match format "date-time"']);
    expect(r.report[1]!.problems[0]).toMatch(/^schema: \/vulnerabilities\/0\/analysis\/justification must be equal to one of the allowed values/);
    // still imported, with the stated justification kept
    expect(r.vex[0]).toMatchObject({ status: 'not_affected', justification: 'we_checked' });
  });
});
