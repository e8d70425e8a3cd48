/**
 * CVSS statements: the vector is parsed and scored by ae-cvss-calculator (2.0, 3.0, 3.1, 4.0),
 * written back in the specification's metric order, and compared with what the source stated.
 * A vector in a non-canonical order (`CVSS:3.1/AC:H/AV:P/...`, seen in real CNA records) is
 * normalized and kept; a stated score that disagrees with the computed one is kept and flagged.
 */
import cvssLib from 'ae-cvss-calculator';
import type { CvssScore, CvssVersion, Severity, SourceRef } from '../model.js';

const { Cvss2, Cvss3P0, Cvss3P1, Cvss4P0 } = cvssLib;

/** Base metrics each version requires, with their allowed values. */
const BASE: Record<CvssVersion, Record<string, string>> = {
  '2.0': { AV: 'LAN', AC: 'HML', Au: 'MSN', C: 'NPC', I: 'NPC', A: 'NPC' },
  '3.0': { AV: 'NALP', AC: 'LH', PR: 'NLH', UI: 'NR', S: 'UC', C: 'HLN', I: 'HLN', A: 'HLN' },
  '3.1': { AV: 'NALP', AC: 'LH', PR: 'NLH', UI: 'NR', S: 'UC', C: 'HLN', I: 'HLN', A: 'HLN' },
  '4.0': { AV: 'NALP', AC: 'LH', AT: 'NP', PR: 'NLH', UI: 'NPA', VC: 'HLN', VI: 'HLN', VA: 'HLN', SC: 'HLN', SI: 'HLN', SA: 'HLN' },
};

/** The version a vector declares (`CVSS:3.1/...`), or the hint for a bare vector (`AV:N/...`). */
function versionOf(vector: string, hint?: string): CvssVersion | undefined {
  const m = /^CVSS:(\d\.\d)\//.exec(vector);
  const v = m ? m[1] : hint;
  if (v === '2' || v === '2.0') return '2.0';
  if (v === '3.0' || v === '3.1' || v === '4.0') return v;
  return undefined;
}

export function severityOf(version: CvssVersion, score: number): Severity {
  if (version === '2.0') return score < 4 ? 'LOW' : score < 7 ? 'MEDIUM' : 'HIGH';
  if (score === 0) return 'NONE';
  return score < 4 ? 'LOW' : score < 7 ? 'MEDIUM' : score < 9 ? 'HIGH' : 'CRITICAL';
}

/** Problems with the base metrics of a vector; empty when every base metric is present once with a valid value. */
function baseProblems(version: CvssVersion, vector: string): string[] {
  const body = vector.replace(/^CVSS:\d\.\d\//, '');
  const seen = new Map<string, string>();
  const problems: string[] = [];
  for (const part of body.split('/')) {
    const [k, v, extra] = part.split(':');
    if (!k || v === undefined || extra !== undefined) {
      problems.push(`malformed metric '${part}'`);
      continue;
    }
    if (seen.has(k)) problems.push(`metric ${k} given twice`);
    seen.set(k, v);
  }
  for (const [metric, allowed] of Object.entries(BASE[version])) {
    const v = seen.get(metric);
    if (v === undefined) problems.push(`base metric ${metric} missing`);
    else if (v.length !== 1 || !allowed.includes(v)) problems.push(`base metric ${metric} has invalid value '${v}'`);
  }
  return problems;
}

export interface StatedCvss {
  vector: string;
  /** The version the source says (NVD cvssData.version, CVE 5 container key), for bare v2/v3 vectors. */
  version?: string;
  score?: number;
  severity?: string;
}

/** Score one stated vector. Never throws: an unreadable vector yields `baseScore: null` and a `problem`. */
export function scoreCvss(stated: StatedCvss, src: SourceRef): CvssScore {
  const raw = stated.vector.trim();
  const version = versionOf(raw, stated.version);
  const base = (v: CvssVersion): CvssScore => {
    const s: CvssScore = { version: v, vector: raw, baseScore: null, severity: null, source: src };
    if (stated.score !== undefined) s.statedScore = stated.score;
    if (stated.severity) s.statedSeverity = stated.severity;
    return s;
  };
  if (!version) {
    const s = base((stated.version as CvssVersion) ?? '3.1');
    s.problem = `unknown CVSS version in vector '${raw}'`;
    return s;
  }
  const result = base(version);
  const problems = baseProblems(version, raw);
  if (problems.length) {
    result.problem = `CVSS ${version} vector '${raw}': ${problems.join('; ')}`;
    return result;
  }
  try {
    // A bare 3.x vector (CSAF notes, CycloneDX ratings) gets its prefix so the class accepts it.
    const full = version !== '2.0' && !raw.startsWith('CVSS:') ? `CVSS:${version}/${raw}` : raw;
    const calc =
      version === '2.0' ? new Cvss2(full) : version === '3.0' ? new Cvss3P0(full) : version === '3.1' ? new Cvss3P1(full) : new Cvss4P0(full);
    const scores = calc.calculateScores();
    const canonical = calc.toString();
    result.vector = canonical;
    if (canonical !== raw) result.statedVector = raw;
    result.baseScore = scores.base ?? null;
    if (result.baseScore !== null) {
      result.severity = severityOf(version, result.baseScore);
      if (stated.score !== undefined && Math.abs(stated.score - result.baseScore) > 0.05) result.scoreMismatch = true;
      if (stated.severity && stated.severity.toUpperCase() !== result.severity) result.scoreMismatch = true;
    }
  } catch (e) {
    result.problem = `CVSS ${version} vector '${raw}' could not be scored: ${(e as Error).message}`;
  }
  return result;
}

/** One report line for a score, when it is worth reporting (unscorable, or disagreeing with the source). */
export function cvssProblem(s: CvssScore): string | undefined {
  if (s.problem) return s.problem;
  if (s.scoreMismatch)
    return `CVSS ${s.version} ${s.vector}: stated ${s.statedScore ?? ''} ${s.statedSeverity ?? ''} but the vector scores ${s.baseScore} ${s.severity}`.replace(/\s+/g, ' ');
  return undefined;
}
