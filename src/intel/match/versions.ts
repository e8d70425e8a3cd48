/**
 * Version schemes: which comparisons are meaningful, and the comparison when it is.
 *
 * A comparison returns an order or an explicit `unknown` with the reason. Nothing here
 * guesses: a vendor scheme (CVE 5 `custom`), free text (`n/a`, chipset lists) or a version a
 * scheme cannot parse is `unknown`, and callers turn `unknown` into "needs review", never
 * into "affected".
 *
 * | scheme      | used for                                         | comparison |
 * |-------------|--------------------------------------------------|------------|
 * | `semver`    | OSV SEMVER, CVE 5 `semver`, npm, crates.io, Hex  | the `semver` package, strict (no coercion) |
 * | `go`        | OSV Go, purl `golang`                             | semver after removing the `v` Go requires (the only coercion; the Go module reference defines it) |
 * | `pypi`      | OSV PyPI, CVE 5 `python`, purl `pypi`             | PEP 440 (epoch, release, pre, post, dev, local), implemented here |
 * | `debian`    | OSV Debian/Ubuntu, purl `deb`                     | dpkg's verrevcmp (epoch:upstream-revision, `~` sorts first), implemented here |
 * | `maven`     | OSV Maven, CVE 5 `maven`, purl `maven`            | only numeric dotted releases (`2.5.16`); qualifiers (`-RC1`, `.Final`) -> unknown |
 * | `numeric`   | NVD cpeMatch bounds, purl types without a scheme | dotted numbers only (`4.9.30`); anything else -> unknown |
 * | `git`       | OSV GIT, CVE 5 `git`                              | never ordered: commits need the repository graph (see osv.ts) |
 * | `custom`    | CVE 5 `custom` and unlisted types                 | never compared |
 */
import semver from 'semver';

export type VersionScheme = 'semver' | 'go' | 'pypi' | 'debian' | 'maven' | 'numeric' | 'git' | 'custom';

export type Comparison = { known: true; order: -1 | 0 | 1 } | { known: false; reason: string };

const sign = (n: number): -1 | 0 | 1 => (n < 0 ? -1 : n > 0 ? 1 : 0);
const unknown = (reason: string): Comparison => ({ known: false, reason });

/** Compares two versions under a scheme: `order` is the sign of a - b. */
export function compareVersions(scheme: VersionScheme, a: string, b: string): Comparison {
  switch (scheme) {
    case 'semver': {
      // semver.valid would accept `v1.2.3` and `=1.2.3`; SemVer 2.0 (and OSV SEMVER) does not
      if (!/^\d/.test(a) || !semver.valid(a)) return unknown(`${JSON.stringify(a)} is not a semantic version`);
      if (!/^\d/.test(b) || !semver.valid(b)) return unknown(`${JSON.stringify(b)} is not a semantic version`);
      return { known: true, order: sign(semver.compare(a, b)) };
    }
    case 'go': {
      const strip = (s: string): string => (s.startsWith('v') ? s.slice(1) : s);
      const r = compareVersions('semver', strip(a), strip(b));
      return r.known ? r : unknown(`Go: ${r.reason}`);
    }
    case 'pypi': {
      const pa = parsePep440(a);
      const pb = parsePep440(b);
      if (!pa) return unknown(`${JSON.stringify(a)} is not a PEP 440 version`);
      if (!pb) return unknown(`${JSON.stringify(b)} is not a PEP 440 version`);
      return { known: true, order: comparePep440(pa, pb) };
    }
    case 'debian': {
      const da = parseDebian(a);
      const db = parseDebian(b);
      if (typeof da === 'string') return unknown(`${JSON.stringify(a)}: ${da}`);
      if (typeof db === 'string') return unknown(`${JSON.stringify(b)}: ${db}`);
      return { known: true, order: compareDebian(da, db) };
    }
    case 'maven':
    case 'numeric': {
      const na = numericParts(a);
      const nb = numericParts(b);
      const what = scheme === 'maven' ? 'Maven versions are compared only when both are plain numeric releases' : 'not a dotted numeric version';
      if (!na) return unknown(`${JSON.stringify(a)}: ${what}`);
      if (!nb) return unknown(`${JSON.stringify(b)}: ${what}`);
      return { known: true, order: compareNumeric(na, nb) };
    }
    case 'git':
      return unknown('git commits have no order without the repository history');
    case 'custom':
      return unknown('vendor-specific (custom) version scheme: no defined order');
  }
}

/** Two git commit ids name the same commit: hex, at least 7 digits, one a prefix of the other (CVE 5 uses 12-digit abbreviations). */
export function sameCommit(a: string, b: string): boolean {
  const x = a.trim().toLowerCase();
  const y = b.trim().toLowerCase();
  if (!/^[0-9a-f]{7,40}$/.test(x) || !/^[0-9a-f]{7,40}$/.test(y)) return false;
  return x.startsWith(y) || y.startsWith(x);
}

/** True when `v` is a version the scheme can compare (for validation and reasons). */
export function isComparable(scheme: VersionScheme, v: string): boolean {
  const r = compareVersions(scheme, v, v);
  return r.known;
}

/** The scheme for an OSV ecosystem name (`Debian:11` -> debian). Unlisted ecosystems are `custom`. */
export function schemeForEcosystem(ecosystem: string | undefined): VersionScheme {
  const base = (ecosystem ?? '').split(':')[0]!.toLowerCase();
  switch (base) {
    case 'npm':
    case 'crates.io':
    case 'hex':
    case 'pub':
      return 'semver';
    case 'go':
      return 'go';
    case 'pypi':
      return 'pypi';
    case 'debian':
    case 'ubuntu':
      return 'debian';
    case 'maven':
      return 'maven';
    default:
      return 'custom';
  }
}

/** The scheme for a purl type. Types with no scheme implemented here fall back to `numeric`, which only orders dotted numbers. */
export function schemeForPurlType(type: string): VersionScheme {
  switch (type.toLowerCase()) {
    case 'npm':
    case 'cargo':
    case 'hex':
    case 'pub':
      return 'semver';
    case 'golang':
      return 'go';
    case 'pypi':
      return 'pypi';
    case 'deb':
      return 'debian';
    case 'maven':
      return 'maven';
    default:
      return 'numeric';
  }
}

/** The scheme for a CVE 5 `versionType` (the schema's examples: custom, git, maven, python, rpm, semver). */
export function schemeForVersionType(versionType: string | undefined): VersionScheme {
  switch ((versionType ?? '').toLowerCase()) {
    case 'semver':
      return 'semver';
    case 'git':
      return 'git';
    case 'maven':
      return 'maven';
    case 'python':
    case 'pypi':
      return 'pypi';
    case 'deb':
    case 'debian':
    case 'dpkg':
      return 'debian';
    default:
      return 'custom'; // custom, rpm (rpmvercmp not implemented), original_commit_for_fix, unset...
  }
}

// ------------------------------------------------------------------ numeric

function numericParts(v: string): number[] | undefined {
  if (!/^\d+(\.\d+)*$/.test(v)) return undefined;
  return v.split('.').map(Number);
}

/** Trailing zeros do not count: 1.0 == 1 (as in Maven and PEP 440 releases). */
function compareNumeric(a: number[], b: number[]): -1 | 0 | 1 {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return sign(d);
  }
  return 0;
}

// ------------------------------------------------------------------ PEP 440

interface Pep440 {
  epoch: number;
  release: number[];
  pre?: [number, number]; // a=0, b=1, rc=2
  post?: number;
  dev?: number;
  local?: (number | string)[];
}

/** The regular expression of PEP 440 Appendix B (packaging's VERSION_PATTERN), case-insensitive. */
const PEP440 = new RegExp(
  '^\\s*v?(?:(?:(?<epoch>[0-9]+)!)?(?<release>[0-9]+(?:\\.[0-9]+)*)' +
    '(?<pre>[-_.]?(?<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<pre_n>[0-9]+)?)?' +
    '(?<post>(?:-(?<post_n1>[0-9]+))|(?:[-_.]?(?<post_l>post|rev|r)[-_.]?(?<post_n2>[0-9]+)?))?' +
    '(?<dev>[-_.]?(?<dev_l>dev)[-_.]?(?<dev_n>[0-9]+)?)?)' +
    '(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\\s*$',
  'i',
);

function parsePep440(v: string): Pep440 | undefined {
  const m = PEP440.exec(v);
  if (!m?.groups) return undefined;
  const g = m.groups;
  const out: Pep440 = { epoch: Number(g.epoch ?? 0), release: g.release!.split('.').map(Number) };
  if (g.pre_l) {
    const l = g.pre_l.toLowerCase();
    const kind = l === 'a' || l === 'alpha' ? 0 : l === 'b' || l === 'beta' ? 1 : 2;
    out.pre = [kind, Number(g.pre_n ?? 0)];
  }
  if (g.post) out.post = Number(g.post_n1 ?? g.post_n2 ?? 0);
  if (g.dev) out.dev = Number(g.dev_n ?? 0);
  if (g.local) out.local = g.local.toLowerCase().split(/[-_.]/).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  return out;
}

/** packaging's _cmpkey: 1.0.dev0 < 1.0a1 < 1.0 < 1.0.post1 < 1.0+local. */
function comparePep440(a: Pep440, b: Pep440): -1 | 0 | 1 {
  if (a.epoch !== b.epoch) return sign(a.epoch - b.epoch);
  const r = compareNumeric(a.release, b.release);
  if (r !== 0) return r;
  const preKey = (p: Pep440): number[] =>
    p.pre ? p.pre : p.post === undefined && p.dev !== undefined ? [-Infinity] : [Infinity];
  const c1 = compareArrays(preKey(a), preKey(b));
  if (c1 !== 0) return c1;
  const c2 = compareArrays([a.post ?? -Infinity], [b.post ?? -Infinity]);
  if (c2 !== 0) return c2;
  const c3 = compareArrays([a.dev ?? Infinity], [b.dev ?? Infinity]);
  if (c3 !== 0) return c3;
  if (!a.local || !b.local) return a.local ? 1 : b.local ? -1 : 0;
  // local segments: numbers sort after strings, numbers numerically, strings lexically
  for (let i = 0; i < Math.max(a.local.length, b.local.length); i++) {
    const x = a.local[i];
    const y = b.local[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (typeof x !== typeof y) return typeof x === 'number' ? 1 : -1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function compareArrays(a: number[], b: number[]): -1 | 0 | 1 {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0 && !Number.isNaN(d)) return sign(d);
  }
  return 0;
}

// ------------------------------------------------------------------ Debian (dpkg)

interface DebVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

/** deb-version(7): [epoch:]upstream[-revision]. Returns the reason when it is not one. */
function parseDebian(v: string): DebVersion | string {
  let rest = v.trim();
  let epoch = 0;
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    const e = rest.slice(0, colon);
    if (!/^\d+$/.test(e)) return 'epoch is not a number';
    epoch = Number(e);
    rest = rest.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  const upstream = dash >= 0 ? rest.slice(0, dash) : rest;
  const revision = dash >= 0 ? rest.slice(dash + 1) : '';
  if (!/^\d/.test(upstream)) return 'upstream version does not start with a digit';
  if (!/^[A-Za-z0-9.+~:-]*$/.test(upstream)) return 'invalid character in upstream version';
  if (dash >= 0 && !/^[A-Za-z0-9.+~]+$/.test(revision)) return 'invalid Debian revision';
  return { epoch, upstream, revision };
}

function compareDebian(a: DebVersion, b: DebVersion): -1 | 0 | 1 {
  if (a.epoch !== b.epoch) return sign(a.epoch - b.epoch);
  const u = verrevcmp(a.upstream, b.upstream);
  if (u !== 0) return sign(u);
  return sign(verrevcmp(a.revision, b.revision));
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** dpkg lib/dpkg/version.c order(): digits 0, letters their code, `~` before everything, others after letters. */
function order(c: string | undefined): number {
  if (c === undefined) return 0;
  if (isDigit(c)) return 0;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  if (c === '~') return -1;
  return c.charCodeAt(0) + 256;
}

/** dpkg's verrevcmp, transcribed: alternate non-digit runs (by order()) and digit runs (numerically). */
function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ac = order(a[i]);
      const bc = order(b[j]);
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}
