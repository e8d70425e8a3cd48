/**
 * CycloneDX JSON (1.2 to 1.6) -> Sbom. Reads components (nested ones too), their purl,
 * CPE, supplier and hashes, the dependency graph (-> parents), and the subject from
 * `metadata.component`. A VEX document's `vulnerabilities` are not read here (the feed
 * importer reads them as VEX statements); its components are.
 *
 * Bad input never fails the document: a component without a name, a purl or CPE that does
 * not parse, a duplicate bom-ref, a dependency on an unknown ref — each is a problem in the
 * result, and the rest is read. Only text that is not a CycloneDX JSON object yields no SBOM.
 * JSON schema validation (schema.ts) is optional: pass `validate` to add its problems.
 */
import { PackageURL } from 'packageurl-js';
import { tryParseCpe } from '../match/cpe.js';
import { jsonObject, normaliseHashAlgorithm, type ComponentHash, type Sbom, type SbomComponent, type SbomParseResult, type SbomSubject, type SubjectBinding } from './types.js';

export interface CycloneDxOptions {
  /** The document name used in problems and in `Sbom.document`. */
  document: string;
  /** Facts about the subject the caller knows (vehicle model, ECU, software version). */
  binding?: SubjectBinding;
  /** Schema validation (see schema.ts); its problems are added to the result. */
  validate?: (doc: unknown) => string[];
}

/** Properties on metadata.component (or metadata) that bind the SBOM to twins. */
export const SUBJECT_PROPERTIES = { vehicleModel: 'vigil:vehicle-model', ecu: 'vigil:ecu', softwareVersion: 'vigil:software-version' } as const;

const SUPPORTED = new Set(['1.2', '1.3', '1.4', '1.5', '1.6']);

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** Parses a CycloneDX JSON document (text or already-parsed object). */
export function parseCycloneDx(input: string | unknown, opts: CycloneDxOptions): SbomParseResult {
  const problems: string[] = [];
  const parsed = jsonObject(input);
  if ('problems' in parsed) return parsed;
  const doc = parsed.doc;
  if (doc.bomFormat !== 'CycloneDX') return { problems: [`bomFormat is ${JSON.stringify(doc.bomFormat)}, not "CycloneDX"`] };
  const specVersion = str(doc.specVersion) ?? '';
  if (!SUPPORTED.has(specVersion)) problems.push(`specVersion ${JSON.stringify(doc.specVersion)} is not one of ${[...SUPPORTED].join(', ')}; read as 1.6`);
  if (opts.validate) problems.push(...opts.validate(doc));

  const components: SbomComponent[] = [];
  const byRef = new Map<string, SbomComponent>();
  let synthetic = 0;

  const readComponent = (raw: unknown, where: string, parent: string | undefined): SbomComponent | undefined => {
    if (!isObj(raw)) {
      problems.push(`${where}: not an object, skipped`);
      return undefined;
    }
    const name = str(raw.name);
    let bomRef = str(raw['bom-ref']);
    if (!bomRef) bomRef = `${opts.document}#component-${++synthetic}`;
    if (!name) {
      problems.push(`${where} (${bomRef}): no name, skipped`);
      return undefined;
    }
    const c: SbomComponent = { bomRef, name, cpes: [], parents: parent ? [parent] : [] };
    const version = str(raw.version);
    if (version) c.version = version;
    const group = str(raw.group);
    if (group) c.group = group;
    const type = str(raw.type);
    if (type) c.type = type.toLowerCase();
    readIdentity(raw, c, `${where} (${name})`, problems);
    const supplier = isObj(raw.supplier) ? str(raw.supplier.name) : undefined;
    const manufacturer = isObj(raw.manufacturer) ? str(raw.manufacturer.name) : undefined;
    const who = supplier ?? manufacturer ?? str(raw.publisher) ?? str(raw.author);
    if (who) c.supplier = who;
    const hashes = readHashes(raw.hashes, `${where} (${name})`, problems);
    if (hashes.length) c.hashes = hashes;
    return c;
  };

  const walk = (list: unknown, where: string, parent: string | undefined): void => {
    if (list === undefined) return;
    if (!Array.isArray(list)) {
      problems.push(`${where}: not an array`);
      return;
    }
    list.forEach((raw, i) => {
      const at = `${where}[${i}]`;
      const c = readComponent(raw, at, parent);
      if (c) {
        if (byRef.has(c.bomRef)) {
          problems.push(`${at}: duplicate bom-ref ${JSON.stringify(c.bomRef)}, renamed`);
          c.bomRef = `${c.bomRef}#dup-${i}`;
        }
        byRef.set(c.bomRef, c);
        components.push(c);
      }
      if (isObj(raw)) walk(raw.components, `${at}.components`, c?.bomRef);
    });
  };

  const metadata = isObj(doc.metadata) ? doc.metadata : {};
  let subject: SbomSubject | undefined;
  if (isObj(metadata.component)) {
    const s = readComponent(metadata.component, 'metadata.component', undefined);
    if (s) {
      subject = { name: s.name, bomRef: s.bomRef, cpes: s.cpes };
      if (s.version) subject.version = s.version;
      if (s.purl) subject.purl = s.purl;
      if (s.type) subject.type = s.type;
      if (s.supplier) subject.supplier = s.supplier;
      const props = [...properties(metadata.component), ...properties(metadata)];
      const prop = (k: string): string | undefined => props.find((p) => p.name === k)?.value;
      const vm = prop(SUBJECT_PROPERTIES.vehicleModel);
      const ecu = prop(SUBJECT_PROPERTIES.ecu);
      const sw = prop(SUBJECT_PROPERTIES.softwareVersion) ?? s.version;
      if (vm) subject.vehicleModel = vm;
      if (ecu) subject.ecu = ecu;
      if (sw) subject.softwareVersion = sw;
      // components nested under the subject are part of the SBOM
      walk(metadata.component.components, 'metadata.component.components', s.bomRef);
    }
  }
  subject = bindSubject(subject, opts.binding);

  walk(doc.components, 'components', undefined);

  // dependencies: ref dependsOn [child...] -> child.parents += ref
  if (doc.dependencies !== undefined) {
    if (!Array.isArray(doc.dependencies)) problems.push('dependencies: not an array');
    else {
      const known = (ref: string): boolean => byRef.has(ref) || ref === subject?.bomRef;
      doc.dependencies.forEach((d, i) => {
        if (!isObj(d) || !str(d.ref)) {
          problems.push(`dependencies[${i}]: no ref`);
          return;
        }
        const ref = str(d.ref)!;
        if (!known(ref)) problems.push(`dependencies[${i}]: ref ${JSON.stringify(ref)} names no component`);
        for (const child of Array.isArray(d.dependsOn) ? d.dependsOn : []) {
          const target = typeof child === 'string' ? byRef.get(child) : undefined;
          if (!target) {
            if (typeof child !== 'string' || !known(child)) problems.push(`dependencies[${i}]: dependsOn ${JSON.stringify(child)} names no component`);
            continue;
          }
          if (!target.parents.includes(ref)) target.parents.push(ref);
        }
      });
    }
  }

  const sbom: Sbom = { format: 'cyclonedx', specVersion, document: opts.document, components };
  const serial = str(doc.serialNumber);
  if (serial) sbom.serial = serial;
  if (subject) sbom.subject = subject;
  return { sbom, problems };
}

/** The binding's facts override the document's. */
export function bindSubject(subject: SbomSubject | undefined, binding: SubjectBinding | undefined): SbomSubject | undefined {
  if (!binding) return subject;
  const out: SbomSubject = subject ? { ...subject } : { name: binding.name ?? binding.ecu ?? 'unnamed', cpes: [] };
  for (const [k, v] of Object.entries(binding)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  return out;
}

function readIdentity(raw: Json, c: SbomComponent, where: string, problems: string[]): void {
  const purl = str(raw.purl);
  if (purl) {
    try {
      c.purl = PackageURL.fromString(purl).toString();
    } catch (e) {
      problems.push(`${where}: purl ${JSON.stringify(purl)} does not parse (${(e as Error).message}), ignored`);
    }
  }
  const cpe = str(raw.cpe);
  if (cpe) {
    const r = tryParseCpe(cpe);
    if ('error' in r) problems.push(`${where}: cpe ${JSON.stringify(cpe)} ${r.error}, ignored`);
    else c.cpes.push(cpe);
  }
}

function readHashes(list: unknown, where: string, problems: string[]): ComponentHash[] {
  if (!Array.isArray(list)) return [];
  const out: ComponentHash[] = [];
  for (const h of list) {
    if (isObj(h) && str(h.alg) && str(h.content)) out.push({ algorithm: normaliseHashAlgorithm(str(h.alg)!), value: str(h.content)!.toLowerCase() });
    else problems.push(`${where}: hash without alg and content, ignored`);
  }
  return out;
}

function properties(o: unknown): { name: string; value: string }[] {
  if (!isObj(o) || !Array.isArray(o.properties)) return [];
  return o.properties.filter((p): p is { name: string; value: string } => isObj(p) && typeof p.name === 'string' && typeof p.value === 'string');
}
