/**
 * Matching: which SBOM components a vulnerability applies to, on what basis and how surely.
 *
 * `matchComponent` reads every statement of a normalized Vulnerability (CVE 5 CNA and ADP
 * entries, NVD configurations, OSV packages, CSAF product_status from the context) and
 * returns one Match per statement that names the component. Each Match carries its basis
 * and a confidence from BASIS_CONFIDENCE. Version knowledge that cannot be compared (custom
 * version types, free text, ANY/NA CPE versions, git commits outside the event list, a
 * component without a version) yields `needs_review` or `unknown`, never `affected`.
 * VEX decisions (CSAF VEX, CycloneDX VEX, analysts) override per vulnerability and
 * component identity; the overridden result is kept on the Match.
 */
import type { AffectedEntry, Vulnerability } from '../model.js';
import type { Sbom, SbomComponent } from '../sbom/types.js';
import { cpeText, formatCpe, tryParseCpe } from './cpe.js';
import { matchCsaf, resolveProduct } from './csaf.js';
import { evaluateCve5, type Cve5Outcome } from './cve5.js';
import { evaluateConfiguration, evaluateCpeMatch, nvdConfigurations } from './nvd.js';
import { evaluateOsv, type OsvOutcome } from './osv.js';
import { osvPackageAsPurl, parsePurl, samePackage, type PurlParts } from './purl.js';
import { BASIS_CONFIDENCE, type Match, type MatchBasis, type MatchContext, type MatchResult } from './types.js';
import { applyVex, componentIdentity, norm } from './vex.js';

export { BASIS_CONFIDENCE, type Match, type MatchBasis, type MatchContext, type MatchResult } from './types.js';
export { componentIdentity } from './vex.js';

/** Matches one component against one vulnerability. */
export function matchComponent(component: SbomComponent, vulnerability: Vulnerability, context: MatchContext = {}): Match[] {
  const out: Match[] = [];
  const identity = componentIdentity(component);
  const push = (m: Omit<Match, 'vulnerabilityId' | 'componentRef' | 'componentIdentity'>): void => {
    out.push({ vulnerabilityId: vulnerability.id, componentRef: component.bomRef, componentIdentity: identity, ...m });
  };
  const cpurl = component.purl ? parsePurl(component.purl) : undefined;
  const version = componentVersion(component, cpurl);

  const csafDocs = new Set((context.csaf ?? []).map((d) => d.source.document));
  const pushEntry = (e: AffectedEntry, m: Omit<Match, 'vulnerabilityId' | 'componentRef' | 'componentIdentity'> | undefined): void => {
    if (!m) return;
    if (e.withdrawn && (m.result === 'affected' || m.result === 'needs_review')) {
      // the record behind this statement was withdrawn (e.g. a GHSA), while the CVE stands
      push({ ...m, result: 'not_affected', reason: `the record behind this statement was withdrawn; was ${m.result}: ${m.reason}` });
    } else push(m);
  };
  for (const e of vulnerability.affected) {
    if (e.nvdConfiguration) continue; // below, as whole configurations
    if (e.basis === 'csaf-product') {
      // the document's product tree (context.csaf) resolves better; without it, the entry's names
      if (!csafDocs.has(e.source.document)) pushEntry(e, matchCsafEntry(e, component));
      continue;
    }
    if (e.purl || e.basis === 'osv-package') pushEntry(e, matchPackage(e, cpurl, version));
    else if (e.cpe || e.cpes?.length) pushEntry(e, matchCve5Cpe(e, component, version));
    else pushEntry(e, matchCve5Product(e, component, version));
  }

  for (const config of nvdConfigurations(vulnerability.affected)) {
    const context2 = [...(context.sbomCpes ?? []), ...component.cpes];
    const o = evaluateConfiguration(config, componentCpesWithVersion(component), context2);
    if (o.hits.length === 0) continue;
    const matched = o.hits.some((h) => h.outcome.match === true);
    const result: MatchResult = o.value === true && matched ? 'affected' : o.value === false ? (o.hits.some((h) => h.outcome.identity === true) ? 'not_affected' : 'unknown') : 'needs_review';
    // an affected result is explained by the criteria that matched, not by every range it missed
    const why = result === 'affected' ? o.hits.filter((h) => h.outcome.match === true).map((h) => h.outcome.reason) : o.reasons;
    push({ result, basis: 'cpe+range', confidence: BASIS_CONFIDENCE['cpe+range'], reason: `NVD configuration ${config[0]!.nvdConfiguration!.config}: ${why.join('; ')}`, source: config[0]!.source });
  }

  const ids = new Set([vulnerability.id, ...vulnerability.aliases]);
  for (const doc of context.csaf ?? []) {
    for (const m of matchCsaf(doc, component)) {
      if (!ids.has(m.vulnerabilityId)) continue;
      const confidence = m.resolution.via === 'name+version' ? 0.6 : BASIS_CONFIDENCE['csaf-product'];
      push({ result: m.result, basis: 'csaf-product', confidence, reason: `${doc.trackingId} ${m.category} ${m.productId} (${m.resolution.via}: ${m.resolution.reason})`, source: doc.source });
    }
  }

  if (out.length === 0) {
    const hit = mentions(vulnerability, component.name);
    if (hit) push({ result: 'needs_review', basis: 'description-only', confidence: BASIS_CONFIDENCE['description-only'], reason: `the description mentions ${JSON.stringify(component.name)}; no structured statement names the component` });
  }

  if (vulnerability.withdrawn) {
    for (const m of out) {
      if (m.result === 'affected' || m.result === 'needs_review') {
        m.reason = `record withdrawn${vulnerability.withdrawn.at ? ` ${vulnerability.withdrawn.at}` : ''}; was ${m.result}: ${m.reason}`;
        m.result = 'not_affected';
      }
    }
  }
  applyVex(out, component, ids, context.vex ?? []);
  return out;
}

/** Matches every component (and the subject, as a component) of an SBOM against the vulnerabilities. */
export function matchSbom(sbom: Sbom, vulnerabilities: readonly Vulnerability[], context: Omit<MatchContext, 'sbomCpes'> = {}): Match[] {
  const sbomCpes = [...(sbom.subject?.cpes ?? []), ...sbom.components.flatMap((c) => c.cpes)];
  const components = [...sbom.components];
  if (sbom.subject?.bomRef) {
    const s = sbom.subject;
    components.push({ bomRef: s.bomRef!, name: s.name, cpes: s.cpes, parents: [], ...(s.version ? { version: s.version } : {}), ...(s.purl ? { purl: s.purl } : {}), ...(s.supplier ? { supplier: s.supplier } : {}) });
  }
  return vulnerabilities.flatMap((v) => components.flatMap((c) => matchComponent(c, v, { ...context, sbomCpes })));
}

// ------------------------------------------------------------------ component version

function componentVersion(c: SbomComponent, p: PurlParts | undefined): string | undefined {
  return c.version ?? p?.version ?? c.cpes.map((x) => tryParseCpe(x)).map((r) => ('wfn' in r ? cpeText(r.wfn.version) : undefined)).find((v) => v !== undefined);
}

/** The component's CPEs; a CPE with version ANY gets the component's version when it has one (SBOM tools often leave it `*`). */
function componentCpesWithVersion(c: SbomComponent): string[] {
  return c.cpes.map((x) => {
    const r = tryParseCpe(x);
    if (!('wfn' in r) || r.wfn.version.kind !== 'ANY' || !c.version || !/^[A-Za-z0-9._-]+$/.test(c.version)) return x;
    return formatCpe({ ...r.wfn, version: { kind: 'value', value: c.version.toLowerCase().replace(/([.-])/g, '\\$1') } });
  });
}

// ------------------------------------------------------------------ purl / OSV packages

function matchPackage(e: AffectedEntry, cpurl: PurlParts | undefined, version: string | undefined): Omit<Match, 'vulnerabilityId' | 'componentRef' | 'componentIdentity'> | undefined {
  if (!cpurl) return undefined;
  const want = e.purl ? parsePurl(e.purl) : e.ecosystem && e.packageName ? osvPackageAsPurl(e.ecosystem, e.packageName) : undefined;
  if (!want || !samePackage(want, cpurl)) return undefined;
  const basis: MatchBasis = 'purl+range';
  const base = { basis, confidence: BASIS_CONFIDENCE[basis], source: e.source };
  if (!version) return { ...base, result: 'needs_review', reason: `${e.purl ?? e.packageName}: the component has no version` };
  if (e.ranges.length || e.explicitVersions?.length) {
    const ecosystem = e.ecosystem ?? ecosystemForPurlType(cpurl.type);
    return { ...base, ...fromOsv(evaluateOsv(version, e.ranges, e.explicitVersions ?? [], ecosystem)) };
  }
  if (e.versions.length) return { ...base, ...fromCve5(evaluateCve5(version, e.versions, e.defaultStatus), 'purl') };
  if (want.version) {
    return want.version === version ? { ...base, result: 'affected', reason: `purl ${e.purl} names this version` } : { ...base, result: 'not_affected', reason: `purl ${e.purl} names another version` };
  }
  return { ...base, result: 'needs_review', reason: `${e.purl ?? e.packageName}: the record gives no versions` };
}

function ecosystemForPurlType(type: string): string | undefined {
  const map: Record<string, string> = { npm: 'npm', pypi: 'PyPI', maven: 'Maven', golang: 'Go', cargo: 'crates.io', deb: 'Debian', hex: 'Hex', pub: 'Pub' };
  return map[type];
}

function fromOsv(o: OsvOutcome): { result: MatchResult; reason: string } {
  if (o.status === 'affected') return { result: 'affected', reason: o.reason };
  if (o.status === 'unaffected') return { result: /fixed in/.test(o.reason) ? 'fixed' : 'not_affected', reason: o.reason };
  return { result: 'needs_review', reason: o.reason };
}

// ------------------------------------------------------------------ CVE 5 entries

/** CVE 5 outcome -> result. A `custom` exact hit is not an ordered comparison: it needs review. */
function fromCve5(o: Cve5Outcome, identity: 'purl' | 'cpe' | 'name'): { result: MatchResult; reason: string } {
  if (!o.determined) {
    const possible = [...o.possible].sort().join(', ');
    return { result: o.possible.includes('affected') ? 'needs_review' : 'unknown', reason: `undecidable (could be ${possible}): ${o.reasons.join('; ')}` };
  }
  if (o.status === 'affected') {
    if (o.versionType?.toLowerCase() === 'custom') return { result: 'needs_review', reason: `${o.reason}; custom version type` };
    return { result: 'affected', reason: `${o.reason} (by ${identity})` };
  }
  if (o.status === 'unaffected') return { result: 'not_affected', reason: o.reason };
  return { result: 'unknown', reason: o.reason };
}

function matchCve5Cpe(e: AffectedEntry, c: SbomComponent, version: string | undefined): Omit<Match, 'vulnerabilityId' | 'componentRef' | 'componentIdentity'> | undefined {
  const basis: MatchBasis = e.source.kind === 'cve5-adp' ? 'adp-cpe' : 'cpe+range';
  const cpes = e.cpes?.length ? e.cpes : [e.cpe!];
  const named = cpes.map((x) => ({ x, o: evaluateCpeMatch({ ...e, cpe: x }, c.cpes) })).find((r) => r.o.identity === true);
  if (!named) return undefined;
  const base = { basis, confidence: BASIS_CONFIDENCE[basis], source: e.source };
  if (!version) return { ...base, result: 'needs_review', reason: `${named.x} names the component, which has no version` };
  if (e.versions.length === 0) {
    return named.o.match === true ? { ...base, result: 'affected', reason: named.o.reason } : { ...base, result: named.o.match === false ? 'not_affected' : 'needs_review', reason: named.o.reason };
  }
  const r = fromCve5(evaluateCve5(version, e.versions, e.defaultStatus), 'cpe');
  return { ...base, ...r, reason: `${named.x}: ${r.reason}` };
}

const words = (s: string): Set<string> => new Set(norm(s).split(' ').filter(Boolean));
const NOT_A_NAME = new Set(['', 'n a', 'na', 'unknown', 'various']);
/** Legal forms and filler: two companies sharing only `GmbH` are not the same vendor. */
const NOT_A_VENDOR_WORD = new Set(['gmbh', 'ag', 'inc', 'ltd', 'llc', 'corp', 'corporation', 'co', 'kg', 'se', 'sa', 'bv', 'nv', 'plc', 'limited', 'company', 'the', 'and', 'of', 'group']);

/**
 * CNA vendor/product (free text) vs component name and supplier. Equal names are a product
 * match; a component name whose words (at least two) all occur in the product text is a
 * weaker one (confidence 0.4, never `affected`), and so is the component's name as an item of
 * a free-text version list (chipsets). A vendor that shares no word (other than a legal form)
 * with the supplier rules the match out.
 */
function matchCve5Product(e: AffectedEntry, c: SbomComponent, version: string | undefined): Omit<Match, 'vulnerabilityId' | 'componentRef' | 'componentIdentity'> | undefined {
  const product = norm(e.product);
  if (NOT_A_NAME.has(product)) return undefined;
  const vendor = norm(e.vendor);
  if (!NOT_A_NAME.has(vendor) && c.supplier) {
    const sw = words(c.supplier);
    if (![...words(vendor)].some((w) => sw.has(w) && !NOT_A_VENDOR_WORD.has(w))) return undefined;
  }
  const cname = norm(c.name);
  const full = norm(`${vendor} ${c.name}`);
  let strength: 'name' | 'words' | 'listed' | undefined;
  if (product === cname || product === full) strength = 'name';
  else {
    const cw = [...words(c.name)];
    const pw = words(e.product!);
    if (cw.length >= 2 && cw.every((w) => pw.has(w))) strength = 'words';
    else if (inVersionList(e, c, vendor)) strength = 'listed';
  }
  if (!strength) return undefined;
  const basis: MatchBasis = 'cve5-product';
  const confidence = strength === 'name' ? BASIS_CONFIDENCE[basis] : 0.4;
  const base = { basis, confidence, source: e.source };
  const label = `${e.vendor ?? '?'} / ${e.product}`;
  if (strength === 'listed') return { ...base, result: 'needs_review', reason: `${label}: ${JSON.stringify(c.name)} is named in the version text (a chipset or model list), not as a version` };
  if (e.freeText) return { ...base, result: 'needs_review', reason: `${label}: versions are free text (${(e.rawVersions ?? []).join(' | ')})` };
  if (!version) return { ...base, result: 'needs_review', reason: `${label}: the component has no version` };
  const r = fromCve5(evaluateCve5(version, e.versions, e.defaultStatus), 'name');
  if (strength === 'words' && r.result === 'affected') return { ...base, result: 'needs_review', reason: `${label} contains the component's name: ${r.reason}` };
  return { ...base, ...r, reason: `${label}: ${r.reason}` };
}

/**
 * Chipset and model lists in CVE 5 version fields (`APQ8009, APQ8017, MDM9628, ...`): the
 * component's name as one item of such a list, from a supplier sharing a word with the vendor
 * (required here: part numbers are short).
 */
function inVersionList(e: AffectedEntry, c: SbomComponent, vendor: string): boolean {
  if (!e.freeText || NOT_A_NAME.has(vendor) || !c.supplier) return false;
  const cname = norm(c.name);
  if (cname.length < 3) return false;
  return (e.rawVersions ?? []).some((t) => t.split(/[,;/]|\band\b/).some((item) => norm(item) === cname));
}

// ------------------------------------------------------------------ CSAF without its document

/** A CSAF entry as the importer flattened it (vendor, product, one version clause), resolved by name and version. */
function matchCsafEntry(e: AffectedEntry, c: SbomComponent): Omit<Match, 'vulnerabilityId' | 'componentRef' | 'componentIdentity'> | undefined {
  const clause = e.versions[0];
  const product = { productId: e.csafProductId ?? '?', name: e.product ?? '', ...(e.vendor ? { vendor: e.vendor } : {}), ...(e.product ? { productName: e.product } : {}), ...(clause ? { version: clause.version } : {}) };
  const r = resolveProduct(product, c);
  if (!r) return undefined;
  const result: MatchResult = r.level !== 'exact' || !clause ? 'needs_review' : clause.status === 'affected' ? 'affected' : clause.status === 'unaffected' ? 'not_affected' : 'needs_review';
  return { result, basis: 'csaf-product', confidence: 0.6, reason: `CSAF ${e.source.recordId ?? e.source.document} ${e.csafProductId ?? ''}: ${r.reason} (${clause?.status ?? 'no status'}; resolved by name without the product tree)`, source: e.source };
}

// ------------------------------------------------------------------ description

/** The component's name, as a whole word sequence of at least 4 characters, in the description. */
function mentions(v: Vulnerability, name: string): boolean {
  const n = norm(name);
  if (n.length < 4) return false;
  const texts = [v.description, ...(v.descriptions ?? []).map((d) => d.text)].filter((t): t is string => !!t);
  return texts.some((t) => ` ${norm(t)} `.includes(` ${n} `));
}
