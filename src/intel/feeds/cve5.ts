/**
 * CVE JSON 5.x records (cvelistV5): the CNA container and every ADP container (CISA-ADP
 * vulnrichment adds CPEs, CVSS and SSVC; the CVE Program container adds references), each
 * statement attributed to its container. REJECTED records are kept with `withdrawn`.
 *
 * Validation: `Cve5RecordSchema` is a zod transcription of the required fields and types of
 * the published CVE JSON 5.1 schema (CVE_Record_Format.json: dataType, dataVersion,
 * cveMetadata, containers.cna with providerMetadata/descriptions/affected/references for a
 * published record, rejectedReasons for a rejected one; affected entries need vendor+product
 * or collectionURL+packageName; version entries need version and status, and a versionType
 * when they carry lessThan/lessThanOrEqual). It does not check string lengths, URI formats or
 * the enumerated reference tags. Schema problems make the record `partial`; the reader below
 * takes whatever is readable either way, and only a record without a CVE id is `rejected`.
 */
import { z } from 'zod';
import { newVulnerability, type AffectedEntry, type SourceRef, type SsvcDecision, type VersionClause, type VersionStatus, type Vulnerability } from '../model.js';
import { scoreCvss } from './cvss.js';
import { CVE_ID, english, emptyResult, isObject, isUsableVersion, RecordProblems, source, str, strings, type FeedResult } from './common.js';

const status = z.enum(['affected', 'unaffected', 'unknown']);
const version = z
  .object({
    version: z.string(),
    status,
    versionType: z.string().optional(),
    lessThan: z.string().optional(),
    lessThanOrEqual: z.string().optional(),
    changes: z.array(z.object({ at: z.string(), status })).optional(),
  })
  .refine((v) => (v.lessThan === undefined && v.lessThanOrEqual === undefined) || v.versionType !== undefined, {
    message: 'lessThan/lessThanOrEqual require versionType',
  })
  .refine((v) => v.lessThan === undefined || v.lessThanOrEqual === undefined, { message: 'lessThan and lessThanOrEqual are exclusive' });
const affected = z
  .object({
    vendor: z.string().optional(),
    product: z.string().optional(),
    collectionURL: z.string().optional(),
    packageName: z.string().optional(),
    cpes: z.array(z.string()).optional(),
    platforms: z.array(z.string()).optional(),
    defaultStatus: status.optional(),
    versions: z.array(version).min(1).optional(),
  })
  .refine((a) => (a.vendor !== undefined && a.product !== undefined) || (a.collectionURL !== undefined && a.packageName !== undefined), {
    message: 'needs vendor and product, or collectionURL and packageName',
  })
  .refine((a) => a.versions !== undefined || a.defaultStatus !== undefined, { message: 'needs versions or defaultStatus' });
const providerMetadata = z.object({ orgId: z.string(), shortName: z.string().optional(), dateUpdated: z.string().optional() });
const description = z.object({ lang: z.string(), value: z.string() });
const reference = z.object({ url: z.string(), name: z.string().optional(), tags: z.array(z.string()).optional() });
const cnaPublished = z.object({
  providerMetadata,
  descriptions: z.array(description).min(1),
  affected: z.array(affected).min(1),
  references: z.array(reference).min(1),
});
const cnaRejected = z.object({ providerMetadata, rejectedReasons: z.array(description).min(1) });
const adp = z.object({ providerMetadata, affected: z.array(affected).optional(), references: z.array(reference).optional() });

const record = (state: 'PUBLISHED' | 'REJECTED', cna: z.ZodType) =>
  z.object({
    dataType: z.literal('CVE_RECORD'),
    dataVersion: z.string().regex(/^5\.\d+(\.\d+)?$/),
    cveMetadata: z.object({ cveId: z.string().regex(CVE_ID), assignerOrgId: z.string(), state: z.literal(state) }),
    containers: z.object({ cna, ...(state === 'PUBLISHED' ? { adp: z.array(adp).min(1).optional() } : {}) }),
  });

/** CVE JSON 5.1 records, by cveMetadata.state: required fields and types (see the file comment for what is not checked). */
export const Cve5RecordSchemas = { PUBLISHED: record('PUBLISHED', cnaPublished), REJECTED: record('REJECTED', cnaRejected) } as const;

const STATUSES = new Set(['affected', 'unaffected', 'unknown']);
function readStatus(v: unknown, problems: RecordProblems, where: string): VersionStatus {
  if (typeof v === 'string' && STATUSES.has(v)) return v as VersionStatus;
  problems.add(`${where}: status ${JSON.stringify(v)} is not affected|unaffected|unknown; kept as unknown`);
  return 'unknown';
}

function readVersion(v: unknown, problems: RecordProblems, where: string): VersionClause | undefined {
  if (!isObject(v)) {
    problems.add(`${where}: not an object, skipped`);
    return undefined;
  }
  const version = typeof v.version === 'string' ? v.version : typeof v.version === 'number' ? String(v.version) : undefined;
  if (version === undefined) {
    problems.add(`${where}: no version, skipped`);
    return undefined;
  }
  const clause: VersionClause = { version, status: readStatus(v.status, problems, where) };
  if (str(v.versionType)) clause.versionType = v.versionType as string;
  if (str(v.lessThan)) clause.lessThan = v.lessThan as string;
  if (str(v.lessThanOrEqual)) clause.lessThanOrEqual = v.lessThanOrEqual as string;
  if (Array.isArray(v.changes)) {
    clause.changes = v.changes
      .filter(isObject)
      .filter((c) => typeof c.at === 'string')
      .map((c) => ({ at: c.at as string, status: readStatus(c.status, problems, `${where}.changes`) }));
  }
  return clause;
}

/** One CVE 5 `affected[]` item as an AffectedEntry (basis `cpe` when it lists CPEs, else `cve5-product`). */
export function readCve5Affected(a: Record<string, unknown>, src: SourceRef, problems: RecordProblems, where: string): AffectedEntry {
  const cpes = strings(a.cpes);
  const purl = str(a.packageURL) ?? str(a.purl);
  const entry: AffectedEntry = { basis: purl ? 'purl' : cpes.length ? 'cpe' : 'cve5-product', source: src, versions: [], ranges: [] };
  for (const k of ['vendor', 'product', 'packageName', 'collectionURL', 'repo'] as const) {
    const v = str(a[k]);
    if (v) entry[k] = v;
  }
  if (purl) entry.purl = purl;
  if (cpes.length) {
    entry.cpe = cpes[0];
    entry.cpes = cpes;
  }
  for (const k of ['platforms', 'programFiles', 'modules'] as const) if (Array.isArray(a[k])) entry[k] = strings(a[k]);
  if (a.defaultStatus !== undefined) entry.defaultStatus = readStatus(a.defaultStatus, problems, `${where}.defaultStatus`);
  if (Array.isArray(a.versions)) {
    a.versions.forEach((v, i) => {
      const c = readVersion(v, problems, `${where}.versions[${i}]`);
      if (c) entry.versions.push(c);
    });
  }
  const raw = entry.versions.map((c) => c.version).filter((v) => !isUsableVersion(v));
  if (raw.length) entry.rawVersions = raw;
  const usable = entry.versions.some(
    (c) => isUsableVersion(c.version) || (c.lessThan && isUsableVersion(c.lessThan)) || (c.lessThanOrEqual && isUsableVersion(c.lessThanOrEqual)),
  );
  if (entry.versions.length && !usable) entry.freeText = true;
  return entry;
}

const METRIC_VERSIONS: Record<string, string> = { cvssV2_0: '2.0', cvssV3_0: '3.0', cvssV3_1: '3.1', cvssV4_0: '4.0' };

/** Read a container's metrics, problem types, references and affected entries into `vuln`. */
function readContainer(c: Record<string, unknown>, src: SourceRef, vuln: Vulnerability, problems: RecordProblems, where: string): void {
  if (Array.isArray(c.metrics)) {
    c.metrics.filter(isObject).forEach((m, i) => {
      for (const [key, ver] of Object.entries(METRIC_VERSIONS)) {
        const d = m[key];
        if (!isObject(d)) continue;
        if (typeof d.vectorString !== 'string') {
          problems.add(`${where}.metrics[${i}].${key}: no vectorString`);
          continue;
        }
        const s = scoreCvss(
          { vector: d.vectorString, version: ver, score: typeof d.baseScore === 'number' ? d.baseScore : undefined, severity: str(d.baseSeverity) },
          src,
        );
        problems.cvss(`${where}.metrics[${i}].${key}`, s);
        vuln.cvss.push(s);
      }
      const other = m.other;
      if (isObject(other) && isObject(other.content)) {
        if (other.type === 'ssvc') vuln.ssvc.push(readSsvc(other.content, src));
      }
    });
  }
  if (Array.isArray(c.problemTypes)) {
    for (const pt of c.problemTypes.filter(isObject)) {
      for (const d of Array.isArray(pt.descriptions) ? pt.descriptions.filter(isObject) : []) {
        const cwe = str(d.cweId) ?? (typeof d.description === 'string' ? /\bCWE-\d+\b/.exec(d.description)?.[0] : undefined);
        if (cwe) vuln.cwes.push({ cwe, source: src });
      }
    }
  }
  if (Array.isArray(c.references)) {
    for (const r of c.references.filter(isObject)) {
      if (typeof r.url !== 'string') continue;
      vuln.references.push({ url: r.url, tags: strings(r.tags), ...(src.provider ? { source: src.provider } : {}) });
    }
  }
  if (Array.isArray(c.affected)) {
    c.affected.forEach((a, i) => {
      if (!isObject(a)) problems.add(`${where}.affected[${i}]: not an object, skipped`);
      else vuln.affected.push(readCve5Affected(a, src, problems, `${where}.affected[${i}]`));
    });
  }
}

function readSsvc(content: Record<string, unknown>, src: SourceRef): SsvcDecision {
  const d: SsvcDecision = { source: src };
  for (const o of Array.isArray(content.options) ? content.options.filter(isObject) : []) {
    if (typeof o.Exploitation === 'string') d.exploitation = o.Exploitation;
    if (typeof o.Automatable === 'string') d.automatable = o.Automatable;
    if (typeof o['Technical Impact'] === 'string') d.technicalImpact = o['Technical Impact'];
  }
  if (str(content.timestamp)) d.timestamp = content.timestamp as string;
  if (str(content.role)) d.role = content.role as string;
  if (str(content.version)) d.version = content.version as string;
  return d;
}

/** Parse one CVE JSON 5 record (already JSON-parsed). */
export function parseCve5(doc: unknown, document: string): FeedResult {
  const out = emptyResult();
  const meta = isObject(doc) && isObject(doc.cveMetadata) ? doc.cveMetadata : undefined;
  const id = meta && typeof meta.cveId === 'string' ? meta.cveId : undefined;
  const problems = new RecordProblems(document, 'cve5', id ?? '(no cveId)');
  if (!isObject(doc) || !id) {
    problems.add('cveMetadata.cveId missing: the record cannot be identified');
    out.report.push(problems.done(false));
    return out;
  }
  const state = typeof meta?.state === 'string' ? meta.state : undefined;
  if (state !== 'PUBLISHED' && state !== 'REJECTED') {
    problems.add(`cveMetadata.state ${JSON.stringify(state)} is not PUBLISHED or REJECTED: checked as PUBLISHED`);
  }
  const check = Cve5RecordSchemas[state === 'REJECTED' ? 'REJECTED' : 'PUBLISHED'].safeParse(doc);
  if (!check.success) problems.addIssues(check.error.issues);

  const containers = isObject(doc.containers) ? doc.containers : {};
  const cna = isObject(containers.cna) ? containers.cna : undefined;
  const cnaMeta = cna && isObject(cna.providerMetadata) ? cna.providerMetadata : {};
  const cnaSrc = source('cve5-cna', document, id, str(cnaMeta.shortName) ?? str(meta?.assignerShortName));
  const vuln = newVulnerability(id, [cnaSrc]);
  if (str(meta?.datePublished)) vuln.published = meta!.datePublished as string;
  if (str(meta?.dateUpdated)) vuln.modified = meta!.dateUpdated as string;
  if (cna) {
    if (str(cna.title)) vuln.title = cna.title as string;
    const desc = english(cna.descriptions);
    if (desc) vuln.description = desc;
    if (state === 'REJECTED') {
      vuln.withdrawn = { source: cnaSrc };
      if (str(meta?.dateRejected)) vuln.withdrawn.at = meta!.dateRejected as string;
      const reason = english(cna.rejectedReasons);
      if (reason) vuln.withdrawn.reason = reason;
    }
    readContainer(cna, cnaSrc, vuln, problems, 'cna');
  } else {
    problems.add('containers.cna missing');
  }
  if (Array.isArray(containers.adp)) {
    containers.adp.forEach((a, i) => {
      if (!isObject(a)) return problems.add(`adp[${i}]: not an object, skipped`);
      const pm = isObject(a.providerMetadata) ? a.providerMetadata : {};
      const src = source('cve5-adp', document, id, str(pm.shortName) ?? str(pm.orgId) ?? `adp[${i}]`);
      vuln.sources.push(src);
      readContainer(a, src, vuln, problems, `adp[${i}]`);
    });
  }
  out.vulnerabilities.push(vuln);
  out.report.push(problems.done(true));
  return out;
}
