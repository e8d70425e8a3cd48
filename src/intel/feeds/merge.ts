/**
 * Merging: every record about one vulnerability becomes ONE Vulnerability. Records are
 * grouped by id and aliases (a GHSA record aliasing a CVE joins that CVE; two different CVE
 * ids never join), and the merged id is the group's CVE id when it has one. Advisory ids that
 * cover several CVEs (a CSAF tracking id) are not aliases: they stay in the sources.
 *
 * Rules (nothing is resolved away):
 * - sources, CVSS scores, SSVC decisions, affected entries: all kept, each with its source
 *   (an identical statement from the same document, e.g. a file imported twice, once);
 *   CWEs and references are de-duplicated (same CWE from the same feed kind; same URL, tags
 *   united).
 * - title, description, published: the first source in the order CNA, NVD, OSV, CSAF, ADP,
 *   STIX, CycloneDX VEX, KEV (a CNA speaks for its own CVE; NVD analyses it); other
 *   distinct descriptions are kept in `descriptions`. modified: the latest.
 * - EPSS: the newest score date. KEV: the first entry.
 * - withdrawn: the CVE is withdrawn when a CVE 5 or NVD record says so, or when every record
 *   does. An OSV/CSAF record withdrawn on its own (a GHSA duplicate) does not withdraw the
 *   CVE: its affected entries are marked `withdrawn` instead.
 * - disagreements: sources scoring the same CVSS major version into different severities, and
 *   CVE 5 vs NVD on the withdrawn state, are listed in words.
 */
import { newVulnerability, type FeedKind, type Vulnerability } from '../model.js';

const PRIORITY: FeedKind[] = ['cve5-cna', 'nvd', 'osv', 'csaf', 'cve5-adp', 'stix', 'cyclonedx-vex', 'kev', 'epss'];
const rank = (v: Vulnerability): number => Math.min(...v.sources.map((s) => PRIORITY.indexOf(s.kind)).filter((i) => i >= 0), PRIORITY.length);
const CVE = /^CVE-\d{4}-\d{4,}$/;
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const authoritative = (v: Vulnerability): boolean => v.sources.some((s) => s.kind === 'cve5-cna' || s.kind === 'cve5-adp' || s.kind === 'nvd');

/** Merge unmerged per-record Vulnerabilities into one per vulnerability, in first-seen order. */
export function mergeVulnerabilities(records: Vulnerability[]): Vulnerability[] {
  // union-find over ids and aliases
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r) ?? r;
    parent.set(x, r);
    return r;
  };
  const union = (a: string, b: string): void => {
    for (const k of [a, b]) if (!parent.has(k)) parent.set(k, k);
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(rb, ra);
  };
  for (const v of records) {
    union(v.id, v.id);
    // Two different CVE ids never join: an OSV record aliasing two CVEs is filed under its first.
    for (const a of v.aliases) if (!(CVE.test(a) && CVE.test(v.id) && a !== v.id)) union(v.id, a);
  }
  const groups = new Map<string, Vulnerability[]>();
  for (const v of records) {
    const root = find(v.id);
    groups.set(root, [...(groups.get(root) ?? []), v]);
  }
  return [...groups.values()].map(mergeGroup);
}

function mergeGroup(group: Vulnerability[]): Vulnerability {
  const ordered = [...group].sort((a, b) => rank(a) - rank(b));
  const ids = new Set(group.flatMap((v) => [v.id, ...v.aliases]));
  const id = ordered.map((v) => v.id).find((x) => CVE.test(x)) ?? [...ids].find((x) => CVE.test(x)) ?? ordered[0]!.id;
  const merged = newVulnerability(id, [], [...ids].filter((x) => x !== id));
  for (const k of ['title', 'description', 'published'] as const) {
    const v = ordered.find((x) => x[k]);
    if (v) merged[k] = v[k];
  }
  const modified = group.map((v) => v.modified).filter((m): m is string => !!m).sort();
  if (modified.length) merged.modified = modified[modified.length - 1];
  const others = ordered.filter((v) => v.description && v.description !== merged.description);
  if (others.length) merged.descriptions = others.map((v) => ({ text: v.description!, source: v.sources[0]! }));

  const withdrawnBy = group.filter((v) => v.withdrawn);
  const cveWithdrawn = withdrawnBy.find(authoritative);
  if (cveWithdrawn) merged.withdrawn = cveWithdrawn.withdrawn;
  else if (withdrawnBy.length === group.length && withdrawnBy[0]) merged.withdrawn = withdrawnBy[0].withdrawn;

  const seenSource = new Set<string>();
  for (const v of group) {
    for (const s of v.sources) {
      const key = JSON.stringify(s);
      if (!seenSource.has(key)) {
        seenSource.add(key);
        merged.sources.push(s);
      }
    }
    // The same statement from the same record (a document imported twice) is kept once.
    for (const c of v.cvss) if (!merged.cvss.some((x) => same(x, c))) merged.cvss.push(c);
    for (const c of v.ssvc) if (!merged.ssvc.some((x) => same(x, c))) merged.ssvc.push(c);
    const entryWithdrawn = v.withdrawn && !merged.withdrawn;
    for (const e of v.affected.map((x) => (entryWithdrawn ? { ...x, withdrawn: true } : x))) if (!merged.affected.some((x) => same(x, e))) merged.affected.push(e);
    for (const w of v.cwes) if (!merged.cwes.some((x) => x.cwe === w.cwe && x.source.kind === w.source.kind)) merged.cwes.push(w);
    for (const r of v.references) {
      const have = merged.references.find((x) => x.url === r.url);
      if (!have) merged.references.push({ ...r, ...(r.tags ? { tags: [...r.tags] } : {}) });
      else if (r.tags?.length) have.tags = [...new Set([...(have.tags ?? []), ...r.tags])];
    }
    if (v.epss && (!merged.epss || (v.epss.date ?? '') > (merged.epss.date ?? ''))) merged.epss = v.epss;
    if (v.kev && !merged.kev) merged.kev = v.kev;
  }

  const disagreements: string[] = [];
  const byMajor = new Map<string, Map<string, string>>();
  for (const s of merged.cvss) {
    if (!s.severity) continue;
    const major = s.version.startsWith('3') ? '3.x' : s.version;
    const who = `${s.source.kind}${s.source.provider ? ` (${s.source.provider})` : ''}`;
    const m = byMajor.get(major) ?? new Map<string, string>();
    m.set(who, `${s.baseScore} ${s.severity}`);
    byMajor.set(major, m);
  }
  for (const [major, m] of byMajor) {
    const severities = new Set([...m.values()].map((x) => x.split(' ')[1]));
    if (severities.size > 1) disagreements.push(`CVSS ${major} severity: ${[...m].map(([who, s]) => `${who} ${s}`).join('; ')}`);
  }
  const auth = group.filter(authoritative);
  if (auth.some((v) => v.withdrawn) && auth.some((v) => !v.withdrawn)) {
    disagreements.push(`withdrawn by ${auth.filter((v) => v.withdrawn).map((v) => v.sources[0]!.kind).join(', ')} but not by ${auth.filter((v) => !v.withdrawn).map((v) => v.sources[0]!.kind).join(', ')}`);
  }
  if (disagreements.length) merged.disagreements = disagreements;
  return merged;
}
