/**
 * NVD API 2.0 CVE records: the paged response (`{resultsPerPage, totalResults,
 * vulnerabilities: [{cve}]}`), one `{cve}` item, or a bare `cve` object (the shape of the
 * fkie-cad nvd-json-data-feeds mirror). Each CVE is one record in the report.
 *
 * Validation: `NvdCveSchema` transcribes the required fields and types of the published
 * `nvd_cve_api_json_2.0.schema` (cve_item: id, published, lastModified, descriptions,
 * references; cvss metric: source, type, cvssData with version/vectorString/baseScore;
 * configuration nodes: operator and cpeMatch; cpeMatch: vulnerable, criteria,
 * matchCriteriaId). Formats (date-time, URI) and the CVSS enumerations are not checked here:
 * the vector is checked and scored by ae-cvss-calculator instead.
 */
import { z } from 'zod';
import { newVulnerability, type AffectedEntry, type Vulnerability } from '../model.js';
import { scoreCvss } from './cvss.js';
import { english, emptyResult, isObject, RecordProblems, rejected, source, str, strings, type FeedResult } from './common.js';

const cvssMetric = z.object({
  source: z.string(),
  type: z.enum(['Primary', 'Secondary']),
  cvssData: z.object({ version: z.string(), vectorString: z.string(), baseScore: z.number() }),
});
const cpeMatch = z.object({
  vulnerable: z.boolean(),
  criteria: z.string().regex(/^cpe:2\.3:[aho*-]:/),
  matchCriteriaId: z.string(),
  versionStartIncluding: z.string().optional(),
  versionStartExcluding: z.string().optional(),
  versionEndIncluding: z.string().optional(),
  versionEndExcluding: z.string().optional(),
});
const node = z.object({ operator: z.enum(['AND', 'OR']), negate: z.boolean().optional(), cpeMatch: z.array(cpeMatch) });

/** NVD API 2.0 `cve` item: required fields and types. */
export const NvdCveSchema = z.object({
  id: z.string().regex(/^CVE-\d{4}-\d{4,}$/),
  sourceIdentifier: z.string().optional(),
  published: z.string(),
  lastModified: z.string(),
  vulnStatus: z.string().optional(),
  descriptions: z.array(z.object({ lang: z.string(), value: z.string() })).min(1),
  references: z.array(z.object({ url: z.string(), source: z.string().optional(), tags: z.array(z.string()).optional() })),
  metrics: z
    .object({
      cvssMetricV40: z.array(cvssMetric).optional(),
      cvssMetricV31: z.array(cvssMetric).optional(),
      cvssMetricV30: z.array(cvssMetric).optional(),
      cvssMetricV2: z.array(cvssMetric).optional(),
    })
    .optional(),
  weaknesses: z.array(z.object({ source: z.string(), type: z.string(), description: z.array(z.object({ lang: z.string(), value: z.string() })) })).optional(),
  configurations: z.array(z.object({ operator: z.enum(['AND', 'OR']).optional(), negate: z.boolean().optional(), nodes: z.array(node) })).optional(),
});

/** The attribute fields of a CPE 2.3 formatted string (split on unescaped colons). */
export function cpeFields(cpe: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < cpe.length; i++) {
    const ch = cpe[i]!;
    if (ch === '\\' && i + 1 < cpe.length) {
      cur += ch + cpe[i + 1]!;
      i++;
    } else if (ch === ':') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

const METRIC_KEYS: [string, string][] = [
  ['cvssMetricV40', '4.0'],
  ['cvssMetricV31', '3.1'],
  ['cvssMetricV30', '3.0'],
  ['cvssMetricV2', '2.0'],
];

/** One NVD `cve` object as a Vulnerability with per-record problems. */
function readCve(cve: unknown, document: string, index: number): { vuln?: Vulnerability; problems: RecordProblems } {
  const id = isObject(cve) && typeof cve.id === 'string' ? cve.id : undefined;
  const problems = new RecordProblems(document, 'nvd', id ?? `(record ${index}: no id)`);
  if (!isObject(cve) || !id) {
    problems.add('cve.id missing: the record cannot be identified');
    return { problems };
  }
  const check = NvdCveSchema.safeParse(cve);
  if (!check.success) problems.addIssues(check.error.issues);
  const src = source('nvd', document, id, str(cve.sourceIdentifier));
  const vuln = newVulnerability(id, [src]);
  if (str(cve.published)) vuln.published = cve.published as string;
  if (str(cve.lastModified)) vuln.modified = cve.lastModified as string;
  const desc = english(cve.descriptions);
  if (desc) vuln.description = desc;
  if (cve.vulnStatus === 'Rejected') vuln.withdrawn = { source: src, ...(desc ? { reason: desc } : {}) };

  const metrics = isObject(cve.metrics) ? cve.metrics : {};
  for (const [key, ver] of METRIC_KEYS) {
    const list = metrics[key];
    if (!Array.isArray(list)) continue;
    list.filter(isObject).forEach((m, i) => {
      const d = isObject(m.cvssData) ? m.cvssData : {};
      if (typeof d.vectorString !== 'string') return problems.add(`metrics.${key}[${i}]: no vectorString`);
      // The metric's own source (nvd@nist.gov, a CNA e-mail) is the provider: NVD relays CNA scores too.
      const s = scoreCvss(
        {
          vector: d.vectorString,
          version: str(d.version) ?? ver,
          score: typeof d.baseScore === 'number' ? d.baseScore : undefined,
          severity: str(d.baseSeverity) ?? str(m.baseSeverity),
        },
        source('nvd', document, id, str(m.source) ?? src.provider),
      );
      problems.cvss(`metrics.${key}[${i}]`, s);
      vuln.cvss.push(s);
    });
  }
  for (const w of Array.isArray(cve.weaknesses) ? cve.weaknesses.filter(isObject) : []) {
    for (const d of Array.isArray(w.description) ? w.description.filter(isObject) : []) {
      if (typeof d.value === 'string' && /^CWE-\d+$/.test(d.value)) vuln.cwes.push({ cwe: d.value, source: source('nvd', document, id, str(w.source)) });
    }
  }
  for (const r of Array.isArray(cve.references) ? cve.references.filter(isObject) : []) {
    if (typeof r.url === 'string') vuln.references.push({ url: r.url, tags: strings(r.tags), ...(str(r.source) ? { source: r.source as string } : {}) });
  }
  const configs = Array.isArray(cve.configurations) ? cve.configurations : [];
  configs.forEach((cfg, ci) => {
    if (!isObject(cfg) || !Array.isArray(cfg.nodes)) return problems.add(`configurations[${ci}]: no nodes, skipped`);
    cfg.nodes.forEach((n, ni) => {
      if (!isObject(n) || !Array.isArray(n.cpeMatch)) return problems.add(`configurations[${ci}].nodes[${ni}]: no cpeMatch, skipped`);
      n.cpeMatch.forEach((m, mi) => {
        const where = `configurations[${ci}].nodes[${ni}].cpeMatch[${mi}]`;
        if (!isObject(m) || typeof m.criteria !== 'string') return problems.add(`${where}: no criteria, skipped`);
        const f = cpeFields(m.criteria);
        const entry: AffectedEntry = {
          basis: 'cpe',
          source: src,
          cpe: m.criteria,
          versions: [],
          ranges: [],
          nvdConfiguration: {
            config: ci,
            node: ni,
            operator: str(n.operator) ?? 'OR',
            negate: n.negate === true,
            ...(str(cfg.operator) ? { configOperator: cfg.operator as string } : {}),
          },
        };
        if (f.length !== 13 || f[0] !== 'cpe' || f[1] !== '2.3') problems.add(`${where}: '${m.criteria}' is not a CPE 2.3 formatted string (${f.length} fields)`);
        else {
          entry.vendor = f[3]!;
          entry.product = f[4]!;
        }
        if (typeof m.vulnerable === 'boolean') entry.vulnerable = m.vulnerable;
        else problems.add(`${where}: vulnerable missing`);
        for (const k of ['versionStartIncluding', 'versionStartExcluding', 'versionEndIncluding', 'versionEndExcluding'] as const) {
          if (str(m[k])) entry[k] = m[k] as string;
        }
        vuln.affected.push(entry);
      });
    });
  });
  return { vuln, problems };
}

/** Parse an NVD API 2.0 document: a paged response, one `{cve}` item, or a bare `cve` object. */
export function parseNvd(doc: unknown, document: string): FeedResult {
  const out = emptyResult();
  let items: unknown[];
  if (isObject(doc) && Array.isArray(doc.vulnerabilities)) {
    items = doc.vulnerabilities.map((v) => (isObject(v) ? v.cve : v));
    if (typeof doc.totalResults === 'number' && typeof doc.startIndex === 'number' && doc.startIndex + items.length < doc.totalResults) {
      out.report.push({
        document,
        format: 'nvd',
        recordId: '(page)',
        status: 'partial',
        problems: [`page holds results ${doc.startIndex}..${doc.startIndex + items.length - 1} of ${doc.totalResults}: the rest are in other pages`],
      });
    }
  } else if (isObject(doc) && isObject(doc.cve)) items = [doc.cve];
  else if (isObject(doc) && typeof doc.id === 'string') items = [doc];
  else {
    out.report.push(rejected(document, 'nvd', '(document)', 'not an NVD API 2.0 response, item or cve object'));
    return out;
  }
  items.forEach((cve, i) => {
    const { vuln, problems } = readCve(cve, document, i);
    if (vuln) out.vulnerabilities.push(vuln);
    out.report.push(problems.done(vuln !== undefined));
  });
  return out;
}
