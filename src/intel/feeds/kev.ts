/**
 * The CISA Known Exploited Vulnerabilities catalog. Each catalog entry is one record.
 *
 * Validation: when the catalog's own JSON schema (known_exploited_vulnerabilities_schema.json,
 * shipped beside the catalog) is given, the catalog is validated against it with ajv (draft-07,
 * formats from ajv-formats) and each error is reported on the entry it concerns. Without it,
 * `KevEntrySchema` — a zod transcription of that schema's required fields, types and patterns
 * — is used instead. Either way the declared `count` is checked against the entries present.
 */
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { z } from 'zod';
import { newVulnerability, type Vulnerability } from '../model.js';
import { emptyResult, isObject, RecordProblems, rejected, source, str, strings, type FeedResult } from './common.js';

// ajv-formats is CommonJS with a default export property
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a YYYY-MM-DD date');

/** A KEV entry: the catalog schema's required fields, types and patterns. */
export const KevEntrySchema = z.object({
  cveID: z.string().regex(/^CVE-[0-9]{4}-[0-9]{4,19}$/),
  vendorProject: z.string(),
  product: z.string(),
  vulnerabilityName: z.string(),
  dateAdded: date,
  shortDescription: z.string(),
  requiredAction: z.string(),
  dueDate: date,
  knownRansomwareCampaignUse: z.string().optional(),
  notes: z.string().optional(),
  cwes: z.array(z.string().regex(/^CWE-([0-9])+$/)).optional(),
});
const KevCatalogSchema = z.object({ catalogVersion: z.string(), dateReleased: z.string(), count: z.number().int(), vulnerabilities: z.array(z.unknown()) });

/** Whether a parsed JSON document is the KEV catalog's JSON schema. */
export function isKevSchema(doc: unknown): boolean {
  return isObject(doc) && typeof doc.$schema === 'string' && typeof doc.title === 'string' && /Known Exploited Vulnerabilities/i.test(doc.title);
}

/** Per-entry (index -> problems) and catalog-level problems from the published schema, via ajv. */
function ajvProblems(schema: object, doc: unknown): { catalog: string[]; entries: Map<number, string[]> } {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  const catalog: string[] = [];
  const entries = new Map<number, string[]>();
  if (validate(doc)) return { catalog, entries };
  for (const e of (validate.errors ?? []) as ErrorObject[]) {
    const m = /^\/vulnerabilities\/(\d+)(\/.*)?$/.exec(e.instancePath);
    const what = `schema: ${e.instancePath || '(root)'} ${e.message ?? ''}${e.keyword === 'required' ? ` (${JSON.stringify(e.params)})` : ''}`.trim();
    if (m) {
      const i = Number(m[1]);
      entries.set(i, [...(entries.get(i) ?? []), what]);
    } else catalog.push(what);
  }
  return { catalog, entries };
}

/** Parse the KEV catalog; `schema` is the catalog's JSON schema object when the feed has it. */
export function parseKev(doc: unknown, document: string, schema?: object): FeedResult {
  const out = emptyResult();
  if (!isObject(doc) || !Array.isArray(doc.vulnerabilities)) {
    out.report.push(rejected(document, 'kev', '(catalog)', 'not a KEV catalog: no vulnerabilities array'));
    return out;
  }
  const catalogVersion = str(doc.catalogVersion);
  const catalogProblems = new RecordProblems(document, 'kev', `catalog ${catalogVersion ?? '(no version)'}`);
  let perEntry = new Map<number, string[]>();
  if (schema) {
    const r = ajvProblems(schema, doc);
    r.catalog.forEach((p) => catalogProblems.add(p));
    perEntry = r.entries;
  } else {
    const c = KevCatalogSchema.safeParse(doc);
    if (!c.success) catalogProblems.addIssues(c.error.issues);
  }
  if (typeof doc.count === 'number' && doc.count !== doc.vulnerabilities.length) {
    catalogProblems.add(`count says ${doc.count} but the catalog holds ${doc.vulnerabilities.length} entries`);
  }
  const catalogReport = catalogProblems.done(true);
  catalogReport.notes = [`${doc.vulnerabilities.length} entries; validated with ${schema ? 'the catalog JSON schema (ajv)' : 'the built-in zod schema'}`];
  out.report.push(catalogReport);

  doc.vulnerabilities.forEach((e, i) => {
    const id = isObject(e) && typeof e.cveID === 'string' ? e.cveID : undefined;
    const problems = new RecordProblems(document, 'kev', id ?? `(entry ${i}: no cveID)`);
    if (schema) (perEntry.get(i) ?? []).forEach((p) => problems.add(p));
    else {
      const c = KevEntrySchema.safeParse(e);
      if (!c.success) problems.addIssues(c.error.issues);
    }
    if (!isObject(e) || !id) {
      if (!problems.problems.length) problems.add('cveID missing');
      out.report.push(problems.done(false));
      return;
    }
    const src = source('kev', document, id, 'CISA');
    const ransomware = str(e.knownRansomwareCampaignUse);
    if (ransomware && ransomware !== 'Known' && ransomware !== 'Unknown') problems.add(`knownRansomwareCampaignUse '${ransomware}' is not Known|Unknown; read as not known`);
    const vuln: Vulnerability = {
      ...newVulnerability(id, [src]),
      cwes: strings(e.cwes).map((cwe) => ({ cwe, source: src })),
      kev: {
        dateAdded: str(e.dateAdded) ?? '',
        dueDate: str(e.dueDate) ?? '',
        knownRansomware: ransomware === 'Known',
        requiredAction: str(e.requiredAction) ?? '',
        vendorProject: str(e.vendorProject) ?? '',
        product: str(e.product) ?? '',
        vulnerabilityName: str(e.vulnerabilityName) ?? '',
        source: src,
        ...(str(e.notes) ? { notes: e.notes as string } : {}),
        ...(catalogVersion ? { catalogVersion } : {}),
      },
    };
    if (str(e.vulnerabilityName)) vuln.title = e.vulnerabilityName as string;
    if (str(e.shortDescription)) vuln.description = e.shortDescription as string;
    out.vulnerabilities.push(vuln);
    out.report.push(problems.done(true));
  });
  return out;
}
