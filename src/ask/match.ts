/**
 * Matching the question's words to vocabulary phrases. At each position: exact multiword
 * phrases (longest first), then fuzzy multiword phrases (at least one word identical, the rest
 * within the edit threshold of fuzzy.ts), then one exact word, then one fuzzy word. A fuzzy
 * match whose best distance is shared by phrases of different meanings is returned with its
 * alternatives, so the caller asks back instead of picking one.
 */
import { distance } from 'fastest-levenshtein';
import { editsWithin } from './fuzzy.js';
import type { Token } from './text.js';
import type { Meaning, Vocabulary } from './vocabulary.js';

export interface Alternative {
  /** The vocabulary phrase. */
  readonly phrase: string;
  /** How to show it: the value or field with what it is ("Model 3 (vehicle model)"). */
  readonly label: string;
  /** What to write in the question instead: the value as the data spells it, else the phrase. */
  readonly replacement: string;
}

export interface Match {
  /** Question words consumed. */
  readonly n: number;
  readonly meanings: readonly Meaning[];
  /** The vocabulary phrase matched. */
  readonly text: string;
  /** The question's words it came from. */
  readonly source: string;
  /** Edits between source and text (0: exact). */
  readonly edits: number;
  /** More than one when a fuzzy match is a tie between different meanings. */
  readonly alternatives: readonly Alternative[];
}

/** Words never matched fuzzily (too common to be a misspelt value). */
export type FuzzyGate = (word: string) => boolean;

export function matchAt(tokens: readonly Token[], i: number, v: Vocabulary, fuzzyOk: FuzzyGate = () => true): Match | undefined {
  const max = Math.min(v.maxWords, tokens.length - i);
  for (let n = max; n >= 2; n--) {
    const m = exact(tokens, i, n, v);
    if (m) return m;
  }
  for (let n = Math.min(3, max); n >= 2; n--) {
    const m = fuzzy(tokens, i, n, v, fuzzyOk);
    if (m) return m;
  }
  return exact(tokens, i, 1, v) ?? (max >= 1 ? fuzzy(tokens, i, 1, v, fuzzyOk) : undefined);
}

function exact(tokens: readonly Token[], i: number, n: number, v: Vocabulary): Match | undefined {
  const slice = tokens.slice(i, i + n);
  const source = slice.map((t) => t.text).join(' ');
  const stems = slice.map((t) => t.stem).join(' ');
  const a = v.phrases.get(source);
  const b = stems === source ? undefined : v.phrases.get(stems);
  if (!a && !b) return undefined;
  // "rules": the incidents' `rules` field and the word "rule"; both are kept, the entity decides.
  const meanings = [...(a ?? []), ...(b ?? []).filter((m) => !(a ?? []).includes(m))];
  return { n, meanings, text: a ? source : stems, source, edits: 0, alternatives: [] };
}

function fuzzy(tokens: readonly Token[], i: number, n: number, v: Vocabulary, fuzzyOk: FuzzyGate): Match | undefined {
  const slice = tokens.slice(i, i + n);
  if (n === 1 && !fuzzyOk(slice[0]!.text)) return undefined;
  // Several words are matched fuzzily only around a word that is itself unknown ("modle 3", "model x").
  if (n > 1 && !slice.some((t) => fuzzyOk(t.text) && !v.phrases.has(t.text) && !v.phrases.has(t.stem))) return undefined;
  const source = slice.map((t) => t.text).join(' ');
  const stems = slice.map((t) => t.stem).join(' ');
  let best = Infinity;
  let hits: string[] = [];
  const consider = (phrase: string, d: number): void => {
    if (d < best) {
      best = d;
      hits = [phrase];
    } else if (d === best && d !== Infinity) hits.push(phrase);
  };
  if (n === 1) {
    for (const list of oneWordCandidates(slice[0]!, v)) {
      for (const phrase of list) consider(phrase, Math.min(editsWithin(source, phrase) ?? Infinity, editsWithin(stems, phrase) ?? Infinity));
    }
  } else {
    for (const m of v.byLength[n] ?? []) consider(m.phrase, wordwise(slice, m.words));
  }
  if (hits.length === 0) return undefined;
  const alternatives = distinctTargets(hits, v);
  return { n, meanings: v.phrases.get(hits[0]!)!, text: hits[0]!, source, edits: best, alternatives: alternatives.length > 1 ? alternatives : [] };
}

/** The one-word phrases a word may be a typo of: the same digits, or no digits and a length within the threshold. */
function oneWordCandidates(t: Token, v: Vocabulary): (readonly string[])[] {
  const d = t.text.replace(/[^0-9]/g, '');
  if (d !== '') return [v.wordsByDigits.get(d) ?? []];
  const lo = Math.max(1, Math.min(t.text.length, t.stem.length) - 3);
  const hi = Math.max(t.text.length, t.stem.length) + 3;
  const out: (readonly string[])[] = [];
  for (let len = lo; len <= hi; len++) out.push(v.wordsByChars[len] ?? []);
  return out;
}

/**
 * Edits between question words and phrase words of the same count: each pair identical or
 * within the per-word threshold; a one-character word may differ ("model x" is one edit from
 * "model y" and from "model 3") when another word is identical. Infinity when they do not fit.
 */
function wordwise(slice: readonly Token[], pw: readonly string[]): number {
  let total = 0;
  let same = 0;
  for (let k = 0; k < pw.length; k++) {
    const t = slice[k]!;
    const w = pw[k]!;
    if (w === t.text || w === t.stem) {
      same++;
      continue;
    }
    if (t.text.length === 1 && w.length === 1 && !/\d/.test(t.text)) {
      total += 1;
      continue;
    }
    const d = Math.min(editsWithin(t.text, w) ?? Infinity, editsWithin(t.stem, w) ?? Infinity);
    if (d === Infinity) return Infinity;
    total += d;
  }
  return same > 0 && total > 0 ? total : Infinity;
}

/** The hits that mean different things (two phrases of one value are one target). */
function distinctTargets(hits: readonly string[], v: Vocabulary): Alternative[] {
  const seen = new Set<string>();
  const out: Alternative[] = [];
  for (const h of hits) {
    const ms = v.phrases.get(h) ?? [];
    // One target per phrase: the entity when it is one ("vehicles" and "vehicle" are the same thing).
    const key = target(ms.find((m) => m.kind === 'entity') ?? ms[0]!);
    if (seen.has(key)) continue;
    seen.add(key);
    const value = ms.find((m) => m.kind === 'value');
    out.push({ phrase: h, label: describe(h, ms), replacement: value?.kind === 'value' ? String(value.value) : h });
  }
  return out;
}

function target(m: Meaning): string {
  return m.kind === 'entity' ? `e:${m.entity}` : m.kind === 'field' ? `f:${m.key}` : `v:${m.key}=${String(m.value)}`;
}

/** "Model 3 (model)", "severity (field)", "alerts". */
export function describe(phrase: string, ms: readonly Meaning[]): string {
  const m = ms[0];
  if (!m) return phrase;
  if (m.kind === 'entity') return m.entity.replace(/_/g, ' ');
  if (m.kind === 'field') return `${phrase} (${m.key.replace(/_/g, ' ')})`;
  return `${String(m.value)} (${m.key.replace(/_/g, ' ')})`;
}

/** The `k` phrases closest to `word` (at most a third of its length in edits), for "did you mean". */
export function nearest(word: string, v: Vocabulary, k: number): Alternative[] {
  const limit = Math.max(1, Math.floor(word.length / 3));
  const scored: { phrase: string; d: number }[] = [];
  const lists = [...v.byLength.map((l) => (l ?? []).map((m) => m.phrase)), ...v.wordsByChars.slice(Math.max(0, word.length - limit), word.length + limit + 1)];
  for (const list of lists) {
    for (const phrase of list ?? []) {
      if (Math.abs(phrase.length - word.length) > limit) continue;
      const d = distance(word, phrase);
      if (d <= limit) scored.push({ phrase, d });
    }
  }
  scored.sort((a, b) => a.d - b.d || a.phrase.localeCompare(b.phrase));
  return distinctTargets(scored.map((s) => s.phrase), v).slice(0, k);
}

