/**
 * OSV `affected[].ranges` and `versions` (OSV schema, "Evaluation").
 *
 * For SEMVER and ECOSYSTEM ranges the events are sorted by version and walked:
 *
 *   affected = false
 *   for event in sorted(events):
 *     introduced    and v >= introduced    -> affected = true
 *     fixed         and v >= fixed         -> affected = false
 *     last_affected and v >  last_affected -> affected = false
 *   limit present and v >= limit           -> affected = false
 *
 * `introduced: "0"` sorts before every version. A range is affected if any range says so.
 * Sorting needs an order: an ecosystem without one here (see versions.ts) gives `unknown`.
 *
 * GIT ranges name commits, and commits are ordered only by the repository graph, which a
 * pure matcher does not have. So a commit is decided only when it appears in the events
 * itself (an `introduced` or `last_affected` commit is affected; a `fixed` or `limit` commit
 * is not), or in the record's explicit `versions`; any other commit is `unknown`.
 */
import type { RangeEvent, VersionRange } from '../model.js';
import { compareVersions, sameCommit, schemeForEcosystem, type VersionScheme } from './versions.js';

export interface OsvOutcome {
  status: 'affected' | 'unaffected' | 'unknown';
  reason: string;
}

/** Evaluates one OSV affected package's ranges and explicit versions for `version`. */
export function evaluateOsv(version: string, ranges: readonly VersionRange[], explicitVersions: readonly string[] = [], ecosystem?: string): OsvOutcome {
  if (explicitVersions.some((e) => e === version || sameCommit(e, version))) {
    return { status: 'affected', reason: `${version} is listed in the record's affected versions` };
  }
  const unknowns: string[] = [];
  const outside: string[] = [];
  let sawRange = false;
  for (const range of ranges) {
    sawRange = true;
    const r = range.type === 'GIT' ? evaluateGit(version, range.events) : evaluateOrdered(version, range, range.type === 'SEMVER' ? 'semver' : schemeForEcosystem(ecosystem), ecosystem);
    if (r.status === 'affected') return r;
    if (r.status === 'unknown') unknowns.push(r.reason);
    else outside.push(r.reason);
  }
  if (unknowns.length) return { status: 'unknown', reason: unknowns.join('; ') };
  if (!sawRange && explicitVersions.length === 0) return { status: 'unknown', reason: 'the record gives neither ranges nor versions' };
  return { status: 'unaffected', reason: `${outside.join('; ') || `${version} is outside every range`}${explicitVersions.length ? '; not listed in versions' : ''}` };
}

type Kind = 'introduced' | 'fixed' | 'last_affected' | 'limit';
const kindOf = (e: RangeEvent): [Kind, string] | undefined =>
  e.introduced !== undefined ? ['introduced', e.introduced]
    : e.fixed !== undefined ? ['fixed', e.fixed]
      : e.last_affected !== undefined ? ['last_affected', e.last_affected]
        : e.limit !== undefined ? ['limit', e.limit] : undefined;

function evaluateOrdered(version: string, range: VersionRange, scheme: VersionScheme, ecosystem: string | undefined): OsvOutcome {
  const label = range.type === 'SEMVER' ? 'SEMVER' : `ECOSYSTEM ${ecosystem ?? '(no ecosystem)'}`;
  if (scheme === 'custom') return { status: 'unknown', reason: `${label}: no version order is implemented for this ecosystem` };
  const events = range.events.map(kindOf).filter((e): e is [Kind, string] => e !== undefined);
  // v against each event; `introduced: 0` is below everything
  const vs: { kind: Kind; at: string; order: -1 | 0 | 1 }[] = [];
  for (const [kind, at] of events) {
    if (kind === 'introduced' && at === '0') {
      vs.push({ kind, at, order: 1 });
      continue;
    }
    const c = compareVersions(scheme, version, at);
    if (!c.known) return { status: 'unknown', reason: `${label}: ${c.reason}` };
    vs.push({ kind, at, order: c.order });
  }
  // sort the events by version (ties keep record order); an unorderable pair means unknown
  let sortError: string | undefined;
  const sorted = [...vs].sort((a, b) => {
    if (a.at === b.at) return 0;
    if (a.kind === 'introduced' && a.at === '0') return -1;
    if (b.kind === 'introduced' && b.at === '0') return 1;
    const c = compareVersions(scheme, a.at, b.at);
    if (!c.known) {
      sortError ??= c.reason;
      return 0;
    }
    return c.order;
  });
  if (sortError) return { status: 'unknown', reason: `${label}: ${sortError}` };
  let affected = false;
  let why = 'before every introduced event';
  for (const e of sorted) {
    if (e.kind === 'introduced' && e.order >= 0) {
      affected = true;
      why = `introduced ${e.at}`;
    } else if (e.kind === 'fixed' && e.order >= 0) {
      affected = false;
      why = `fixed in ${e.at}`;
    } else if (e.kind === 'last_affected' && e.order > 0) {
      affected = false;
      why = `after last_affected ${e.at}`;
    }
  }
  const limit = sorted.find((e) => e.kind === 'limit' && e.order >= 0);
  if (affected && limit) {
    affected = false;
    why = `at or above limit ${limit.at}`;
  }
  return { status: affected ? 'affected' : 'unaffected', reason: `${label}: ${version} ${why}` };
}

function evaluateGit(commit: string, events: readonly RangeEvent[]): OsvOutcome {
  for (const e of events) {
    const ke = kindOf(e);
    if (!ke || !sameCommit(ke[1], commit)) continue;
    if (ke[0] === 'introduced' || ke[0] === 'last_affected') return { status: 'affected', reason: `GIT: ${commit} is the ${ke[0]} commit` };
    return { status: 'unaffected', reason: `GIT: ${commit} is the ${ke[0]} commit` };
  }
  return { status: 'unknown', reason: `GIT: ${commit} is not an event of the range; ordering commits needs the repository history` };
}
