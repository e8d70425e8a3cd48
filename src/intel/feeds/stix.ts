/**
 * STIX 2.1 bundles (and STIX 2.0 bundles, which the OASIS examples still use): indicators
 * with their patterns parsed (stix-pattern.ts), vulnerability SDOs as Vulnerabilities, and
 * relationships (`indicates`, `related-to`) linking indicators to what they indicate. Every
 * object is one record.
 *
 * Validation: zod schemas transcribing the required properties of the published STIX 2.1
 * JSON schemas (common: type, spec_version, id `type--uuid`, created, modified; indicator:
 * pattern, pattern_type, valid_from; relationship: relationship_type, source_ref,
 * target_ref; vulnerability: name). An object of a 2.0 bundle (bundle `spec_version: "2.0"`,
 * no spec_version on the object) is checked with the 2.0 rules instead (indicator: labels and
 * pattern, pattern type `stix`), and the report says so in a note. Timestamp formats and
 * vocabularies are not checked.
 */
import { z } from 'zod';
import { newVulnerability, type Indicator, type Vulnerability } from '../model.js';
import { CVE_ID, emptyResult, isObject, RecordProblems, rejected, source, str, strings, type FeedResult } from './common.js';
import { parseStixPattern } from './stix-pattern.js';

const stixId = z.string().regex(/^[a-z0-9-]+--[0-9a-fA-F-]{36}$/, 'must be type--UUID');
const common21 = { type: z.string(), spec_version: z.literal('2.1'), id: stixId, created: z.string(), modified: z.string() };
const common20 = { type: z.string(), id: stixId, created: z.string(), modified: z.string() };

/** STIX 2.1 objects this importer reads, by type (required properties). */
export const Stix21Schemas = {
  indicator: z.object({ ...common21, pattern: z.string(), pattern_type: z.string(), valid_from: z.string(), valid_until: z.string().optional() }),
  relationship: z.object({ ...common21, relationship_type: z.string(), source_ref: stixId, target_ref: stixId }),
  vulnerability: z.object({ ...common21, name: z.string() }),
  other: z.object({ ...common21 }),
} as const;
/** The STIX 2.0 rules for objects of a 2.0 bundle. */
export const Stix20Schemas = {
  indicator: z.object({ ...common20, labels: z.array(z.string()).min(1), pattern: z.string(), valid_from: z.string() }),
  relationship: z.object({ ...common20, relationship_type: z.string(), source_ref: stixId, target_ref: stixId }),
  vulnerability: z.object({ ...common20, name: z.string() }),
  other: z.object({ ...common20 }),
} as const;

type Kind = keyof typeof Stix21Schemas;
const kindOf = (type: unknown): Kind => (type === 'indicator' || type === 'relationship' || type === 'vulnerability' ? type : 'other');

/** The CVE id of a vulnerability SDO: external_references `cve`, else a CVE-shaped name. */
function cveOf(o: Record<string, unknown>): string | undefined {
  for (const r of Array.isArray(o.external_references) ? o.external_references.filter(isObject) : []) {
    if (typeof r.source_name === 'string' && r.source_name.toLowerCase() === 'cve' && typeof r.external_id === 'string') return r.external_id;
  }
  return typeof o.name === 'string' && CVE_ID.test(o.name) ? o.name : undefined;
}

/** Parse a STIX bundle, or a single STIX object. */
export function parseStix(doc: unknown, document: string): FeedResult {
  const out = emptyResult();
  const objects = isObject(doc) && doc.type === 'bundle' ? doc.objects : isObject(doc) && typeof doc.type === 'string' ? [doc] : undefined;
  if (!Array.isArray(objects)) {
    out.report.push(rejected(document, 'stix', isObject(doc) && typeof doc.id === 'string' ? doc.id : '(document)', 'not a STIX bundle: no objects array'));
    return out;
  }
  const bundle20 = isObject(doc) && doc.spec_version === '2.0';
  const byId = new Map<string, Record<string, unknown>>();
  for (const o of objects) if (isObject(o) && typeof o.id === 'string') byId.set(o.id, o);

  const indicators = new Map<string, Indicator>();
  const vulnsById = new Map<string, Vulnerability>();
  const relationships: Record<string, unknown>[] = [];
  const reports: { problems: RecordProblems; imported: boolean; notes: string[] }[] = [];

  objects.forEach((o, i) => {
    const id = isObject(o) && typeof o.id === 'string' ? o.id : undefined;
    const problems = new RecordProblems(document, 'stix', id ?? `(object ${i}: no id)`);
    const notes: string[] = [];
    if (!isObject(o) || !id || typeof o.type !== 'string') {
      problems.add('not a STIX object: needs type and id');
      reports.push({ problems, imported: false, notes });
      return;
    }
    const is20 = o.spec_version === undefined && bundle20;
    const kind = kindOf(o.type);
    const check = (is20 ? Stix20Schemas : Stix21Schemas)[kind].safeParse(o);
    if (!check.success) problems.addIssues(check.error.issues);
    if (is20) notes.push('STIX 2.0 object (2.0 bundle): checked with the 2.0 rules');
    const src = source('stix', document, id);

    if (kind === 'indicator') {
      const pattern = str(o.pattern);
      if (!pattern) {
        problems.add('indicator without a pattern: nothing to match');
        reports.push({ problems, imported: false, notes });
        return;
      }
      const patternType = str(o.pattern_type) ?? (is20 ? 'stix' : undefined);
      const ind: Indicator = {
        id,
        pattern,
        patternType: patternType ?? 'stix',
        labels: strings(o.labels),
        indicatorTypes: strings(o.indicator_types),
        killChain: (Array.isArray(o.kill_chain_phases) ? o.kill_chain_phases.filter(isObject) : []).map((k) => ({
          killChainName: str(k.kill_chain_name) ?? '',
          phaseName: str(k.phase_name) ?? '',
        })),
        indicates: [],
        vulnerabilities: [],
        source: src,
      };
      for (const k of ['name', 'description'] as const) if (str(o[k])) ind[k] = o[k] as string;
      if (str(o.pattern_version)) ind.patternVersion = o.pattern_version as string;
      if (str(o.valid_from)) ind.validFrom = o.valid_from as string;
      if (str(o.valid_until)) ind.validUntil = o.valid_until as string;
      if (o.revoked === true) ind.revoked = true;
      if (typeof o.confidence === 'number' && o.confidence >= 0 && o.confidence <= 100) ind.confidence = o.confidence;
      if (ind.patternType === 'stix') {
        try {
          ind.parsed = parseStixPattern(pattern);
          for (const u of ind.parsed.unsupported ?? []) notes.push(`pattern: ${u}`);
        } catch (e) {
          problems.add(`pattern '${pattern}' could not be parsed: ${(e as Error).message}; kept unparsed, it will not match`);
        }
      } else notes.push(`pattern_type '${ind.patternType}' is kept as text, not parsed`);
      indicators.set(id, ind);
    } else if (kind === 'vulnerability') {
      const cve = cveOf(o);
      const vuln = newVulnerability(cve ?? id, [src], cve ? [id] : []);
      if (str(o.name)) vuln.title = o.name as string;
      if (str(o.description)) vuln.description = o.description as string;
      if (!cve) problems.add('vulnerability SDO without a CVE external reference: kept under its STIX id');
      vulnsById.set(id, vuln);
    } else if (kind === 'relationship') relationships.push(o);
    reports.push({ problems, imported: true, notes });
  });

  for (const r of relationships) {
    const from = indicators.get(r.source_ref as string);
    const target = byId.get(r.target_ref as string);
    if (!from) continue;
    if (!target) {
      const rep = reports.find((x) => x.problems.recordId === r.id);
      rep?.problems.add(`target ${String(r.target_ref)} is not in this bundle`);
      from.indicates.push({ id: String(r.target_ref), type: String(r.target_ref).split('--')[0] ?? '' });
      continue;
    }
    const vuln = vulnsById.get(target.id as string);
    if (vuln && CVE_ID.test(vuln.id)) from.vulnerabilities.push(vuln.id);
    from.indicates.push({ id: target.id as string, type: String(target.type), ...(str(target.name) ? { name: target.name as string } : {}) });
  }

  out.indicators.push(...indicators.values());
  out.vulnerabilities.push(...vulnsById.values());
  for (const r of reports) {
    const line = r.problems.done(r.imported);
    if (r.notes.length) line.notes = r.notes;
    out.report.push(line);
  }
  return out;
}
