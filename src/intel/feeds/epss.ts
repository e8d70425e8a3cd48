/**
 * EPSS scores as FIRST publishes them (epss_scores-YYYY-MM-DD.csv): an optional comment line
 * `#model_version:v2023.03.01,score_date:2023-03-28T00:00:00+0000`, a header `cve,epss,percentile`
 * and one row per CVE. Each row is one record. Columns are found by header name, so a file with
 * extra or reordered columns still reads; scores must be numbers in [0, 1].
 */
import { newVulnerability } from '../model.js';
import { CVE_ID, emptyResult, RecordProblems, rejected, source, type FeedResult } from './common.js';

/** Whether text looks like an EPSS CSV (the comment line, or the header). */
export function looksLikeEpss(text: string): boolean {
  const head = text.replace(/^\uFEFF/, '').trimStart().slice(0, 200).toLowerCase();
  return head.startsWith('#model_version') || /^cve\s*,\s*epss\s*,/.test(head);
}

export function parseEpss(text: string, document: string): FeedResult {
  const out = emptyResult();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let modelVersion: string | undefined;
  let date: string | undefined;
  let i = 0;
  for (; i < lines.length && lines[i]!.trim().startsWith('#'); i++) {
    for (const part of lines[i]!.trim().slice(1).split(',')) {
      const [k, ...rest] = part.split(':');
      const v = rest.join(':').trim();
      if (k?.trim() === 'model_version') modelVersion = v;
      if (k?.trim() === 'score_date') date = v.slice(0, 10);
    }
  }
  const header = (lines[i] ?? '').split(',').map((h) => h.trim().toLowerCase());
  const [ci, si, pi] = ['cve', 'epss', 'percentile'].map((h) => header.indexOf(h));
  if (ci === undefined || ci < 0 || si === undefined || si < 0) {
    out.report.push(rejected(document, 'epss', '(header)', `no cve,epss header (found '${lines[i] ?? ''}')`));
    return out;
  }
  for (let n = i + 1; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (!line) continue;
    const cols = line.split(',').map((c) => c.trim());
    const id = cols[ci] ?? '';
    const problems = new RecordProblems(document, 'epss', id || `(line ${n + 1})`);
    if (!CVE_ID.test(id)) {
      problems.add(`line ${n + 1}: '${id}' is not a CVE id`);
      out.report.push(problems.done(false));
      continue;
    }
    const num = (c: string | undefined): number => (c === undefined || c === '' ? NaN : Number(c));
    const score = num(cols[si]);
    const percentile = pi !== undefined && pi >= 0 ? num(cols[pi]) : NaN;
    if (!Number.isFinite(score) || score < 0 || score > 1) {
      problems.add(`line ${n + 1}: epss '${cols[si] ?? ''}' is not a probability in [0, 1]`);
      out.report.push(problems.done(false));
      continue;
    }
    if (!Number.isFinite(percentile) || percentile < 0 || percentile > 1) problems.add(`line ${n + 1}: percentile '${pi !== undefined && pi >= 0 ? cols[pi] : ''}' is not in [0, 1]; kept as NaN`);
    const src = source('epss', document, id, 'FIRST');
    const vuln = newVulnerability(id, [src]);
    vuln.epss = { score, percentile, source: src, ...(date ? { date } : {}), ...(modelVersion ? { modelVersion } : {}) };
    out.vulnerabilities.push(vuln);
    out.report.push(problems.done(true));
  }
  return out;
}
