/**
 * The words that shape a question rather than name something: cue phrases (how many, by, top,
 * vs, in common, not, above ...), words that carry no meaning here, number words, and the fix
 * of misspelt time words. Read before the vocabulary at each position (understand.ts).
 */
import { editsWithin } from './fuzzy.js';
import { singular, type Token } from './text.js';
import type { Vocabulary } from './vocabulary.js';

export type Cue =
  | 'count' | 'list' | 'by' | 'top' | 'most' | 'least' | 'trend' | 'vs' | 'common' | 'neg'
  | 'avg' | 'max' | 'min' | 'sum' | 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'open' | 'closed'
  | 'bucket:hour' | 'bucket:day' | 'bucket:week' | 'bucket:month' | 'skip';

/** Cue phrases, longest first at each position. Words here are read before the vocabulary. */
export const CUES: readonly (readonly [string, Cue])[] = ([
  ['how many', 'count'], ['how much', 'count'], ['number of', 'count'], ['count of', 'count'], ['count', 'count'],
  ['total number of', 'count'], ['amount of', 'count'],
  ['which', 'list'], ['what', 'list'], ['list', 'list'], ['show', 'list'], ['display', 'list'], ['find', 'list'],
  ['give me', 'list'], ['get', 'list'], ['name the', 'list'],
  ['broken down by', 'by'], ['break down by', 'by'], ['breakdown by', 'by'], ['grouped by', 'by'], ['group by', 'by'],
  ['split by', 'by'], ['for each', 'by'], ['for every', 'by'], ['per', 'by'], ['by', 'by'], ['across', 'by'], ['each', 'by'],
  ['top', 'top'], ['the most', 'most'], ['most', 'most'], ['the least', 'least'], ['least', 'least'], ['fewest', 'least'], ['the fewest', 'least'],
  ['over time', 'trend'], ['trend', 'trend'], ['trends', 'trend'], ['trending', 'trend'], ['time series', 'trend'], ['evolution of', 'trend'],
  ['daily', 'bucket:day'], ['weekly', 'bucket:week'], ['monthly', 'bucket:month'], ['hourly', 'bucket:hour'],
  ['per day', 'bucket:day'], ['per week', 'bucket:week'], ['per month', 'bucket:month'], ['per hour', 'bucket:hour'],
  ['by day', 'bucket:day'], ['by week', 'bucket:week'], ['by month', 'bucket:month'], ['by hour', 'bucket:hour'],
  ['each day', 'bucket:day'], ['each week', 'bucket:week'], ['each month', 'bucket:month'], ['day by day', 'bucket:day'],
  ['vs', 'vs'], ['vs.', 'vs'], ['versus', 'vs'], ['compared to', 'vs'], ['compared with', 'vs'], ['compare', 'skip'], ['comparison of', 'skip'],
  ['have in common', 'common'], ['has in common', 'common'], ['in common', 'common'], ['commonalities', 'common'], ['commonality', 'common'],
  ['what do they share', 'common'], ['do they share', 'common'], ['share', 'common'], ['shared traits', 'common'], ['common factors', 'common'],
  ['common attributes', 'common'], ['common traits', 'common'],
  ['not', 'neg'], ['excluding', 'neg'], ['exclude', 'neg'], ['except', 'neg'], ['except for', 'neg'], ['other than', 'neg'], ['without', 'neg'],
  ['non', 'neg'], ['but not', 'neg'], ['apart from', 'neg'], ['isnt', 'neg'], ['arent', 'neg'], ['never', 'neg'],
  ['average', 'avg'], ['avg', 'avg'], ['mean', 'avg'], ['maximum', 'max'], ['max', 'max'], ['highest', 'max'], ['largest', 'max'], ['biggest', 'max'],
  ['minimum', 'min'], ['min', 'min'], ['lowest', 'min'], ['smallest', 'min'], ['sum of', 'sum'], ['sum', 'sum'],
  ['greater than or equal to', 'gte'], ['at least', 'gte'], ['or more', 'gte'], ['or above', 'gte'], ['and above', 'gte'], ['or higher', 'gte'], ['and up', 'gte'],
  ['greater than', 'gt'], ['more than', 'gt'], ['higher than', 'gt'], ['above', 'gt'], ['over', 'gt'], ['exceeding', 'gt'], ['newer than', 'gt'], ['after', 'gt'],
  ['less than or equal to', 'lte'], ['at most', 'lte'], ['or less', 'lte'], ['or below', 'lte'], ['or lower', 'lte'], ['and below', 'lte'],
  ['less than', 'lt'], ['fewer than', 'lt'], ['lower than', 'lt'], ['below', 'lt'], ['under', 'lt'], ['older than', 'lt'], ['before', 'lt'],
  ['equal to', 'eq'], ['equals', 'eq'], ['exactly', 'eq'],
  ['gte_op', 'gte'], ['lte_op', 'lte'], ['gt_op', 'gt'], ['lt_op', 'lt'], ['eq_op', 'eq'], ['ne_op', 'neg'],
  ['still open', 'open'], ['open', 'open'], ['unresolved', 'open'], ['active', 'open'], ['ongoing', 'open'], ['closed', 'closed'],
] as const satisfies readonly (readonly [string, Cue])[]).map(([p, c]) => [p, c] as const);

export const CUE_INDEX = (() => {
  const m = new Map<string, { words: string[]; cue: Cue }[]>();
  for (const [p, cue] of CUES) {
    const w = p.split(' ');
    const list = m.get(w[0]!) ?? [];
    list.push({ words: w, cue });
    list.sort((a, b) => b.words.length - a.words.length);
    m.set(w[0]!, list);
  }
  return m;
})();

/** Words that carry no meaning of their own here. */
export const STOP = new Set(
  ('a an the of in on at to for from with and or is are was were be been being do does did done has have had having ' +
    'there their they them these those this that it its me my we our us you your i please can could would will shall ' +
    'tell know see want need like about any some all every so far during within into as than then also just only ' +
    'currently now ever yet still recorded logged seen happened occurred got get gets getting ' +
    'raised raise raising fired fire firing triggered trigger triggering generated produced opened open created reported ' +
    'run running runs ran using use uses used on-board onboard distinct unique different separate overall altogether ' +
    'where when whose who whom how many much number numbers rows row records record entries entry results result data ' +
    'breakdown break down broken split group grouped grouping order ordered sorted sort rank ranked ranking ' +
    'fleet-wide our kind kinds sort type types currently respectively ones one each per by across versus vs between ' +
    'since until till up rate rates frequency frequent frequently common often times time period window stats statistics ' +
    'summary summarize overview report table chart graph plot them happen happening affect affecting ' +
    'among amongst did-we have-we involve involving involved belonging belong belongs associated related linked tied ' +
    'give show list display find name let lets look see check count counts counted total totals tally value values')
    .split(' '),
);


/** Words that may be matched fuzzily: not a cue, not a word without meaning, not a number. */
export const fuzzyGate = (w: string): boolean => !STOP.has(w) && !CUE_INDEX.has(w) && !/^\d+$/.test(w);

export function cueAt(tokens: readonly Token[], i: number): { cue: Cue; n: number } | undefined {
  const list = CUE_INDEX.get(tokens[i]!.text);
  if (!list) return undefined;
  for (const c of list) if (c.words.every((w, k) => tokens[i + k]?.text === w)) return { cue: c.cue, n: c.words.length };
  return undefined;
}
const NUMBER_WORDS: Readonly<Record<string, number>> = {
  one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, twenty: 20, fifty: 50, hundred: 100,
};

export function parseNumber(s: string): number | undefined {
  if (NUMBER_WORDS[s] !== undefined) return NUMBER_WORDS[s];
  if (!/^\d+(\.\d+)?$/.test(s)) return undefined;
  return Number(s);
}
/** Words of time expressions, for fixing their typos ("lsat 30 days") before the time reading. */
const TIME_WORDS = ['last', 'past', 'previous', 'hours', 'days', 'weeks', 'months', 'years', 'yesterday', 'today', 'since', 'between', 'month', 'week', 'year', 'january', 'february', 'march', 'april', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** A word that is no known word but within the edit threshold of a time word becomes that time word. */
export function fixTimeWords(text: string, v: Vocabulary): string {
  return text.replace(/[a-z]{4,}/g, (w) => {
    if (TIME_WORDS.includes(w) || STOP.has(w) || CUE_INDEX.has(w) || v.phrases.has(w) || v.phrases.has(singular(w))) return w;
    const hits = TIME_WORDS.filter((t) => editsWithin(w, t) !== undefined);
    return hits.length === 1 ? hits[0]! : w;
  });
}
