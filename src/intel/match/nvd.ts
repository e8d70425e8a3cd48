/**
 * NVD applicability: cpeMatch criteria with versionStart/End Including/Excluding, and
 * configurations (nodes of cpeMatch joined by OR/AND, `negate`, nodes joined by the
 * configuration's operator).
 *
 * A cpeMatch is compared with a component's CPEs in two steps: identity (the NISTIR 7696
 * name comparison with the version attribute set aside) and version (the criteria's own
 * version, or the start/end bounds). Logic is three-valued — true, false, unknown — because
 * a version may not be comparable and an SBOM may not say which platform it runs on:
 *
 * - a version the bounds cannot order (e.g. `2022-03-26` against `2023.12`) is unknown;
 * - criteria with version ANY and no bounds ("every version"), criteria with version NA,
 *   and a component CPE whose version is ANY are `unknown`, never a match on their own;
 * - a platform cpeMatch (`vulnerable: false`, e.g. the hardware in a firmware AND hardware
 *   configuration) is true when the criteria names (NISTIR 7696 EQUAL or SUPERSET) a CPE of
 *   the same SBOM (its subject included), otherwise unknown: an SBOM not listing its hardware is not evidence of other hardware.
 *
 * AND/OR follow Kleene's three-valued logic; `negate` swaps true and false.
 */
import type { AffectedEntry } from '../model.js';
import { compareAttribute, compareCpe, cpeMatches, cpeText, tryParseCpe, type Wfn } from './cpe.js';
import { compareVersions, type Comparison } from './versions.js';

export type Tri = true | false | 'unknown';

export interface CpeMatchOutcome {
  /** Does the criteria name the component's product (version set aside)? */
  identity: Tri;
  /** Does it match, version included? */
  match: Tri;
  /** The component CPE that decided it, when one did. */
  cpe?: string;
  reason: string;
}

/** Compares one NVD cpeMatch (or any CPE criteria with optional bounds) with a component's CPEs. */
export function evaluateCpeMatch(entry: AffectedEntry, targets: readonly string[]): CpeMatchOutcome {
  if (!entry.cpe) return { identity: false, match: false, reason: 'no CPE in the statement' };
  const s = tryParseCpe(entry.cpe);
  if ('error' in s) return { identity: 'unknown', match: 'unknown', reason: `criteria ${entry.cpe}: ${s.error}` };
  let best: CpeMatchOutcome = { identity: false, match: false, reason: `no CPE of the component is named by ${entry.cpe}` };
  for (const t of targets) {
    const parsed = tryParseCpe(t);
    if ('error' in parsed) continue;
    const o = evaluateOne(entry, s.wfn, parsed.wfn, t);
    if (o.match === true) return o;
    if (rank(o) > rank(best)) best = o;
  }
  return best;
}

const rank = (o: CpeMatchOutcome): number => (o.match === 'unknown' ? 3 : o.identity === true ? 2 : o.identity === 'unknown' ? 1 : 0);

function evaluateOne(entry: AffectedEntry, source: Wfn, target: Wfn, cpe: string): CpeMatchOutcome {
  // identity: part, vendor and product
  const named = (['part', 'vendor', 'product'] as const).every((a) => {
    const r = compareAttribute(source[a], target[a]);
    return r === 'EQUAL' || r === 'SUPERSET';
  });
  if (!named) return { identity: false, match: false, cpe, reason: `${entry.cpe} does not name ${cpe}` };
  const sv = source.version;
  const tv = target.version;
  if (tv.kind === 'ANY') return { identity: true, match: 'unknown', cpe, reason: `${cpe} gives no version (ANY)` };
  if (sv.kind === 'NA' || tv.kind === 'NA') {
    if (sv.kind === 'NA' && tv.kind === 'NA') return { identity: true, match: 'unknown', cpe, reason: `${entry.cpe} and ${cpe} have no version (NA): nothing to compare` };
    return { identity: true, match: false, cpe, reason: `version NA on one side only (${entry.cpe} vs ${cpe})` };
  }
  if (sv.kind === 'value') {
    const r = compareCpe(source, target);
    if (r === 'EQUAL' || r === 'SUPERSET') return { identity: true, match: true, cpe, reason: `${entry.cpe} names ${cpe}` };
    return { identity: true, match: r === 'DISJOINT' ? false : 'unknown', cpe, reason: `${entry.cpe} vs ${cpe}: ${r}` };
  }
  // criteria version ANY: the other attributes (update, edition...) must match, then the bounds decide
  const rest = compareCpe({ ...source, version: { kind: 'ANY' } }, { ...target, version: { kind: 'ANY' } });
  if (rest === 'DISJOINT') return { identity: true, match: false, cpe, reason: `${entry.cpe} vs ${cpe}: DISJOINT` };
  if (rest !== 'EQUAL' && rest !== 'SUPERSET') return { identity: true, match: 'unknown', cpe, reason: `${entry.cpe} vs ${cpe}: ${rest} (update/edition not decidable)` };
  const bounds = boundsOf(entry);
  if (bounds.length === 0) return { identity: true, match: 'unknown', cpe, reason: `${entry.cpe} names every version (ANY, no bounds)` };
  const v = cpeText(tv)!;
  const failures: string[] = [];
  for (const b of bounds) {
    const c = compareNvd(v, b.value);
    if (!c.known) return { identity: true, match: 'unknown', cpe, reason: `${v} vs ${b.label} ${b.value}: ${c.reason}` };
    if (!b.test(c.order)) failures.push(`${b.label} ${b.value}`);
  }
  const range = bounds.map((b) => `${b.label} ${b.value}`).join(', ');
  return failures.length
    ? { identity: true, match: false, cpe, reason: `${v} is outside ${range}` }
    : { identity: true, match: true, cpe, reason: `${v} is within ${range} of ${entry.cpe}` };
}

interface Bound { label: string; value: string; test: (order: number) => boolean }

function boundsOf(e: AffectedEntry): Bound[] {
  const out: Bound[] = [];
  if (e.versionStartIncluding) out.push({ label: 'versionStartIncluding', value: e.versionStartIncluding, test: (o) => o >= 0 });
  if (e.versionStartExcluding) out.push({ label: 'versionStartExcluding', value: e.versionStartExcluding, test: (o) => o > 0 });
  if (e.versionEndIncluding) out.push({ label: 'versionEndIncluding', value: e.versionEndIncluding, test: (o) => o <= 0 });
  if (e.versionEndExcluding) out.push({ label: 'versionEndExcluding', value: e.versionEndExcluding, test: (o) => o < 0 });
  return out;
}

/** NVD states no version scheme: dotted numbers are ordered, and strict semantic versions; anything else is unknown. */
function compareNvd(a: string, b: string): Comparison {
  const n = compareVersions('numeric', a, b);
  if (n.known) return n;
  const s = compareVersions('semver', a, b);
  return s.known ? s : { known: false, reason: `NVD bounds carry no version scheme and ${n.reason}` };
}

// ------------------------------------------------------------------ configurations

export interface ConfigurationOutcome {
  /** The configuration holds for this component. */
  value: Tri;
  /** The vulnerable cpeMatch entries that named the component (identity true or unknown). */
  hits: { entry: AffectedEntry; outcome: CpeMatchOutcome }[];
  reasons: string[];
}

const and = (xs: Tri[]): Tri => (xs.includes(false) ? false : xs.includes('unknown') ? 'unknown' : true);
const or = (xs: Tri[]): Tri => (xs.includes(true) ? true : xs.includes('unknown') ? 'unknown' : false);
const not = (x: Tri): Tri => (x === 'unknown' ? x : !x);

/**
 * Evaluates one NVD configuration (all its cpeMatch entries, as the feed importer flattened
 * them with `nvdConfiguration`) for a component. `componentCpes` are tested by vulnerable
 * criteria; `contextCpes` (every CPE of the same SBOM and its subject) by platform criteria.
 */
export function evaluateConfiguration(entries: readonly AffectedEntry[], componentCpes: readonly string[], contextCpes: readonly string[]): ConfigurationOutcome {
  const nodes = new Map<number, AffectedEntry[]>();
  for (const e of entries) {
    const n = e.nvdConfiguration?.node ?? 0;
    nodes.set(n, [...(nodes.get(n) ?? []), e]);
  }
  const hits: ConfigurationOutcome['hits'] = [];
  const reasons: string[] = [];
  const nodeValues: Tri[] = [];
  for (const [, list] of [...nodes.entries()].sort((a, b) => a[0] - b[0])) {
    const values = list.map((e): Tri => {
      if (e.vulnerable === false) {
        // platform presence is a name match (NA = NA included), not a version decision
        const p = e.cpe ? tryParseCpe(e.cpe) : undefined;
        const present = !!p && 'wfn' in p && contextCpes.some((x) => {
          const t = tryParseCpe(x);
          return 'wfn' in t && cpeMatches(p.wfn, t.wfn);
        });
        if (!present) reasons.push(`platform ${e.cpe} is not named in the SBOM (unknown)`);
        return present ? true : 'unknown';
      }
      const o = evaluateCpeMatch(e, componentCpes);
      if (o.identity !== false) {
        hits.push({ entry: e, outcome: o });
        reasons.push(o.reason);
      }
      return o.match;
    });
    const first = list[0]!.nvdConfiguration;
    let v = (first?.operator ?? 'OR').toUpperCase() === 'AND' ? and(values) : or(values);
    if (first?.negate) v = not(v);
    nodeValues.push(v);
  }
  const op = (entries[0]?.nvdConfiguration?.configOperator ?? 'OR').toUpperCase();
  const value = op === 'AND' ? and(nodeValues) : or(nodeValues);
  return { value, hits, reasons };
}

/** Groups a vulnerability's NVD entries by (document, configuration index). */
export function nvdConfigurations(affected: readonly AffectedEntry[]): AffectedEntry[][] {
  const groups = new Map<string, AffectedEntry[]>();
  for (const e of affected) {
    if (!e.nvdConfiguration) continue;
    const key = `${e.source.document}\u0000${e.nvdConfiguration.config}`;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  return [...groups.values()];
}
