/**
 * The embedded language engine: a plain-language question to a typed query, with no model.
 * `understand(question, vocabulary, clock)` reads time expressions (time.ts), matches the
 * remaining words to the vocabulary (exact phrases first, longest first, then fuzzy: match.ts),
 * reads the question's shape from cue words (how many, which, by/per, top N, trend, vs, in
 * common, average/max of, not/excluding, above/below N) and fills the typed query's slots.
 *
 * It never guesses silently: a word that matches two values equally well, a value that fits
 * two fields, a time word without an anchor, a word it does not know, or a question that names
 * nothing to count gives an ask-back with concrete choices (each a rewritten question the
 * caller can send as is).
 */
import type { Clock } from '../core/clock.js';
import type { TypedQueryInput } from './query.js';
import { CUES, cueAt, fixTimeWords, fuzzyGate, parseNumber, STOP } from './cues.js';
import { matchAt, nearest, type Match } from './match.js';
import { buildQuery, type Mention, type Pending } from './shape.js';
import { fold, replaceWord, tokenize, type Token } from './text.js';
import { readTimes } from './time.js';
import type { Vocabulary } from './vocabulary.js';

export interface AskBackChoice {
  /** What the choice means, e.g. "Model 3 (vehicle model)". */
  readonly label: string;
  /** The question rewritten with the choice: send it as the next question. */
  readonly question: string;
}

export interface AskBack {
  readonly question: string;
  readonly choices: readonly AskBackChoice[];
}

export type Understanding =
  | { readonly query: TypedQueryInput; readonly notes: readonly string[] }
  | { readonly askBack: AskBack }
  | { readonly error: string };

/** Understands `question` against `vocabulary` at the clock's time. Pure and deterministic. */
export function understand(question: string, vocabulary: Vocabulary, clock: Clock): Understanding {
  const now = clock.now();
  const original = question.trim();
  if (original === '') return { error: 'the question is empty' };
  if (original.length > 500) return { error: 'the question is longer than 500 characters' };
  const folded = fold(original)
    .replace(/>=|≥/g, ' gte_op ').replace(/<=|≤/g, ' lte_op ').replace(/!=|<>/g, ' ne_op ')
    .replace(/>/g, ' gt_op ').replace(/</g, ' lt_op ').replace(/(^|\s)=(\s|$)/g, ' eq_op ')
    .replace(/\b(isn|aren|don|doesn|didn|haven|hasn|weren|wasn)['’]t\b/g, (_m, w: string) => `${w === 'isn' ? 'isnt' : w === 'aren' ? 'arent' : 'not'}`)
    .replace(/\bnon-/g, 'non ');
  const times = readTimes(fixTimeWords(folded, vocabulary), now);
  if (times.vague) {
    const options = ['in the last 24 hours', 'in the last 7 days', 'in the last 30 days'];
    return {
      askBack: {
        question: `"${times.vague}" has no fixed span: which time range do you mean?`,
        choices: options.map((o) => ({ label: o.replace(/^in the /, ''), question: replaceWord(original, times.vague!, o) })),
      },
    };
  }
  const tokens = tokenize(times.rest);
  const mentions: Mention[] = [];
  const cues: Pending[] = [];
  const numbers: { value: number; at: number }[] = [];
  const unknown: Token[] = [];
  let negate = false;
  let grouping = false;
  let measure: Mention['measure'];
  let afterVs = false;
  let afterTop = false;
  let comparator: { op: 'gt' | 'gte' | 'lt' | 'lte' | 'eq'; at: number } | undefined;
  let lastField: Mention | undefined;
  for (let i = 0; i < tokens.length; ) {
    const cue = cueAt(tokens, i);
    // A vocabulary phrase longer than the cue wins ("affected by", "detection hits").
    const match = matchAt(tokens, i, vocabulary, fuzzyGate);
    if (cue && (!match || match.n <= cue.n)) {
      cues.push({ cue: cue.cue, at: i });
      if (cue.cue === 'neg') negate = true;
      else if (cue.cue === 'by') grouping = true;
      else if (cue.cue === 'avg' || cue.cue === 'max' || cue.cue === 'min' || cue.cue === 'sum') measure = cue.cue;
      else if (cue.cue === 'vs') afterVs = true;
      else if (cue.cue === 'top') afterTop = true;
      else if (cue.cue === 'gt' || cue.cue === 'gte' || cue.cue === 'lt' || cue.cue === 'lte' || cue.cue === 'eq') {
        // "2 or more" / "9 and above": the comparator follows its number.
        const prev = numbers[numbers.length - 1];
        if (prev && prev.at === i - 1 && /^(or|and) /.test(CUES.find(([, c]) => c === cue.cue)?.[0] ?? '') && lastField?.comparator === undefined && lastField) {
          lastField.comparator = { op: cue.cue, value: prev.value };
          numbers.pop();
        } else comparator = { op: cue.cue, at: i };
      }
      i += cue.n;
      continue;
    }
    if (match) {
      const isEntity = match.meanings.some((x) => x.kind === 'entity') && match.meanings.every((x) => x.kind !== 'value');
      const aside = isEntity ? vocabulary.shadowed.get(match.text) : undefined;
      const m: Mention = { match, negated: negate, grouping, ...(measure ? { measure } : {}), afterVs, afterTop, index: i, ...(aside ? { shadowed: aside } : {}) };
      const isField = !isEntity && match.meanings.every((x) => x.kind === 'field');
      if (isField && comparator) m.comparator = { op: comparator.op, value: NaN };
      else if (!isField && !isEntity && comparator) {
        const num = match.meanings.find((x) => x.kind === 'value' && typeof x.value === 'number');
        if (num?.kind === 'value') m.comparator = { op: comparator.op, value: num.value as number };
        comparator = undefined;
      }
      mentions.push(m);
      if (isField) lastField = m;
      if (!isField) negate = false;
      if (!isField && !isEntity) grouping = false;
      if (isEntity) grouping = false;
      // "maximum incident risk": the measure waits for its field past an entity word.
      if (!isEntity) measure = undefined;
      afterVs = false;
      afterTop = false;
      i += match.n;
      continue;
    }
    const t = tokens[i]!;
    const num = parseNumber(t.text);
    if (num !== undefined) {
      if (comparator && lastField && lastField.comparator === undefined) lastField.comparator = { op: comparator.op, value: num };
      else if (lastField?.comparator && Number.isNaN(lastField.comparator.value)) lastField.comparator.value = num;
      else numbers.push({ value: num, at: i });
      comparator = undefined;
      i++;
      continue;
    }
    if (!STOP.has(t.text) && !STOP.has(t.stem)) unknown.push(t);
    i++;
  }
  if (unknown.length > 0) return unknownWord(original, unknown[0]!, vocabulary);
  if (measure) return { error: `I could not tell what "${measure === 'avg' ? 'average' : measure}" applies to: name a number field after it (e.g. "average risk")` };
  const ambiguous = mentions.find((m) => m.match.alternatives.length > 1);
  if (ambiguous) return typoAskBack(original, ambiguous.match);
  return buildQuery({ original, mentions, cues, numbers, windows: times.windows, now });
}
function unknownWord(original: string, t: Token, vocabulary: Vocabulary): Understanding {
  const near = nearest(t.text, vocabulary, 4);
  if (near.length === 0) return { error: `I do not know the word "${t.text}": it names no entity, field or value in this fleet's data` };
  return {
    askBack: {
      question: `I do not know "${t.text}". Did you mean one of these?`,
      choices: near.map((n) => ({ label: n.label, question: replaceWord(original, t.text, n.replacement) })),
    },
  };
}

function typoAskBack(original: string, m: Match): Understanding {
  return {
    askBack: {
      question: `"${m.source}" is close to several things: which one?`,
      choices: m.alternatives.map((a) => ({ label: a.label, question: replaceWord(original, m.source, a.replacement) })),
    },
  };
}
