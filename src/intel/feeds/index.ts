/**
 * The feed importer: documents in (file name and text, from a directory, a download, a
 * test), one merged model out, with one report line per record. A document that cannot be
 * read at all (empty, truncated JSON, an unknown format) is one `rejected` line; nothing
 * throws for bad input.
 *
 * @example
 *   const { vulnerabilities, report } = importFeedDocuments([{ name: 'kev.json', text }]);
 */
import type { IntelImport, RecordReport } from '../model.js';
import { parseJson, rejected, type FeedResult } from './common.js';
import { parseCsaf } from './csaf.js';
import { parseCve5 } from './cve5.js';
import { parseCycloneDxVex } from './cyclonedx-vex.js';
import { detectJson, detectText } from './detect.js';
import { parseEpss } from './epss.js';
import { parseKev } from './kev.js';
import { mergeVulnerabilities } from './merge.js';
import { parseNvd } from './nvd.js';
import { parseOsv } from './osv.js';
import { parseStix } from './stix.js';

export interface FeedDocument {
  /** Where it came from (a path or URL): every report line and source refers to it. */
  name: string;
  text: string;
}

export { detectJson, detectText } from './detect.js';
export { mergeVulnerabilities } from './merge.js';
export { parseStixPattern } from './stix-pattern.js';
export { scoreCvss } from './cvss.js';
export type { FeedResult } from './common.js';
export { parseCve5, parseNvd, parseCsaf, parseOsv, parseKev, parseEpss, parseStix, parseCycloneDxVex };

export interface ImportOptions {
  /**
   * Validates a CycloneDX document against the CycloneDX JSON schemas, returning its problems
   * (`cycloneDxValidator` in src/intel/sbom/schema.ts; the schemas are read by the caller).
   */
  cycloneDxValidator?: (doc: unknown) => string[];
}

/** Import a set of feed documents of any supported format, merged across sources. */
export function importFeedDocuments(docs: readonly FeedDocument[], options: ImportOptions = {}): IntelImport {
  const parsed = docs.map((d) => {
    const looksJson = /^\s*[[{]/.test(d.text.replace(/^\uFEFF/, ''));
    if (!looksJson && detectText(d.text) === 'epss') return { doc: d, format: 'epss' as const };
    const json = parseJson(d.text);
    if (!json.ok) return { doc: d, format: 'unreadable' as const, error: json.error };
    return { doc: d, format: detectJson(json.value), value: json.value };
  });
  // The KEV catalog is validated with its own schema when the feed carries it.
  const kevSchema = parsed.find((p) => p.format === 'kev-schema');
  const results: FeedResult[] = [];
  const report: RecordReport[] = [];
  for (const p of parsed) {
    const name = p.doc.name;
    switch (p.format) {
      case 'unreadable':
        report.push(rejected(name, 'unknown', '(document)', p.error));
        break;
      case 'unknown':
        report.push(
          rejected(name, 'unknown', '(document)', 'format not recognised: not CVE JSON 5, NVD API 2.0, CSAF 2.0, OSV, CISA KEV, EPSS CSV, STIX 2.x or CycloneDX'),
        );
        break;
      case 'kev-schema':
        report.push({ document: name, format: 'kev', recordId: '(schema)', status: 'ok', problems: [], notes: ['KEV catalog JSON schema: used to validate the catalog'] });
        break;
      case 'epss':
        results.push(parseEpss(p.doc.text, name));
        break;
      case 'cve5':
        results.push(parseCve5(p.value, name));
        break;
      case 'nvd':
        results.push(parseNvd(p.value, name));
        break;
      case 'csaf':
        results.push(parseCsaf(p.value, name));
        break;
      case 'osv':
        results.push(parseOsv(p.value, name));
        break;
      case 'kev':
        results.push(parseKev(p.value, name, kevSchema && 'value' in kevSchema ? (kevSchema.value as object) : undefined));
        break;
      case 'stix':
        results.push(parseStix(p.value, name));
        break;
      case 'cyclonedx-vex':
        results.push(parseCycloneDxVex(p.value, name, options.cycloneDxValidator));
        break;
    }
  }
  for (const r of results) report.push(...r.report);
  return {
    vulnerabilities: mergeVulnerabilities(results.flatMap((r) => r.vulnerabilities)),
    indicators: results.flatMap((r) => r.indicators),
    csaf: results.flatMap((r) => r.csaf),
    vex: results.flatMap((r) => r.vex),
    report,
  };
}
