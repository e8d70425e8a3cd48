/**
 * Question text to tokens: lower case, diacritics and punctuation dropped (but not the dots,
 * dashes and underscores inside identifiers such as `ID.4`, `F-150`, `tcu-exploit`,
 * `CVE-2024-1234`, `2.1.0`), plural nouns reduced to their singular.
 */

/** One word of the question, with its place (for n-grams and for removing spans). */
export interface Token {
  /** Normalized text: lower case, no diacritics. */
  readonly text: string;
  /** The singular of `text` (the same when it is not a plural). */
  readonly stem: string;
  readonly index: number;
}

/** Lower case without diacritics; other characters kept. */
export function fold(s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

/** Words of a value or a question: identifier characters stay, everything else separates. */
export function words(s: string): string[] {
  return fold(s)
    .replace(/[’']s\b/g, '')
    .split(/[^a-z0-9.\-_+/:]+/)
    .map((w) => w.replace(/^[.\-_+/:]+|[.\-_+/:]+$/g, ''))
    .filter((w) => w.length > 0);
}

/** Tokens of a question. */
export function tokenize(question: string): Token[] {
  return words(question).map((text, index) => ({ text, stem: singular(text), index }));
}

const SINGULAR_EXCEPTIONS: Record<string, string> = {
  vehicles: 'vehicle', vehicule: 'vehicle', vehicules: 'vehicle', analyses: 'analysis', statuses: 'status',
  vulnerabilities: 'vulnerability', severities: 'severity', entries: 'entry', categories: 'category',
  series: 'series', news: 'news', has: 'has', was: 'was', is: 'is', its: 'its', this: 'this', us: 'us',
  gps: 'gps', gnss: 'gnss', bms: 'bms', abs: 'abs', ids: 'id', vins: 'vin', ecus: 'ecu', cves: 'cve',
  does: 'does', always: 'always', less: 'less', across: 'across', plus: 'plus', versus: 'versus', vs: 'vs',
};

/** English plural to singular for the nouns of questions ("alerts", "incidents", "makes", "boxes"). */
export function singular(w: string): string {
  const known = SINGULAR_EXCEPTIONS[w];
  if (known !== undefined) return known;
  if (/^\d+s$/.test(w)) return w.slice(0, -1); // "Model 3s"
  if (w.length <= 3 || !/^[a-z]+$/.test(w)) return w;
  if (w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (/(ches|shes|sses|xes|zes)$/.test(w)) return w.slice(0, -2);
  if (w.endsWith('ss') || w.endsWith('us') || w.endsWith('is')) return w;
  if (w.endsWith('s')) return w.slice(0, -1);
  return w;
}

/** `question` with the first occurrence of `word` (compared case- and accent-blind) replaced. */
export function replaceWord(question: string, word: string, by: string): string {
  const f = fold(question);
  const at = f.search(new RegExp(`(^|[^a-z0-9])${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '[^a-z0-9]+')}(?![a-z0-9])`));
  if (at < 0) return `${question} (${by})`;
  const start = at + (/^[a-z0-9]/.test(f.slice(at)) ? 0 : 1);
  const rest = f.slice(start).match(new RegExp(`^${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '[^a-z0-9]+')}`));
  const len = rest?.[0].length ?? word.length;
  return question.slice(0, start) + by + question.slice(start + len);
}
