/**
 * OSV records (https://ossf.github.io/osv-schema/): one object, or an array of them. The
 * Vulnerability id is the record's first CVE alias when it has one (so it merges with the
 * CVE 5 and NVD records), else the OSV id; the OSV id is always among the aliases.
 *
 * Validation: `OsvSchema` transcribes the published OSV JSON schema's required fields and
 * types (id and modified required; affected[].package with ecosystem and name; ranges with a
 * type of SEMVER|ECOSYSTEM|GIT, a repo for GIT, at least one event, each event exactly one of
 * introduced/fixed/last_affected/limit; severity type and score). It does not check the
 * ecosystem list or the date-time format.
 */
import { z } from 'zod';
import { newVulnerability, type AffectedEntry, type RangeEvent, type RangeType, type SourceRef, type VersionRange, type Vulnerability } from '../model.js';
import { scoreCvss } from './cvss.js';
import { emptyResult, isObject, RecordProblems, rejected, source, str, strings, type FeedResult } from './common.js';

const event = z
  .object({ introduced: z.string().optional(), fixed: z.string().optional(), last_affected: z.string().optional(), limit: z.string().optional() })
  .refine((e) => Object.values(e).filter((v) => v !== undefined).length === 1, { message: 'an event has exactly one of introduced, fixed, last_affected, limit' });
const range = z
  .object({ type: z.enum(['SEMVER', 'ECOSYSTEM', 'GIT']), repo: z.string().optional(), events: z.array(event).min(1) })
  .refine((r) => r.type !== 'GIT' || r.repo !== undefined, { message: 'a GIT range needs repo' });
const severity = z.object({ type: z.enum(['CVSS_V2', 'CVSS_V3', 'CVSS_V4', 'Ubuntu']), score: z.string() });

/** OSV schema 1.x: required fields and types (see the file comment). */
export const OsvSchema = z.object({
  schema_version: z.string().optional(),
  id: z.string().min(1),
  modified: z.string(),
  published: z.string().optional(),
  withdrawn: z.string().optional(),
  aliases: z.array(z.string()).optional(),
  related: z.array(z.string()).optional(),
  summary: z.string().optional(),
  details: z.string().optional(),
  severity: z.array(severity).optional(),
  affected: z
    .array(
      z.object({
        package: z.object({ ecosystem: z.string(), name: z.string(), purl: z.string().optional() }).optional(),
        severity: z.array(severity).optional(),
        ranges: z.array(range).optional(),
        versions: z.array(z.string()).optional(),
      }),
    )
    .optional(),
  references: z.array(z.object({ type: z.string(), url: z.string() })).optional(),
});

const EVENT_KEYS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;
const RANGE_TYPES = new Set(['SEMVER', 'ECOSYSTEM', 'GIT']);

function readRanges(list: unknown, problems: RecordProblems, where: string): VersionRange[] {
  const out: VersionRange[] = [];
  if (!Array.isArray(list)) return out;
  list.forEach((r, i) => {
    if (!isObject(r) || typeof r.type !== 'string' || !RANGE_TYPES.has(r.type)) {
      return problems.add(`${where}.ranges[${i}]: type ${JSON.stringify(isObject(r) ? r.type : r)} is not SEMVER|ECOSYSTEM|GIT, skipped`);
    }
    const events: RangeEvent[] = [];
    for (const e of Array.isArray(r.events) ? r.events.filter(isObject) : []) {
      const keys = EVENT_KEYS.filter((k) => typeof e[k] === 'string');
      // An event with two keys is split rather than guessed at: each statement is kept.
      for (const k of keys) events.push({ [k]: e[k] as string });
    }
    if (!events.length) return problems.add(`${where}.ranges[${i}]: no readable events, skipped`);
    const vr: VersionRange = { type: r.type as RangeType, events };
    if (str(r.repo)) vr.repo = r.repo as string;
    out.push(vr);
  });
  return out;
}

function readSeverity(list: unknown, src: SourceRef, vuln: Vulnerability, problems: RecordProblems, where: string): void {
  if (!Array.isArray(list)) return;
  list.filter(isObject).forEach((s, i) => {
    const m = typeof s.type === 'string' ? /^CVSS_V(\d)$/.exec(s.type) : null;
    if (!m || typeof s.score !== 'string') return;
    const score = scoreCvss({ vector: s.score, version: m[1] === '2' ? '2.0' : m[1] === '4' ? '4.0' : undefined }, src);
    problems.cvss(`${where}.severity[${i}]`, score);
    vuln.cvss.push(score);
  });
}

function readOne(rec: unknown, document: string, index: number): { vuln?: Vulnerability; problems: RecordProblems } {
  const osvId = isObject(rec) && typeof rec.id === 'string' && rec.id ? rec.id : undefined;
  const problems = new RecordProblems(document, 'osv', osvId ?? `(record ${index}: no id)`);
  if (!isObject(rec) || !osvId) {
    problems.add('id missing: the record cannot be identified');
    return { problems };
  }
  const check = OsvSchema.safeParse(rec);
  if (!check.success) problems.addIssues(check.error.issues);
  const aliases = strings(rec.aliases);
  const cve = aliases.find((a) => /^CVE-\d{4}-\d{4,}$/.test(a));
  const src = source('osv', document, osvId, osvId.split('-')[0]);
  const vuln = newVulnerability(cve ?? osvId, [src], [osvId, ...aliases.filter((a) => a !== cve)]);
  if (str(rec.summary)) vuln.title = rec.summary as string;
  const details = str(rec.details) ?? str(rec.description);
  if (!str(rec.details) && str(rec.description)) problems.add("non-standard field 'description' read as details");
  if (details) vuln.description = details;
  if (str(rec.published)) vuln.published = rec.published as string;
  if (str(rec.modified)) vuln.modified = rec.modified as string;
  if (str(rec.withdrawn)) vuln.withdrawn = { at: rec.withdrawn as string, source: src };
  readSeverity(rec.severity, src, vuln, problems, '');
  const dbs = isObject(rec.database_specific) ? rec.database_specific : {};
  for (const c of strings(dbs.cwe_ids)) vuln.cwes.push({ cwe: c, source: src });
  for (const r of Array.isArray(rec.references) ? rec.references.filter(isObject) : []) {
    if (typeof r.url === 'string') vuln.references.push({ url: r.url, ...(str(r.type) ? { tags: [r.type as string] } : {}), source: osvId });
  }
  const affected = Array.isArray(rec.affected) ? rec.affected : [];
  affected.forEach((a, i) => {
    const where = `affected[${i}]`;
    if (!isObject(a)) return problems.add(`${where}: not an object, skipped`);
    const pkg = isObject(a.package) ? a.package : {};
    const purl = str(pkg.purl);
    const entry: AffectedEntry = {
      basis: purl ? 'purl' : 'osv-package',
      source: src,
      versions: [],
      ranges: readRanges(a.ranges, problems, where),
    };
    if (purl) entry.purl = purl;
    if (str(pkg.name)) entry.packageName = pkg.name as string;
    if (str(pkg.ecosystem)) entry.ecosystem = pkg.ecosystem as string;
    const explicit = strings(a.versions);
    if (explicit.length) entry.explicitVersions = explicit;
    if (!entry.packageName && !purl) problems.add(`${where}: no package name or purl; kept, but nothing can match it`);
    if (!entry.ranges.length && !explicit.length) problems.add(`${where}: no ranges and no versions`);
    readSeverity(a.severity, src, vuln, problems, where);
    // GHSA-derived records carry a CVSS and CWEs per package in database_specific.
    const ds = isObject(a.database_specific) ? a.database_specific : {};
    if (isObject(ds.cvss) && typeof ds.cvss.vectorString === 'string') {
      const s = scoreCvss({ vector: ds.cvss.vectorString, score: typeof ds.cvss.score === 'number' ? ds.cvss.score : undefined }, { ...src, provider: `${src.provider} database_specific` });
      problems.cvss(`${where}.database_specific.cvss`, s);
      if (!vuln.cvss.some((c) => c.vector === s.vector && c.source.provider === s.source.provider)) vuln.cvss.push(s);
    }
    for (const c of Array.isArray(ds.cwes) ? ds.cwes.filter(isObject) : []) {
      if (typeof c.cweId === 'string' && !vuln.cwes.some((w) => w.cwe === c.cweId)) vuln.cwes.push({ cwe: c.cweId, source: src });
    }
    vuln.affected.push(entry);
  });
  return { vuln, problems };
}

/** Parse an OSV record or an array of OSV records. */
export function parseOsv(doc: unknown, document: string): FeedResult {
  const out = emptyResult();
  const records = Array.isArray(doc) ? doc : isObject(doc) ? [doc] : undefined;
  if (!records) {
    out.report.push(rejected(document, 'osv', '(document)', 'not an OSV record or array of records'));
    return out;
  }
  records.forEach((r, i) => {
    const { vuln, problems } = readOne(r, document, i);
    if (vuln) out.vulnerabilities.push(vuln);
    out.report.push(problems.done(vuln !== undefined));
  });
  return out;
}
