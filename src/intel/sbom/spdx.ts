/**
 * SPDX 2.3 JSON -> Sbom. Packages become components (purl from a PACKAGE-MANAGER `purl`
 * external ref, CPEs from SECURITY `cpe23Type`/`cpe22Type` refs, supplier, checksums);
 * relationships become parents; the package the document DESCRIBES becomes the subject.
 *
 * As for CycloneDX, every oddity is a problem in the result and the rest is read: a package
 * without SPDXID or name, a locator that does not parse, a relationship to an unknown element,
 * `NOASSERTION` values (treated as absent). Files and snippets are not components.
 */
import { PackageURL } from 'packageurl-js';
import { tryParseCpe } from '../match/cpe.js';
import { bindSubject } from './cyclonedx.js';
import { jsonObject, normaliseHashAlgorithm, type Sbom, type SbomComponent, type SbomParseResult, type SbomSubject, type SubjectBinding } from './types.js';

export interface SpdxOptions {
  document: string;
  binding?: SubjectBinding;
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A string value, with SPDX's NOASSERTION and NONE read as absent. */
const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== '' && v !== 'NOASSERTION' && v !== 'NONE' ? v.trim() : undefined;

/** `A rel B` makes A a parent of B; the inverse relationships make B a parent of A. */
const FORWARD = new Set(['CONTAINS', 'DEPENDS_ON', 'DYNAMIC_LINK', 'STATIC_LINK', 'DESCRIBES', 'HAS_PREREQUISITE']);
const INVERSE = new Set(['CONTAINED_BY', 'DEPENDENCY_OF', 'DESCRIBED_BY', 'PREREQUISITE_FOR', 'RUNTIME_DEPENDENCY_OF', 'BUILD_DEPENDENCY_OF']);

/** Parses an SPDX 2.3 JSON document (text or object). */
export function parseSpdx(input: string | unknown, opts: SpdxOptions): SbomParseResult {
  const problems: string[] = [];
  const parsed = jsonObject(input);
  if ('problems' in parsed) return parsed;
  const doc = parsed.doc;
  const spdxVersion = str(doc.spdxVersion);
  if (!spdxVersion?.startsWith('SPDX-2.')) return { problems: [`spdxVersion is ${JSON.stringify(doc.spdxVersion)}, not SPDX-2.x`] };
  if (spdxVersion !== 'SPDX-2.3') problems.push(`${spdxVersion}: read as SPDX-2.3`);
  const docId = str(doc.SPDXID) ?? 'SPDXRef-DOCUMENT';

  const byId = new Map<string, SbomComponent>();
  const components: SbomComponent[] = [];
  const packages = Array.isArray(doc.packages) ? doc.packages : [];
  if (!Array.isArray(doc.packages)) problems.push('packages: absent or not an array');
  packages.forEach((p, i) => {
    const where = `packages[${i}]`;
    if (!isObj(p)) return problems.push(`${where}: not an object, skipped`);
    const id = str(p.SPDXID);
    const name = str(p.name);
    if (!id || !name) return problems.push(`${where}: ${!id ? 'no SPDXID' : 'no name'}, skipped`);
    if (byId.has(id)) return problems.push(`${where}: duplicate SPDXID ${id}, skipped`);
    const c: SbomComponent = { bomRef: id, name, cpes: [], parents: [] };
    const version = str(p.versionInfo);
    if (version) c.version = version;
    const purpose = str(p.primaryPackagePurpose);
    if (purpose) c.type = purpose.toLowerCase().replace(/_/g, '-');
    const supplier = str(p.supplier) ?? str(p.originator);
    if (supplier) c.supplier = supplier.replace(/^(Organization|Person|Tool):\s*/, '');
    for (const [k, ref] of (Array.isArray(p.externalRefs) ? p.externalRefs : []).entries()) {
      if (!isObj(ref)) continue;
      const type = str(ref.referenceType);
      const locator = str(ref.referenceLocator);
      if (!type || !locator) {
        problems.push(`${where}.externalRefs[${k}]: no referenceType or referenceLocator`);
        continue;
      }
      if (type === 'purl') {
        try {
          const canonical = PackageURL.fromString(locator).toString();
          if (c.purl && c.purl !== canonical) problems.push(`${where} (${name}): second purl ${locator} ignored`);
          else c.purl = canonical;
        } catch (e) {
          problems.push(`${where} (${name}): purl ${JSON.stringify(locator)} does not parse (${(e as Error).message}), ignored`);
        }
      } else if (type === 'cpe23Type' || type === 'cpe22Type') {
        const r = tryParseCpe(locator);
        if ('error' in r) problems.push(`${where} (${name}): ${type} ${JSON.stringify(locator)} ${r.error}, ignored`);
        else c.cpes.push(locator);
      }
    }
    const hashes = (Array.isArray(p.checksums) ? p.checksums : [])
      .filter((h): h is Json => isObj(h) && !!str(h.algorithm) && !!str(h.checksumValue))
      .map((h) => ({ algorithm: normaliseHashAlgorithm(str(h.algorithm)!), value: str(h.checksumValue)!.toLowerCase() }));
    if (hashes.length) c.hashes = hashes;
    byId.set(id, c);
    components.push(c);
  });

  // the subject: what the document describes
  const described = new Set<string>((Array.isArray(doc.documentDescribes) ? doc.documentDescribes : []).filter((x): x is string => typeof x === 'string'));
  const rels = Array.isArray(doc.relationships) ? doc.relationships : [];
  rels.forEach((r, i) => {
    if (!isObj(r)) return problems.push(`relationships[${i}]: not an object`);
    const a = str(r.spdxElementId);
    const type = str(r.relationshipType);
    const b = str(r.relatedSpdxElement);
    if (!a || !type || !b) return problems.push(`relationships[${i}]: incomplete`);
    if (a === docId && type === 'DESCRIBES') described.add(b);
    if (b === docId && type === 'DESCRIBED_BY') described.add(a);
    const [parent, child] = FORWARD.has(type) ? [a, b] : INVERSE.has(type) ? [b, a] : [undefined, undefined];
    if (!parent || !child || parent === docId) return;
    const target = byId.get(child);
    if (!target) {
      if (!child.includes(':')) problems.push(`relationships[${i}]: ${type} names unknown element ${child}`); // `DocumentRef-x:SPDXRef-y` is external
      return;
    }
    if (!byId.has(parent) && !parent.includes(':')) problems.push(`relationships[${i}]: ${type} names unknown element ${parent}`);
    if (!target.parents.includes(parent)) target.parents.push(parent);
  });

  let subject: SbomSubject | undefined;
  const subjects = [...described].map((id) => byId.get(id)).filter((c): c is SbomComponent => c !== undefined);
  if (subjects.length === 1) {
    const s = subjects[0]!;
    subject = { name: s.name, bomRef: s.bomRef, cpes: s.cpes };
    if (s.version) subject.version = subject.softwareVersion = s.version;
    if (s.purl) subject.purl = s.purl;
    if (s.type) subject.type = s.type;
    if (s.supplier) subject.supplier = s.supplier;
  } else if (subjects.length > 1) problems.push(`the document describes ${subjects.length} packages; no single subject (bind one)`);
  subject = bindSubject(subject, opts.binding);

  // the described package is the subject, not one of its components
  const list = subjects.length === 1 ? components.filter((c) => c.bomRef !== subjects[0]!.bomRef) : components;
  const sbom: Sbom = { format: 'spdx', specVersion: spdxVersion, document: opts.document, components: list };
  const ns = str(doc.documentNamespace);
  if (ns) sbom.serial = ns;
  if (subject) sbom.subject = subject;
  return { sbom, problems };
}
