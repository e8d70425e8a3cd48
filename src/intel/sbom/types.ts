/**
 * The SBOM model the matcher reads: components with their identities (purl, CPEs, name and
 * version) and what the SBOM describes (its subject: a vehicle model, an ECU, a software
 * version), whatever format it came in.
 */

export interface ComponentHash {
  /** Algorithm as the SBOM spells it, normalised to upper case with a dash (`SHA-256`). */
  algorithm: string;
  value: string;
}

/** One component of an SBOM. */
export interface SbomComponent {
  /** CycloneDX bom-ref or SPDX SPDXID; unique within the SBOM (synthesised when the source has none). */
  bomRef: string;
  name: string;
  /** Absent when the SBOM does not say (a matcher then cannot compare versions). */
  version?: string;
  /** CycloneDX group / Maven groupId and the like. */
  group?: string;
  /** CycloneDX component type or SPDX primaryPackagePurpose, lower case (`library`, `firmware`, `operating-system`...). */
  type?: string;
  purl?: string;
  /** CPE 2.3 formatted strings (CycloneDX `cpe`, SPDX `cpe23Type`/`cpe22Type` refs). */
  cpes: string[];
  supplier?: string;
  hashes?: ComponentHash[];
  /** bom-refs of the components that contain or depend on this one (nesting, dependencies, SPDX relationships). */
  parents: string[];
}

/** What the SBOM describes. ECU and vehicle model tie it to twins: the vehicles running `ecu` at `softwareVersion`. */
export interface SbomSubject {
  name: string;
  version?: string;
  bomRef?: string;
  purl?: string;
  cpes: string[];
  type?: string;
  supplier?: string;
  /** Vehicle model (e.g. `Model 3`, `ID.4`), from the binding or the `vigil:vehicle-model` property. */
  vehicleModel?: string;
  /** ECU name as twins know it (the key of a vehicle's software map, e.g. `TCU`). */
  ecu?: string;
  /** The ECU software version this SBOM is for (the value of the twin's software map). */
  softwareVersion?: string;
}

/** Caller-supplied facts about what an SBOM describes; they win over what the document says. */
export type SubjectBinding = Partial<Pick<SbomSubject, 'vehicleModel' | 'ecu' | 'softwareVersion' | 'name' | 'version'>>;

export interface Sbom {
  format: 'cyclonedx' | 'spdx';
  specVersion: string;
  /** CycloneDX serialNumber or SPDX documentNamespace. */
  serial?: string;
  /** The document name handed to the parser (usually the file name). */
  document: string;
  subject?: SbomSubject;
  components: SbomComponent[];
}

/** A parse result: the SBOM (when one could be read) and every problem found, none fatal unless `sbom` is absent. */
export interface SbomParseResult {
  sbom?: Sbom;
  problems: string[];
}

/** `sha256`, `SHA256`, `sha-256` -> `SHA-256`; `sha3-256` -> `SHA3-256`; `md5` -> `MD5`. */
export function normaliseHashAlgorithm(alg: string): string {
  const a = alg.trim().toUpperCase().replace(/_/g, '-');
  const sha = /^SHA-?(1|224|256|384|512)$/.exec(a);
  return sha ? `SHA-${sha[1]}` : a;
}

/** A JSON document given as text or already parsed: the top-level object, or why it is not one. */
export function jsonObject(input: unknown): { doc: Record<string, unknown> } | { problems: string[] } {
  let doc = input;
  if (typeof input === 'string') {
    try {
      doc = JSON.parse(input);
    } catch (e) {
      return { problems: [`not JSON: ${(e as Error).message}`] };
    }
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { problems: ['not a JSON object'] };
  return { doc: doc as Record<string, unknown> };
}
