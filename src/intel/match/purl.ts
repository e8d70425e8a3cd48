/**
 * Package URL identity: parse once, compare by type, namespace and name (case-folded where
 * the purl spec says the type is case-insensitive), and map purl types to OSV ecosystems.
 */
import { PackageURL } from 'packageurl-js';

export interface PurlParts {
  type: string;
  namespace?: string;
  name: string;
  version?: string;
}

/** Parses a purl; undefined when it does not parse. */
export function parsePurl(purl: string): PurlParts | undefined {
  try {
    const p = PackageURL.fromString(purl);
    const out: PurlParts = { type: p.type.toLowerCase(), name: p.name };
    if (p.namespace) out.namespace = p.namespace;
    if (p.version) out.version = p.version;
    return out;
  } catch {
    return undefined;
  }
}

/** Types whose namespace and name are case-insensitive per the purl type definitions. */
const CASE_INSENSITIVE = new Set(['npm', 'pypi', 'github', 'bitbucket', 'deb', 'rpm', 'apk', 'golang', 'hex', 'composer', 'generic', 'nuget']);

const fold = (type: string, s: string | undefined): string => {
  const v = s ?? '';
  if (type === 'pypi') return v.toLowerCase().replace(/[-_.]+/g, '-'); // PEP 503 normalisation
  return CASE_INSENSITIVE.has(type) ? v.toLowerCase() : v;
};

/** Same package (type, namespace, name), versions aside. */
export function samePackage(a: PurlParts, b: PurlParts): boolean {
  return a.type === b.type && fold(a.type, a.namespace) === fold(b.type, b.namespace) && fold(a.type, a.name) === fold(b.type, b.name);
}

/** The purl type of an OSV ecosystem (`Debian:11` -> deb), or undefined when there is none. */
export function purlTypeForEcosystem(ecosystem: string): string | undefined {
  const base = ecosystem.split(':')[0]!.toLowerCase();
  const map: Record<string, string> = {
    npm: 'npm', pypi: 'pypi', maven: 'maven', go: 'golang', 'crates.io': 'cargo', debian: 'deb', ubuntu: 'deb',
    rubygems: 'gem', nuget: 'nuget', packagist: 'composer', hex: 'hex', pub: 'pub', alpine: 'apk', github: 'github',
  };
  return map[base];
}

/** The purl parts an OSV package (ecosystem + name) stands for: Maven `group:artifact`, Go `host/path/name`. */
export function osvPackageAsPurl(ecosystem: string, name: string): PurlParts | undefined {
  const type = purlTypeForEcosystem(ecosystem);
  if (!type) return undefined;
  if (type === 'maven') {
    const [group, artifact] = name.split(':');
    return artifact ? { type, namespace: group!, name: artifact } : undefined;
  }
  if (type === 'golang' || type === 'npm' || type === 'composer') {
    const i = name.lastIndexOf('/');
    return i > 0 ? { type, namespace: name.slice(0, i), name: name.slice(i + 1) } : { type, name };
  }
  if (type === 'deb') return { type, namespace: ecosystem.split(':')[0]!.toLowerCase(), name };
  return { type, name };
}
