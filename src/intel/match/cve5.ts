/**
 * CVE JSON 5 version semantics: is version v of a product affected, per the product's
 * `versions[]` and `defaultStatus`?
 *
 * The algorithm is the one the CVE 5 schema describes for `versions`:
 *
 *   for each entry, in order:
 *     no lessThan/lessThanOrEqual and v == version          -> entry.status          (exact)
 *     version <= v < lessThan, or version <= v <= lessThanOrEqual:
 *       status = entry.status; for each change with at <= v: status = change.status
 *       -> status                                                                  (range)
 *   -> defaultStatus (absent: unknown)
 *
 * First match wins. `*` as an upper bound means no upper bound (all versions from
 * `version` on); `x.y.*` means every x.y release (for ordered schemes only). A lower bound
 * of `0` is satisfied by every version (the schema's way of saying "from the first release").
 *
 * When an entry cannot be decided (the version type has no order, e.g. `custom`, or the
 * version does not parse), the walk does not stop and does not guess: it notes the statuses
 * the entry could produce and goes on. The answer is determined only if every possible
 * outcome is the same status; otherwise it is `undetermined`, with the reasons.
 */
import type { VersionClause, VersionStatus } from '../model.js';
import { compareVersions, sameCommit, schemeForVersionType, type Comparison, type VersionScheme } from './versions.js';

export type Cve5Outcome =
  | {
      determined: true;
      status: VersionStatus;
      /** How the status was reached: an exact entry, a range (with its changes), or defaultStatus. */
      via: 'exact' | 'range' | 'default';
      /** Index of the deciding entry in `versions`. */
      clause?: number;
      versionType?: string;
      reason: string;
    }
  | { determined: false; possible: VersionStatus[]; reasons: string[] };

type Tri = true | false | 'unknown';

/** Evaluates the CVE 5 `versions` of one product for `version`. */
export function evaluateCve5(version: string, versions: readonly VersionClause[], defaultStatus?: VersionStatus): Cve5Outcome {
  const possible = new Set<VersionStatus>();
  const reasons: string[] = [];
  for (let i = 0; i < versions.length; i++) {
    const c = versions[i]!;
    const scheme = schemeForVersionType(c.versionType);
    const isRange = c.lessThan !== undefined || c.lessThanOrEqual !== undefined;
    const hit = isRange ? inRange(scheme, version, c) : equalsVersion(scheme, version, c.version);
    if (hit.in === false) continue;
    const statuses = hit.in === true ? statusesInRange(scheme, version, c) : { all: allStatuses(c), reason: undefined };
    if (hit.in === true && statuses.status !== undefined) {
      possible.add(statuses.status);
      if (possible.size === 1) {
        return {
          determined: true,
          status: statuses.status,
          via: isRange ? 'range' : 'exact',
          clause: i,
          ...(c.versionType ? { versionType: c.versionType } : {}),
          reason: `${describe(c)} -> ${statuses.status}${statuses.reason ? ` (${statuses.reason})` : ''}`,
        };
      }
      reasons.push(`${describe(c)} -> ${statuses.status}`);
      return undetermined(possible, reasons);
    }
    // undecidable entry: it may or may not apply; remember what it could say
    for (const s of statuses.all) possible.add(s);
    reasons.push(`${describe(c)}: ${hit.in === 'unknown' ? hit.reason : statuses.reason}`);
  }
  const def = defaultStatus ?? 'unknown';
  possible.add(def);
  if (possible.size === 1) {
    return { determined: true, status: def, via: 'default', reason: `no entry matches ${JSON.stringify(version)}; defaultStatus ${defaultStatus ?? 'absent (unknown)'}${reasons.length ? `; ${reasons.join('; ')}` : ''}` };
  }
  reasons.push(`defaultStatus ${def}`);
  return undetermined(possible, reasons);
}

function undetermined(possible: Set<VersionStatus>, reasons: string[]): Cve5Outcome {
  return { determined: false, possible: [...possible], reasons };
}

function describe(c: VersionClause): string {
  const upper = c.lessThan !== undefined ? ` < ${c.lessThan}` : c.lessThanOrEqual !== undefined ? ` <= ${c.lessThanOrEqual}` : '';
  return `${upper ? `${c.version}..${upper.trim()}` : `= ${c.version}`} [${c.versionType ?? 'no versionType'}] ${c.status}`;
}

function allStatuses(c: VersionClause): VersionStatus[] {
  return [c.status, ...(c.changes ?? []).map((ch) => ch.status)];
}

/** Three-valued comparison: a <= b, a < b, a == b, with git commits known only by identity. */
function cmp(scheme: VersionScheme, a: string, b: string): Comparison {
  if (scheme === 'git') {
    if (sameCommit(a, b)) return { known: true, order: 0 };
    return compareVersions('git', a, b);
  }
  return compareVersions(scheme, a, b);
}

function equalsVersion(scheme: VersionScheme, v: string, entry: string): { in: Tri; reason?: string } {
  if (v.trim().toLowerCase() === entry.trim().toLowerCase()) return { in: true };
  if (scheme === 'git') return { in: sameCommit(v, entry) };
  const r = compareVersions(scheme, v, entry);
  // Under an unordered scheme, two different strings are two different versions.
  return { in: r.known ? r.order === 0 : false };
}

function inRange(scheme: VersionScheme, v: string, c: VersionClause): { in: Tri; reason?: string } {
  // lower bound (inclusive)
  let lower: Tri;
  let why: string | undefined;
  if (c.version.trim() === '0') lower = true;
  else {
    const r = cmp(scheme, v, c.version);
    lower = r.known ? r.order >= 0 : 'unknown';
    if (!r.known) why = r.reason;
  }
  if (lower === false) return { in: false };
  // upper bound
  const inclusive = c.lessThan === undefined;
  const bound = (inclusive ? c.lessThanOrEqual : c.lessThan)!.trim();
  let upper: Tri;
  if (bound === '*') upper = true;
  else if (scheme === 'git') {
    // the fixing commit itself is outside [introduced, fix); any other commit needs the history
    if (sameCommit(v, bound)) upper = inclusive;
    else if (lower === true && sameCommit(v, c.version)) upper = true;
    else {
      upper = 'unknown';
      why ??= compareVersions('git', v, bound).known ? undefined : 'git commits have no order without the repository history';
    }
  } else if (bound.endsWith('.*')) {
    upper = withinPrefix(scheme, v, bound.slice(0, -2));
    if (upper === 'unknown') why ??= `${JSON.stringify(bound)} wildcard under ${scheme} scheme`;
  } else {
    const r = cmp(scheme, v, bound);
    upper = r.known ? (inclusive ? r.order <= 0 : r.order < 0) : 'unknown';
    if (!r.known) why ??= r.reason;
  }
  if (upper === false) return { in: false };
  if (lower === true && upper === true) return { in: true };
  return { in: 'unknown', reason: why ?? 'range not decidable' };
}

/** `v <= prefix.*`: v's leading numeric components are at most the prefix's (`5.4.300 <= 5.4.*`, `5.3.9 <= 5.4.*`). */
function withinPrefix(scheme: VersionScheme, v: string, prefix: string): Tri {
  if (scheme === 'git' || scheme === 'custom') return 'unknown';
  const want = prefix.split('.');
  const head = v.split(/[.+~-]/).slice(0, want.length);
  if (!want.every((p) => /^\d+$/.test(p)) || head.length < want.length || !head.every((p) => /^\d+$/.test(p))) return 'unknown';
  for (let i = 0; i < want.length; i++) {
    const d = Number(head[i]) - Number(want[i]);
    if (d !== 0) return d < 0;
  }
  return true;
}

/** Within a range: the entry's status, then each change whose `at` <= v (the changes are in ascending order). */
function statusesInRange(scheme: VersionScheme, v: string, c: VersionClause): { status?: VersionStatus; all: VersionStatus[]; reason?: string } {
  let status: VersionStatus = c.status;
  const applied: string[] = [];
  for (const ch of c.changes ?? []) {
    const r = cmp(scheme, ch.at, v);
    if (!r.known) return { all: allStatuses(c), reason: `change at ${ch.at}: ${r.reason}` };
    if (r.order <= 0) {
      status = ch.status;
      applied.push(`change at ${ch.at} -> ${ch.status}`);
    }
  }
  return { status, all: [status], ...(applied.length ? { reason: applied.join(', ') } : {}) };
}
