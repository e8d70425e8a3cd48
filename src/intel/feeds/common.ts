/**
 * Shared pieces of the feed parsers: the per-record report builder, what every parser returns,
 * zod issue formatting and the test for version text that is not a version.
 */
import type { z } from 'zod';
import { cvssProblem } from './cvss.js';
import type {
  CsafDocument,
  CvssScore,
  FeedFormat,
  Indicator,
  RecordReport,
  RecordStatus,
  SourceRef,
  VexStatement,
  Vulnerability,
} from '../model.js';

/** What one parser returns for one document: unmerged values and one report line per record. */
export interface FeedResult {
  vulnerabilities: Vulnerability[];
  indicators: Indicator[];
  csaf: CsafDocument[];
  vex: VexStatement[];
  report: RecordReport[];
}

export function emptyResult(): FeedResult {
  return { vulnerabilities: [], indicators: [], csaf: [], vex: [], report: [] };
}

/** Collects the problems of one record; `done()` turns them into its report line. */
export class RecordProblems {
  readonly problems: string[] = [];
  readonly notes: string[] = [];
  constructor(
    readonly document: string,
    readonly format: FeedFormat | 'unknown',
    public recordId: string,
  ) {}
  add(problem: string): void {
    this.problems.push(problem);
  }
  /** A fact worth telling that is not a problem (the record stays `ok`). */
  note(note: string): void {
    this.notes.push(note);
  }
  /** Report a CVSS statement: unscorable or disagreeing is a problem, a re-ordered vector a note. */
  cvss(where: string, s: CvssScore): void {
    const p = cvssProblem(s);
    if (p) this.add(`${where}: ${p}`);
    if (s.statedVector) this.note(`${where}: CVSS vector '${s.statedVector}' normalized to '${s.vector}'`);
  }
  /** Zod issues as `path: message` lines, each prefixed (e.g. "schema"). */
  addIssues(issues: readonly z.core.$ZodIssue[], prefix = 'schema'): void {
    for (const i of issues) this.add(`${prefix}: ${formatPath(i.path)}: ${i.message}`);
  }
  /** `ok` when nothing went wrong, `partial` when something was imported despite problems. */
  done(imported: boolean): RecordReport {
    const status: RecordStatus = !imported ? 'rejected' : this.problems.length ? 'partial' : 'ok';
    const r: RecordReport = { document: this.document, format: this.format, recordId: this.recordId, status, problems: [...this.problems] };
    if (this.notes.length) r.notes = [...this.notes];
    return r;
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  if (!path.length) return '(root)';
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
}

/** A rejected record with one reason. */
export function rejected(document: string, format: FeedFormat | 'unknown', recordId: string, problem: string): RecordReport {
  return { document, format, recordId, status: 'rejected', problems: [problem] };
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

export function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function source(kind: SourceRef['kind'], document: string, recordId?: string, provider?: string): SourceRef {
  const s: SourceRef = { kind, document };
  if (provider) s.provider = provider;
  if (recordId) s.recordId = recordId;
  return s;
}

/** The English text of a `[{lang, value}]` list (first `en*`, else the first). */
export function english(list: unknown): string | undefined {
  if (!Array.isArray(list)) return undefined;
  const items = list.filter(isObject);
  const en = items.find((d) => typeof d.lang === 'string' && /^en\b/i.test(d.lang)) ?? items[0];
  return en ? str(en.value) : undefined;
}

/** Values CVE 5 CNAs write when they mean "no version stated". */
const NO_VERSION = /^(n\/a|na|none|-|\*|unspecified|unknown|all|all versions|various)$/i;

/**
 * Whether a version field is a usable version string rather than free text: `n/a`, a
 * chipset list (`APQ8009, APQ8017, ...`), a sentence (`QNX SDP 6.5.0 SP1 and earlier`),
 * `<= 5.x`. A usable version is one token with at least one digit and no spaces or commas;
 * git commit ids (hex) count. Comparison semantics are the matcher's business.
 */
export function isUsableVersion(v: string): boolean {
  const t = v.trim();
  if (!t || NO_VERSION.test(t)) return false;
  if (/[\s,;<>=]/.test(t)) return false;
  return /[0-9]/.test(t) || /^[0-9a-f]{7,40}$/i.test(t);
}

export const CVE_ID = /^CVE-\d{4}-\d{4,}$/;

/** Parse JSON text; the error message is the reason to report. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  const t = text.replace(/^\uFEFF/, '');
  if (!t.trim()) return { ok: false, error: 'empty document' };
  try {
    return { ok: true, value: JSON.parse(t) as unknown };
  } catch (e) {
    return { ok: false, error: `not valid JSON: ${(e as Error).message}` };
  }
}
