/**
 * CSAF 2.0 advisories and VEX documents. The product tree (branches, full_product_names,
 * relationships, product_groups) is flattened into products by id, each with what identifies
 * it (vendor, product name, version or version range from the branches; purl, CPE, hashes from
 * the product identification helper). Each vulnerability's product_status becomes
 * `csaf-product` affected entries on the Vulnerability and one VEX statement per product,
 * with the flag (justification), impact threat and remediations (action) for that product.
 *
 * Validation: `CsafSchema` transcribes the required fields and types of the published CSAF 2.0
 * JSON schema (document: category, csaf_version "2.0", publisher{category,name,namespace},
 * title, tracking{current_release_date,id,initial_release_date,revision_history,status,
 * version}; full product names: name, product_id; branches: category, name and either
 * branches or product; relationships: category, full_product_name, product_reference,
 * relates_to_product_reference; flags: label; threats, remediations: category, details).
 * It also runs the CSAF VEX profile checks 6.1.27.9/6.1.27.10 (a known_not_affected product
 * needs a flag or an impact statement; a known_affected product needs a remediation) and
 * reports product ids referenced but not defined (6.1.1). It does not check formats,
 * the CVSS objects' own schemas (the vectors are scored instead), or the other 6.1 tests.
 */
import { z } from 'zod';
import { newVulnerability, type AffectedEntry, type CsafDocument, type CsafProduct, type CsafProductStatus, type VersionStatus, type VexStatement, type VexStatus } from '../model.js';
import { scoreCvss } from './cvss.js';
import { emptyResult, isObject, isUsableVersion, RecordProblems, rejected, source, str, strings, type FeedResult } from './common.js';

const fullProductName = z.object({ name: z.string(), product_id: z.string() });
type BranchShape = { category: string; name: string; branches?: BranchShape[]; product?: { name: string; product_id: string } };
const branch: z.ZodType<BranchShape> = z.lazy(() =>
  z
    .object({ category: z.string(), name: z.string(), branches: z.array(branch).min(1).optional(), product: fullProductName.optional() })
    .refine((b) => (b.branches === undefined) !== (b.product === undefined), { message: 'a branch has either branches or a product' }),
);
const byProducts = z.object({ category: z.string(), details: z.string() });

/** CSAF 2.0: required fields and types (see the file comment). */
export const CsafSchema = z.object({
  document: z.object({
    category: z.string(),
    csaf_version: z.literal('2.0'),
    publisher: z.object({ category: z.string(), name: z.string(), namespace: z.string() }),
    title: z.string(),
    tracking: z.object({
      current_release_date: z.string(),
      id: z.string(),
      initial_release_date: z.string(),
      revision_history: z.array(z.object({ date: z.string(), number: z.string(), summary: z.string() })).min(1),
      status: z.enum(['draft', 'final', 'interim']),
      version: z.string(),
    }),
  }),
  product_tree: z
    .object({
      branches: z.array(branch).optional(),
      full_product_names: z.array(fullProductName).optional(),
      relationships: z
        .array(z.object({ category: z.string(), full_product_name: fullProductName, product_reference: z.string(), relates_to_product_reference: z.string() }))
        .optional(),
      product_groups: z.array(z.object({ group_id: z.string(), product_ids: z.array(z.string()).min(2) })).optional(),
    })
    .optional(),
  vulnerabilities: z
    .array(
      z.object({
        cve: z.string().regex(/^CVE-\d{4}-\d{4,}$/).optional(),
        flags: z.array(z.object({ label: z.string() })).optional(),
        threats: z.array(byProducts).optional(),
        remediations: z.array(byProducts).optional(),
      }),
    )
    .optional(),
});

const STATUS_KEYS: CsafProductStatus[] = [
  'first_affected',
  'first_fixed',
  'fixed',
  'known_affected',
  'known_not_affected',
  'last_affected',
  'recommended',
  'under_investigation',
];
const VEX_OF: Record<CsafProductStatus, VexStatus | undefined> = {
  first_affected: 'affected',
  known_affected: 'affected',
  last_affected: 'affected',
  first_fixed: 'fixed',
  fixed: 'fixed',
  known_not_affected: 'not_affected',
  under_investigation: 'under_investigation',
  recommended: undefined,
};
const ENTRY_STATUS: Record<VexStatus, VersionStatus> = { affected: 'affected', fixed: 'unaffected', not_affected: 'unaffected', under_investigation: 'unknown' };

function helper(p: Record<string, unknown>, product: CsafProduct): void {
  const h = isObject(p.product_identification_helper) ? p.product_identification_helper : {};
  if (str(h.purl)) product.purl = h.purl as string;
  if (str(h.cpe)) product.cpe = h.cpe as string;
  const hashes = Array.isArray(h.hashes) ? h.hashes.filter(isObject) : [];
  const flat = hashes.flatMap((x) => (Array.isArray(x.file_hashes) ? x.file_hashes.filter(isObject) : []));
  const list = flat.filter((f) => typeof f.algorithm === 'string' && typeof f.value === 'string').map((f) => ({ algorithm: f.algorithm as string, value: f.value as string }));
  if (list.length) product.hashes = list;
}

/** Walk the product tree into products by id. */
export function csafProducts(tree: unknown, problems: RecordProblems): Record<string, CsafProduct> {
  const products: Record<string, CsafProduct> = {};
  if (!isObject(tree)) return products;
  const walk = (branches: unknown, path: Record<string, string>): void => {
    if (!Array.isArray(branches)) return;
    for (const b of branches.filter(isObject)) {
      const here = { ...path };
      if (typeof b.category === 'string' && typeof b.name === 'string') here[b.category] = b.name.trim();
      if (isObject(b.product) && typeof b.product.product_id === 'string') {
        const p: CsafProduct = { productId: b.product.product_id, name: str(b.product.name) ?? b.product.product_id };
        if (here.vendor) p.vendor = here.vendor;
        if (here.product_name) p.productName = here.product_name;
        if (here.product_family) p.family = here.product_family;
        if (here.product_version) p.version = here.product_version;
        if (here.product_version_range) p.versionRange = here.product_version_range;
        helper(b.product, p);
        products[p.productId] = p;
      }
      walk(b.branches, here);
    }
  };
  walk(tree.branches, {});
  for (const f of Array.isArray(tree.full_product_names) ? tree.full_product_names.filter(isObject) : []) {
    if (typeof f.product_id !== 'string') continue;
    const p: CsafProduct = { productId: f.product_id, name: str(f.name) ?? f.product_id };
    helper(f, p);
    products[p.productId] = p;
  }
  for (const r of Array.isArray(tree.relationships) ? tree.relationships.filter(isObject) : []) {
    const f = isObject(r.full_product_name) ? r.full_product_name : undefined;
    if (!f || typeof f.product_id !== 'string') continue;
    const ref = String(r.product_reference ?? '');
    const to = String(r.relates_to_product_reference ?? '');
    const base = products[ref];
    const p: CsafProduct = { ...(base ?? {}), productId: f.product_id, name: str(f.name) ?? f.product_id };
    p.relationship = { category: String(r.category ?? ''), productReference: ref, relatesTo: to };
    helper(f, p);
    if (!base) problems.add(`relationship ${f.product_id}: product_reference ${ref} is not defined`);
    if (!products[to]) problems.add(`relationship ${f.product_id}: relates_to_product_reference ${to} is not defined`);
    products[p.productId] = p;
  }
  return products;
}

/** Parse a CSAF 2.0 document. */
export function parseCsaf(doc: unknown, document: string): FeedResult {
  const out = emptyResult();
  const d = isObject(doc) && isObject(doc.document) ? doc.document : undefined;
  const tracking = d && isObject(d.tracking) ? d.tracking : {};
  const trackingId = str(tracking.id);
  const docProblems = new RecordProblems(document, 'csaf', trackingId ?? '(no tracking id)');
  if (!isObject(doc) || !d) {
    out.report.push(rejected(document, 'csaf', '(document)', 'not a CSAF document: no document object'));
    return out;
  }
  const check = CsafSchema.safeParse(doc);
  if (!check.success) docProblems.addIssues(check.error.issues);
  const publisher = isObject(d.publisher) ? str(d.publisher.name) : undefined;
  const id = trackingId ?? document;
  const products = csafProducts(doc.product_tree, docProblems);
  const groups = new Map<string, string[]>();
  const tree = isObject(doc.product_tree) ? doc.product_tree : {};
  for (const g of Array.isArray(tree.product_groups) ? tree.product_groups.filter(isObject) : []) {
    if (typeof g.group_id === 'string') groups.set(g.group_id, strings(g.product_ids));
  }
  const docSrc = source('csaf', document, id, publisher);
  const csafDoc: CsafDocument = { trackingId: id, title: str(d.title) ?? '', category: str(d.category) ?? '', products, productStatus: [], source: docSrc };
  if (publisher) csafDoc.publisher = publisher;

  const vulns = Array.isArray(doc.vulnerabilities) ? doc.vulnerabilities : [];
  vulns.forEach((v, vi) => {
    const cve = isObject(v) ? str(v.cve) : undefined;
    const vulnId = cve ?? (isObject(v) && Array.isArray(v.ids) && isObject(v.ids[0]) ? str(v.ids[0].text) : undefined) ?? `${id}#${vi}`;
    const problems = new RecordProblems(document, 'csaf', `${id} ${vulnId}`);
    if (!isObject(v)) {
      problems.add(`vulnerabilities[${vi}]: not an object`);
      out.report.push(problems.done(false));
      return;
    }
    const src = source('csaf', document, id, publisher);
    const vuln = newVulnerability(vulnId, [src]);
    if (str(v.title)) vuln.title = v.title as string;
    const notes = Array.isArray(v.notes) ? v.notes.filter(isObject) : [];
    const desc = notes.find((n) => n.category === 'description') ?? notes.find((n) => n.category === 'summary');
    if (desc && str(desc.text)) vuln.description = desc.text as string;
    if (isObject(v.cwe) && str(v.cwe.id)) vuln.cwes.push({ cwe: v.cwe.id as string, source: src });
    for (const r of Array.isArray(v.references) ? v.references.filter(isObject) : []) {
      if (typeof r.url === 'string') vuln.references.push({ url: r.url, ...(str(r.category) ? { tags: [r.category as string] } : {}), ...(publisher ? { source: publisher } : {}) });
    }
    const expand = (x: Record<string, unknown>): string[] => [...strings(x.product_ids), ...strings(x.group_ids).flatMap((g) => groups.get(g) ?? [])];
    (Array.isArray(v.scores) ? v.scores.filter(isObject) : []).forEach((s, si) => {
      for (const [key, ver] of [['cvss_v4', '4.0'], ['cvss_v3', undefined], ['cvss_v2', '2.0']] as const) {
        const c = s[key];
        if (!isObject(c) || typeof c.vectorString !== 'string') continue;
        const score = scoreCvss({ vector: c.vectorString, version: ver ?? str(c.version), score: typeof c.baseScore === 'number' ? c.baseScore : undefined, severity: str(c.baseSeverity) }, src);
        problems.cvss(`scores[${si}].${key}`, score);
        vuln.cvss.push(score);
      }
    });

    const status: Partial<Record<CsafProductStatus, string[]>> = {};
    const ps = isObject(v.product_status) ? v.product_status : {};
    for (const key of STATUS_KEYS) if (Array.isArray(ps[key])) status[key] = strings(ps[key]);
    for (const k of Object.keys(ps)) if (!STATUS_KEYS.includes(k as CsafProductStatus)) problems.add(`product_status.${k}: not a CSAF product status, ignored`);
    csafDoc.productStatus.push({ vulnerabilityId: vulnId, status });

    const flags = Array.isArray(v.flags) ? v.flags.filter(isObject) : [];
    const threats = Array.isArray(v.threats) ? v.threats.filter(isObject) : [];
    const remediations = Array.isArray(v.remediations) ? v.remediations.filter(isObject) : [];
    for (const [key, ids] of Object.entries(status) as [CsafProductStatus, string[]][]) {
      const vex = VEX_OF[key];
      for (const pid of ids) {
        const product = products[pid];
        if (!product) problems.add(`product_status.${key}: product ${pid} is not defined in the product tree`);
        if (!vex) continue; // `recommended` is advice, not a status
        const flag = flags.find((f) => expand(f).includes(pid));
        const impact = threats.filter((t) => t.category === 'impact' && expand(t).includes(pid)).map((t) => String(t.details ?? ''));
        const actions = remediations.filter((r) => expand(r).includes(pid));
        if (key === 'known_not_affected' && !flag && !impact.length) problems.add(`${pid}: known_not_affected without a flag or impact statement (CSAF 6.1.27.9)`);
        if (key === 'known_affected' && !actions.length) problems.add(`${pid}: known_affected without a remediation (CSAF 6.1.27.10)`);
        const st: VexStatement = { vulnerabilityId: vulnId, productId: pid, status: vex, statedStatus: key, source: src };
        if (product) st.product = product;
        if (flag && str(flag.label)) st.justification = flag.label as string;
        if (impact.length) st.impact = impact.join('\n');
        if (actions.length) st.action = actions.map((r) => `${String(r.category ?? '')}: ${String(r.details ?? '')}`).join('\n');
        out.vex.push(st);

        const entry: AffectedEntry = { basis: 'csaf-product', source: src, csafProductId: pid, versions: [], ranges: [] };
        const entryStatus = ENTRY_STATUS[vex];
        if (product) {
          if (product.vendor) entry.vendor = product.vendor;
          entry.product = product.productName ?? product.name;
          if (product.purl) entry.purl = product.purl;
          if (product.cpe) entry.cpe = product.cpe;
          const ver = product.version ?? product.versionRange;
          if (ver) {
            entry.versions.push({ version: ver, status: entryStatus, versionType: product.versionRange ? 'csaf-range' : 'csaf' });
            if (!isUsableVersion(ver)) {
              entry.rawVersions = [ver];
              entry.freeText = true;
            }
          } else entry.defaultStatus = entryStatus;
        } else entry.defaultStatus = entryStatus;
        vuln.affected.push(entry);
      }
    }
    out.vulnerabilities.push(vuln);
    out.report.push(problems.done(true));
  });
  if (!vulns.length) docProblems.add('no vulnerabilities');
  out.csaf.push(csafDoc);
  const line = docProblems.done(true);
  line.notes = [`${Object.keys(products).length} products, ${vulns.length} vulnerabilities`];
  out.report.unshift(line);
  return out;
}
