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
import { entityOf, fieldOf, type EntityName, type EntitySpec } from './catalog.js';
import { matchAt, nearest, type Match } from './match.js';
import { parseTypedQuery, type Analysis, type Filter, type Measure, type Order, type TimeRange, measureName, type TypedQueryInput } from './query.js';
import { editsWithin } from './fuzzy.js';
import { fold, singular, tokenize, type Token } from './text.js';
import { readTimes, type TimeWindow } from './time.js';
import { queryProblems } from './validate.js';
import type { Meaning, Vocabulary } from './vocabulary.js';

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

type Cue =
  | 'count' | 'list' | 'by' | 'top' | 'most' | 'least' | 'trend' | 'vs' | 'common' | 'neg'
  | 'avg' | 'max' | 'min' | 'sum' | 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'open' | 'closed'
  | 'bucket:hour' | 'bucket:day' | 'bucket:week' | 'bucket:month' | 'skip';

/** Cue phrases, longest first at each position. Words here are read before the vocabulary. */
const CUES: readonly (readonly [string, Cue])[] = ([
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

const CUE_INDEX = (() => {
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
const STOP = new Set(
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
    'did-we have-we involve involving involved belonging belong belongs associated related linked tied ' +
    'give show list display find name let lets look see check count counts counted total totals tally value values')
    .split(' '),
);

const DAY = 86_400_000;

const fuzzyGate = (w: string): boolean => !STOP.has(w) && !CUE_INDEX.has(w) && !/^\d+$/.test(w);

interface Pending {
  cue: Cue;
  at: number;
}

interface Mention {
  readonly match: Match;
  /** Read after a negation cue. */
  readonly negated: boolean;
  /** In a group-by list (after by/per). */
  readonly grouping: boolean;
  /** After a measure cue (average, max...). */
  readonly measure?: 'avg' | 'max' | 'min' | 'sum';
  /** Comparison with a number: "risk above 70". */
  comparator?: { op: 'gt' | 'gte' | 'lt' | 'lte' | 'eq'; value: number };
  /** Right after a vs cue. */
  readonly afterVs: boolean;
  /** Right after "top N". */
  readonly afterTop: boolean;
  readonly index: number;
}

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
      const m: Mention = { match, negated: negate, grouping, ...(measure ? { measure } : {}), afterVs, afterTop, index: i };
      const isEntity = match.meanings.some((x) => x.kind === 'entity') && match.meanings.every((x) => x.kind !== 'value');
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

interface Parts {
  readonly original: string;
  readonly mentions: readonly Mention[];
  readonly cues: readonly Pending[];
  readonly numbers: readonly { value: number; at: number }[];
  readonly windows: readonly TimeWindow[];
  readonly now: number;
}

function buildQuery(p: Parts): Understanding {
  const has = (c: Cue): boolean => p.cues.some((x) => x.cue === c);
  const entityMentions = p.mentions.filter((m) => m.match.meanings.some((x) => x.kind === 'entity') && m.match.meanings.every((x) => x.kind !== 'value'));
  const named = new Set<EntityName>();
  for (const m of entityMentions) for (const x of m.match.meanings) if (x.kind === 'entity') named.add(x.entity);
  const entity = chooseEntity(p, named);
  if ('askBack' in entity || 'error' in entity) return entity;
  const spec = entity.spec;
  const notes: string[] = [];
  const filters: Filter[] = [];
  const groupBy: string[] = [];
  const measures: Measure[] = [];
  const sliceValues: { field: string; value: string | number | boolean; label: string }[] = [];
  // Values and fields, in the question's order.
  const byField = new Map<string, { values: (string | number | boolean)[]; negated: boolean }>();
  for (const m of p.mentions) {
    const meanings = m.match.meanings;
    if (meanings.some((x) => x.kind === 'entity') && meanings.every((x) => x.kind !== 'value') && !(m.grouping && meanings.some((x) => x.kind === 'field'))) {
      // "which vehicles" on another entity: the vehicles are the answer's rows.
      if (meanings.some((x) => x.kind === 'entity' && x.entity === 'vehicles') && spec.name !== 'vehicles' && spec.vehicleField) {
        if (m.grouping || m.afterTop) groupBy.push(spec.vehicleField);
      }
      continue;
    }
    if (meanings.every((x) => x.kind === 'field' || x.kind === 'entity')) {
      const keys = [...new Set(meanings.flatMap((x) => (x.kind === 'field' ? [x.key] : [])))];
      const fields = keys.map((k) => fieldName(spec, k)).filter((f): f is string => f !== undefined);
      const f = fields[0];
      if (f === undefined) {
        if (meanings.some((x) => x.kind === 'entity')) continue;
        return { error: `${spec.label} have no ${m.match.text}; they have ${spec.fields.filter((x) => !x.name.includes('.')).map((x) => x.label).join(', ')}` };
      }
      const fs = fieldOf(spec, f)!;
      if (m.comparator && !Number.isNaN(m.comparator.value)) {
        filters.push({ field: f, op: m.negated ? negateOp(m.comparator.op) : m.comparator.op, value: m.comparator.value });
      } else if (m.measure) {
        measures.push({ fn: m.measure, field: f });
      } else if (fs.type === 'boolean') {
        filters.push({ field: f, op: 'eq', value: !m.negated });
      } else if (m.grouping || m.afterTop || afterListCue(p, m) || (rankingCue(p) && !valueOf(p, keys))) {
        if (!fs.groupable) return { error: `${spec.label} cannot be grouped by ${fs.label}` };
        if (!groupBy.includes(f)) groupBy.push(f);
      }
      continue;
    }
    // Values: keep the meanings that fit the entity.
    const fitting = meanings.flatMap((x) => {
      if (x.kind !== 'value') return [];
      if (x.entity !== undefined && x.entity !== spec.name) return [];
      const f = fieldName(spec, x.key);
      return f === undefined ? [] : [{ field: f, value: x.value, key: x.key }];
    });
    const distinct = uniqueBy(fitting, (x) => `${x.field}=${String(x.value)}`);
    if (distinct.length === 0) {
      const any = meanings.find((x): x is Extract<Meaning, { kind: 'value' }> => x.kind === 'value');
      if (meanings.some((x) => x.kind === 'entity')) continue;
      return { error: `"${m.match.text}" is a ${any?.key ?? 'value'}, which ${spec.label} do not have` };
    }
    if (distinct.length > 1) {
      return {
        askBack: {
          question: `"${m.match.text}" can mean several things: which one?`,
          choices: distinct.map((d) => ({ label: `${d.value} (${fieldOf(spec, d.field)?.label ?? d.field})`, question: replaceWord(p.original, m.match.source, `${fieldOf(spec, d.field)?.label ?? d.field} ${d.value}`) })),
        },
      };
    }
    const d = distinct[0]!;
    if (d.key === 'ecu' && spec.name !== 'exposures') {
      // "by TCU software" / "TCU version": a software field.
      const sw = fieldName(spec, `software.${String(d.value)}`);
      if (sw && !groupBy.includes(sw)) groupBy.push(sw);
      continue;
    }
    if (m.afterVs || (p.cues.some((c) => c.cue === 'vs') && sliceValues.length === 0 && isFollowedByVs(p, m))) {
      sliceValues.push({ field: d.field, value: d.value, label: String(d.value) });
      continue;
    }
    const fs = fieldOf(spec, d.field)!;
    if (m.comparator && fs.ordered && !Number.isNaN(m.comparator.value)) continue;
    if (m.comparator && fs.type === 'integer' && typeof d.value === 'number') {
      filters.push({ field: d.field, op: m.negated ? negateOp(m.comparator.op) : m.comparator.op, value: d.value });
      continue;
    }
    const entry = byField.get(d.field) ?? { values: [], negated: m.negated };
    if (!entry.values.includes(d.value)) entry.values.push(d.value);
    entry.negated = entry.negated || m.negated;
    byField.set(d.field, entry);
    // "high severity or above" / "at least high": an ordered comparison.
    const cmp = orderedCue(p, m);
    if (cmp && fs.ordered) {
      byField.delete(d.field);
      filters.push({ field: d.field, op: cmp, value: d.value as string });
    }
  }
  for (const [field, e] of byField) {
    if (fieldOf(spec, field)?.type === 'list') {
      filters.push(e.values.length === 1 ? { field, op: 'has', value: e.values[0]! } : { field, op: 'has_any', value: e.values as string[] });
      if (e.negated) return { error: `"not" on ${field} is not supported` };
      continue;
    }
    if (e.values.length === 1) filters.push({ field, op: e.negated ? 'ne' : 'eq', value: e.values[0]! });
    else filters.push({ field, op: e.negated ? 'not_in' : 'in', value: e.values as (string | number)[] });
  }
  if (has('open') || has('closed')) {
    if (spec.name !== 'incidents') {
      if (!p.mentions.length || spec.name === 'alerts') return { error: 'open and closed apply to incidents' };
    } else {
      const neg = p.cues.some((c, k) => c.cue === 'neg' && p.cues[k + 1] && (p.cues[k + 1]!.cue === 'open' || p.cues[k + 1]!.cue === 'closed'));
      const closed = has('closed') !== neg;
      filters.push({ field: 'state', op: closed ? 'in' : 'not_in', value: ['resolved', 'false_positive'] });
    }
  }
  // Measures and the counting target.
  // "how many vehicles alerted", "vehicles with critical alerts": vehicles named before the entity are what is counted.
  const isVehicles = (m: Mention): boolean => m.match.meanings.some((x) => x.kind === 'entity' && x.entity === 'vehicles') && m.match.meanings.every((x) => x.kind !== 'value');
  const firstEntity = p.mentions.find((m) => m.match.meanings.some((x) => x.kind === 'entity' && x.entity === spec.name) && m.match.meanings.every((x) => x.kind !== 'value'));
  // "exposed vehicles", "affected cars": an entity phrase that names vehicles counts them too.
  const vehiclePhrase = firstEntity !== undefined && /\b(vehicles?|cars?)\b/.test(firstEntity.match.text);
  const countsVehicles = spec.name !== 'vehicles' && spec.vehicleField !== undefined &&
    (vehiclePhrase || p.mentions.some((m) => isVehicles(m) && !m.grouping && (firstEntity === undefined || m.index < firstEntity.index)));
  const isCount = has('count');
  const isList = has('list');
  const topCue = p.cues.find((c) => c.cue === 'top');
  const mostCue = has('most');
  const leastCue = has('least');
  const trend = has('trend') || p.cues.some((c) => c.cue.startsWith('bucket:'));
  const common = has('common');
  let topN: number | undefined;
  let used: { value: number; at: number } | undefined;
  if (topCue) {
    used = p.numbers.find((n) => n.at === topCue.at + 1);
    topN = used?.value ?? 10;
  } else if (mostCue || leastCue) {
    used = p.numbers[0];
    topN = used?.value ?? 1;
  }
  // A number that is no count of a top-N and no comparison ("Model 5" when there is none) is not dropped silently.
  const stray = p.numbers.find((n) => n !== used);
  if (stray) return { error: `I do not know what "${stray.value}" refers to here` };
  if (measures.length === 0) {
    if (countsVehicles && spec.vehicleField) {
      if (groupBy.length === 0 && (isList || common) && !isCount) groupBy.push(spec.vehicleField);
      if (!groupBy.includes(spec.vehicleField)) measures.push({ fn: 'count' }, { fn: 'count_distinct', field: spec.vehicleField });
      else measures.push({ fn: 'count' });
      if (isCount && !groupBy.length && !trend) measures.splice(0, measures.length, { fn: 'count_distinct', field: spec.vehicleField });
    } else measures.push({ fn: 'count' });
  }
  // A plain listing: "list critical alerts", "which incidents are open" (no count, group-by or analysis).
  const listing = isList && !isCount && groupBy.length === 0 && !trend && !common && topN === undefined && !countsVehicles &&
    measures.length === 1 && measures[0]!.fn === 'count' && p.windows.length < 2;
  let analysis: Analysis = { kind: 'none' };
  const order: Order[] = [];
  let limit: number | undefined;
  let time: TimeRange | undefined = p.windows[0] ? toRange(p.windows[0]) : undefined;
  // "Tesla alerts compared to Ford": the value before the comparison is the first slice.
  if (sliceValues.length === 1) {
    const s = sliceValues[0]!;
    const i = filters.findIndex((f) => f.field === s.field && f.op === 'eq');
    if (i >= 0) {
      sliceValues.unshift({ field: s.field, value: filters[i]!.value as string, label: String(filters[i]!.value) });
      filters.splice(i, 1);
    }
  }
  if (p.windows.length >= 2 || sliceValues.length >= 2) {
    if (p.windows.length >= 2) {
      const [a, b] = p.windows as [TimeWindow, TimeWindow];
      analysis = { kind: 'comparison', a: { label: a.text, filters: [], time: toRange(a) }, b: { label: b.text, filters: [], time: toRange(b) } };
      time = undefined;
    } else {
      const [a, b] = sliceValues as [typeof sliceValues[0], typeof sliceValues[0]];
      if (a.field !== b.field && fieldOf(spec, a.field)?.label !== fieldOf(spec, b.field)?.label) notes.push(`comparing ${a.field} with ${b.field}`);
      analysis = { kind: 'comparison', a: { label: a.label, filters: [{ field: a.field, op: 'eq', value: a.value }] }, b: { label: b.label, filters: [{ field: b.field, op: 'eq', value: b.value }] } };
    }
  } else if (sliceValues.length === 1) {
    const s = sliceValues[0]!;
    filters.push({ field: s.field, op: 'eq', value: s.value });
  }
  if (analysis.kind === 'none') {
    if (trend) {
      const cue = p.cues.find((c) => c.cue.startsWith('bucket:'))?.cue;
      const bucket = cue ? (cue.slice('bucket:'.length) as 'hour' | 'day' | 'week' | 'month') : defaultBucket(p.windows[0], p.now);
      analysis = { kind: 'trend', bucket };
      if (!cue) notes.push(`per ${bucket}`);
    } else if (topN !== undefined) {
      if (groupBy.length === 0) {
        // "top 5 incidents by risk": the rows themselves, ordered by the measure's field.
        const byMeasure = measures.find((m) => m.field && m.fn !== 'count' && m.fn !== 'count_distinct');
        const orderField = byMeasure?.field ?? p.mentions.map((m) => m.match.meanings.find((x) => x.kind === 'field')).find((x) => x)?.key;
        const f = orderField ? fieldName(spec, orderField) : undefined;
        if (!f || fieldOf(spec, f)?.groupable) {
          return {
            askBack: {
              question: `Top ${topN} of what? Group the ${spec.label} by which field?`,
              choices: groupChoices(spec).map((g) => ({ label: g.label, question: `${p.original} by ${g.label}` })),
            },
          };
        }
        return checked({ entity: spec.name, measures: [], filters, ...(time ? { time } : {}), order: [{ by: f, dir: leastCue ? 'asc' : 'desc' }], limit: topN }, notes);
      }
      if (leastCue) {
        order.push({ by: measureName(measures[0]!), dir: 'asc' });
        limit = topN;
      } else analysis = { kind: 'top', n: topN };
    } else if (common) {
      if (!spec.vehicleField) return { error: `${spec.label} have no vehicles to find in common` };
      analysis = { kind: 'commonality' };
    }
  }
  if (common && analysis.kind !== 'commonality' && analysis.kind !== 'none') notes.push('commonality is left out: one analysis per question');
  const query: TypedQueryInput = {
    entity: spec.name,
    measures: listing ? [] : measures,
    filters,
    groupBy,
    ...(time ? { time } : {}),
    ...(order.length ? { order } : {}),
    ...(limit !== undefined ? { limit } : {}),
    analysis,
  };
  return checked(query, notes);
}

/** The query after the schema and the catalog's checks: a problem here is the engine's, said plainly. */
function checked(query: TypedQueryInput, notes: string[]): Understanding {
  const parsed = parseTypedQuery(query);
  if ('problems' in parsed) return { error: `could not build a valid query: ${parsed.problems.join('; ')}` };
  const problems = queryProblems(parsed.query);
  if (problems.length) return { error: `could not build a valid query: ${problems.map((x) => `${x.part}: ${x.message}`).join('; ')}` };
  return { query, notes };
}

/** "which make", "what model": a field right after a list cue is what the answer lists. */
function afterListCue(p: Parts, m: Mention): boolean {
  return p.cues.some((c) => c.cue === 'list' && c.at === m.index - 1);
}

function rankingCue(p: Parts): boolean {
  return p.cues.some((c) => c.cue === 'most' || c.cue === 'least' || c.cue === 'top');
}

/** Whether the question names a value of one of `keys` ("severity high": severity is a filter, not a group). */
function valueOf(p: Parts, keys: readonly string[]): boolean {
  return p.mentions.some((m) => m.match.meanings.some((x) => x.kind === 'value' && keys.includes(x.key)));
}

function chooseEntity(p: Parts, named: ReadonlySet<EntityName>): { spec: EntitySpec } | { askBack: AskBack } | { error: string } {
  const order: EntityName[] = [];
  for (const m of p.mentions) for (const x of m.match.meanings) if (x.kind === 'entity' && m.match.meanings.every((y) => y.kind !== 'value') && !order.includes(x.entity)) order.push(x.entity);
  const valueKeys = new Set(p.mentions.flatMap((m) => m.match.meanings.flatMap((x) => (x.kind === 'value' ? [x.key] : []))));
  const fieldKeys = new Set(p.mentions.flatMap((m) => m.match.meanings.flatMap((x) => (x.kind === 'field' ? [x.key] : []))));
  const pick = (n: EntityName): { spec: EntitySpec } => ({ spec: entityOf(n)! });
  if (named.has('exposures')) return pick('exposures');
  if (named.has('vulnerabilities') && (named.has('vehicles') || valueKeys.has('make') || valueKeys.has('model'))) return pick('exposures');
  const others = order.filter((e) => e !== 'vehicles');
  if (others.length > 0) return pick(others[0]!);
  const enumEntity = (key: string): EntityName | undefined => {
    for (const m of p.mentions) for (const x of m.match.meanings) if (x.kind === 'value' && x.key === key && x.entity) return x.entity;
    return undefined;
  };
  if (valueKeys.has('rule') || fieldKeys.has('rule')) return pick('alerts');
  if (valueKeys.has('state') || valueKeys.has('kind') || fieldKeys.has('state') || fieldKeys.has('risk') || fieldKeys.has('assignee') || p.cues.some((c) => c.cue === 'open' || c.cue === 'closed')) return pick('incidents');
  if (valueKeys.has('vulnerability') && named.has('vehicles')) return pick('exposures');
  if (valueKeys.has('vulnerability') || fieldKeys.has('cvss') || fieldKeys.has('epss') || fieldKeys.has('kev')) return pick('vulnerabilities');
  if (valueKeys.has('outcome')) return pick(enumEntity('outcome') ?? 'alerts');
  if (named.has('vehicles')) return pick('vehicles');
  if (valueKeys.has('severity') || fieldKeys.has('severity')) {
    return {
      askBack: {
        question: 'Severity of what: alerts or incidents?',
        choices: [{ label: 'alerts', question: `${p.original} alerts` }, { label: 'incidents', question: `${p.original} incidents` }],
      },
    };
  }
  // "how many Teslas", "Model 3 by trim": a make or model names vehicles.
  if (p.mentions.length > 0 && [...valueKeys, ...fieldKeys].every((k) => ['make', 'model', 'year', 'trim', 'region', 'ecu'].includes(k) || k.startsWith('software.'))) {
    return pick('vehicles');
  }
  return {
    askBack: {
      question: 'I could not tell what the question is about. Ask about one of these:',
      choices: (['vehicles', 'alerts', 'incidents', 'vulnerabilities'] as const).map((e) => ({ label: e, question: `how many ${e} ${p.windows[0]?.text ?? ''}`.trim() })),
    },
  };
}

/** The entity's field for a vocabulary key (`make` -> `vehicle.make` on alerts), or undefined. */
function fieldName(spec: EntitySpec, key: string): string | undefined {
  const direct = fieldOf(spec, key);
  if (direct && !(key === 'vehicle' && spec.name === 'vehicles' && false)) return direct.name;
  for (const candidate of [`vehicle.${key}`, `vulnerability.${key}`]) if (fieldOf(spec, candidate)) return candidate;
  if (key === 'rule' && fieldOf(spec, 'rules')) return 'rules';
  if (key === 'vulnerability' && spec.name === 'vulnerabilities') return 'id';
  if (key === 'software' && spec.name === 'exposures') return 'software_version';
  return undefined;
}

function groupChoices(spec: EntitySpec): { label: string }[] {
  return spec.fields.filter((f) => f.groupable && f.type !== 'vehicle').slice(0, 5).map((f) => ({ label: f.label }));
}

function toRange(w: TimeWindow): TimeRange {
  if (w.relative) return { kind: 'relative', last: w.relative.last, unit: w.relative.unit };
  return { kind: 'absolute', from: Math.max(0, w.from ?? 0), to: w.to ?? 8.64e12 };
}

function defaultBucket(w: TimeWindow | undefined, now: number): 'hour' | 'day' | 'week' | 'month' {
  if (!w) return 'day';
  const span = (w.to ?? now) - (w.from ?? 0);
  if (span <= 2 * DAY) return 'hour';
  if (span <= 92 * DAY) return 'day';
  if (span <= 400 * DAY) return 'week';
  return 'month';
}

function negateOp(op: 'gt' | 'gte' | 'lt' | 'lte' | 'eq'): Filter['op'] {
  return ({ gt: 'lte', gte: 'lt', lt: 'gte', lte: 'gt', eq: 'ne' } as const)[op];
}

/** "at least high", "high or above": the ordered operator around a value mention, if any. */
function orderedCue(p: Parts, m: Mention): 'gte' | 'gt' | 'lte' | 'lt' | undefined {
  const near = p.cues.filter((c) => c.at === m.index - 1 || c.at === m.index - 2 || c.at === m.index + m.match.n || c.at === m.index + m.match.n + 1);
  for (const c of near) if (c.cue === 'gte' || c.cue === 'gt' || c.cue === 'lte' || c.cue === 'lt') return c.cue;
  return undefined;
}

function isFollowedByVs(p: Parts, m: Mention): boolean {
  const vs = p.cues.find((c) => c.cue === 'vs');
  if (!vs) return false;
  const next = p.mentions.find((x) => x.index > vs.at);
  return vs.at === m.index + m.match.n && next !== undefined && next.match.meanings.some((x) => x.kind === 'value');
}

function cueAt(tokens: readonly Token[], i: number): { cue: Cue; n: number } | undefined {
  const list = CUE_INDEX.get(tokens[i]!.text);
  if (!list) return undefined;
  for (const c of list) if (c.words.every((w, k) => tokens[i + k]?.text === w)) return { cue: c.cue, n: c.words.length };
  return undefined;
}

const NUMBER_WORDS: Readonly<Record<string, number>> = {
  one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, twenty: 20, fifty: 50, hundred: 100,
};

function parseNumber(s: string): number | undefined {
  if (NUMBER_WORDS[s] !== undefined) return NUMBER_WORDS[s];
  if (!/^\d+(\.\d+)?$/.test(s)) return undefined;
  return Number(s);
}

function uniqueBy<T>(list: readonly T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return list.filter((x) => (seen.has(key(x)) ? false : (seen.add(key(x)), true)));
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

/** Words of time expressions, for fixing their typos ("lsat 30 days") before the time reading. */
const TIME_WORDS = ['last', 'past', 'previous', 'hours', 'days', 'weeks', 'months', 'years', 'yesterday', 'today', 'since', 'between', 'month', 'week', 'year', 'january', 'february', 'march', 'april', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** A word that is no known word but within the edit threshold of a time word becomes that time word. */
function fixTimeWords(text: string, v: Vocabulary): string {
  return text.replace(/[a-z]{4,}/g, (w) => {
    if (TIME_WORDS.includes(w) || STOP.has(w) || CUE_INDEX.has(w) || v.phrases.has(w) || v.phrases.has(singular(w))) return w;
    const hits = TIME_WORDS.filter((t) => editsWithin(w, t) !== undefined);
    return hits.length === 1 ? hits[0]! : w;
  });
}

/** `question` with the first occurrence of `word` (compared case- and accent-blind) replaced. */
function replaceWord(question: string, word: string, by: string): string {
  const f = fold(question);
  const at = f.search(new RegExp(`(^|[^a-z0-9])${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '[^a-z0-9]+')}(?![a-z0-9])`));
  if (at < 0) return `${question} (${by})`;
  const start = at + (/^[a-z0-9]/.test(f.slice(at)) ? 0 : 1);
  const rest = f.slice(start).match(new RegExp(`^${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '[^a-z0-9]+')}`));
  const len = rest?.[0].length ?? word.length;
  return question.slice(0, start) + by + question.slice(start + len);
}
