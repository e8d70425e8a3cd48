/**
 * The typed query from what the reading of a question found (understand.ts): the entity, the
 * filters from values (negated, ordered, sliced for a comparison), group-by fields, measures,
 * the time range and the analysis (top-N, trend, comparison, commonality), validated before it
 * is returned. Ambiguities found here (a value that fits two fields, severity of what, top-N
 * of what, nothing to count) are ask-backs.
 */
import { entityOf, fieldOf, type EntityName, type EntitySpec } from './catalog.js';
import type { Cue } from './cues.js';
import type { Match } from './match.js';
import { parseTypedQuery, UNIT_MS, type Analysis, type Filter, type Measure, type Order, type TimeRange, measureName, type TypedQueryInput } from './query.js';
import { replaceWord } from './text.js';
import type { TimeWindow } from './time.js';
import type { AskBack, Understanding } from './understand.js';
import { queryProblems } from './validate.js';
import type { Meaning } from './vocabulary.js';

const DAY = 86_400_000;
/** Time fields every row has: named without a time range they add no condition ("cars registered"). */
const ALWAYS_SET: ReadonlySet<string> = new Set(['first_seen', 'created_at', 'updated_at', 'detected_at']);

export interface Pending {
  cue: Cue;
  at: number;
}

export interface Mention {
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
  /** An entity word's enum values kept aside by the vocabulary ("vehicle": also an incident kind). */
  readonly shadowed?: readonly Extract<Meaning, { kind: 'value' }>[];
}

export interface Parts {
  readonly original: string;
  readonly mentions: readonly Mention[];
  readonly cues: readonly Pending[];
  readonly numbers: readonly { value: number; at: number }[];
  readonly windows: readonly TimeWindow[];
  readonly now: number;
}

export function buildQuery(p: Parts): Understanding {
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
  // Mentions that became a filter (for the check that every "not" and every field word was used),
  // and entity words read as a value of the entity ("vehicle incidents": kind vehicle).
  const filtered = new Set<Mention>();
  let windowField: string | undefined;
  const asValue = new Set<Mention>();
  for (const m of p.mentions) {
    const meanings = m.match.meanings;
    const kept = shadowedValue(p, spec, m);
    if (kept) {
      const entry = byField.get(kept.field) ?? { values: [], negated: m.negated };
      if (!entry.values.includes(kept.value)) entry.values.push(kept.value);
      entry.negated = entry.negated || m.negated;
      byField.set(kept.field, entry);
      asValue.add(m);
      filtered.add(m);
      continue;
    }
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
        filtered.add(m);
      } else if (m.measure) {
        measures.push({ fn: m.measure, field: f });
      } else if (fs.type === 'boolean') {
        filters.push({ field: f, op: 'eq', value: !m.negated });
        filtered.add(m);
      } else if (m.grouping || m.afterTop || afterListCue(p, m) || (rankingCue(p) && !valueOf(p, keys))) {
        if (!fs.groupable) return { error: `${spec.label} cannot be grouped by ${fs.label}` };
        if (!groupBy.includes(f)) groupBy.push(f);
      } else if (fs.type === 'time') {
        // "incidents opened on 2 November", "cars registered last month": the window's field.
        if (p.windows.length > 0) windowField ??= f;
        else if (f !== spec.timeField && !ALWAYS_SET.has(f)) return { error: `I do not know what to do with "${m.match.source}": give a time range for ${fs.label} (e.g. "${m.match.source} in the last 7 days")` };
      } else if (!valueOf(p, keys) && !shadowedOf(p, spec, keys) && !rankingCue(p)) {
        // A field word with no value, grouping, measure or comparison ("incidents kind"): never dropped silently.
        return fieldAskBack(p, spec, m, fs);
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
      filtered.add(m);
      continue;
    }
    const fs = fieldOf(spec, d.field)!;
    if (m.comparator && fs.ordered && !Number.isNaN(m.comparator.value)) continue;
    if (m.comparator && fs.type === 'integer' && typeof d.value === 'number') {
      filters.push({ field: d.field, op: m.negated ? negateOp(m.comparator.op) : m.comparator.op, value: d.value });
      filtered.add(m);
      continue;
    }
    const entry = byField.get(d.field) ?? { values: [], negated: m.negated };
    if (!entry.values.includes(d.value)) entry.values.push(d.value);
    entry.negated = entry.negated || m.negated;
    byField.set(d.field, entry);
    filtered.add(m);
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
  // Every "not" applies to something that became a filter (or to open/closed): "vehicles that never alerted" is no count of vehicles that did.
  for (const c of p.cues) {
    if (c.cue !== 'neg') continue;
    const next = p.cues.find((x) => x.at > c.at);
    if (next && (next.cue === 'open' || next.cue === 'closed') && !p.mentions.some((m) => m.index > c.at && m.index < next.at)) continue;
    if (p.mentions.some((m) => m.index > c.at && m.negated && filtered.has(m))) continue;
    const word = p.original.split(/\s+/).find((w) => /^(not|excluding|exclude|except|without|non|never|isn.t|aren.t|other|apart|!=|<>)/i.test(w)) ?? 'not';
    return { error: `I could not tell what "${word}" excludes here: name a value after it (e.g. "not critical", "excluding us-west")` };
  }
  // Measures and the counting target.
  // "how many vehicles alerted", "vehicles with critical alerts": vehicles named before the entity are what is counted.
  const isVehicles = (m: Mention): boolean => m.match.meanings.some((x) => x.kind === 'entity' && x.entity === 'vehicles') && m.match.meanings.every((x) => x.kind !== 'value');
  const firstEntity = p.mentions.find((m) => m.match.meanings.some((x) => x.kind === 'entity' && x.entity === spec.name) && m.match.meanings.every((x) => x.kind !== 'value'));
  // "exposed vehicles", "affected cars": an entity phrase that names vehicles counts them too.
  const vehiclePhrase = firstEntity !== undefined && /\b(vehicles?|cars?)\b/.test(firstEntity.match.text);
  const countsVehicles = spec.name !== 'vehicles' && spec.vehicleField !== undefined &&
    (vehiclePhrase || p.mentions.some((m) => isVehicles(m) && !asValue.has(m) && !m.grouping && (firstEntity === undefined || m.index < firstEntity.index)));
  const isCount = has('count');
  // "how many vehicle alerts": "vehicle" as a modifier of the entity's word may mean the alerts or the
  // vehicles that have them ("how many vehicles alerted" counts vehicles); ask rather than pick.
  const adjunct = p.mentions.find((m) => isVehicles(m) && !asValue.has(m) && firstEntity !== undefined &&
    m.index + m.match.n === firstEntity.index && /^(vehicle|car)$/.test(m.match.source));
  if (adjunct && firstEntity && isCount && countsVehicles && !vehiclePhrase) {
    const phrase = `${adjunct.match.source} ${firstEntity.match.source}`;
    return {
      askBack: {
        question: `"${phrase}": count the ${spec.label}, or the vehicles that have them?`,
        choices: [
          { label: spec.label, question: replaceWord(p.original, phrase, firstEntity.match.source) },
          { label: `vehicles with ${spec.label}`, question: replaceWord(p.original, phrase, `vehicles with ${firstEntity.match.source}`) },
        ],
      },
    };
  }
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
  if (time && windowField !== undefined && windowField !== spec.timeField) time = { ...time, field: windowField };
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
      // Periods in time order, whatever the word order ("this month vs last month"): change_* = b - a is the change over time.
      const [a, b] = [...p.windows.slice(0, 2)].sort((x, y) => start(x, p.now) - start(y, p.now)) as [TimeWindow, TimeWindow];
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
/**
 * An entity word read as an enum value of the question's entity, when the shape says so: right
 * before the entity's own word ("vehicle incidents") or right after the field's word ("incidents
 * of kind vehicle", "kind is vehicle"). Elsewhere the word is the entity ("vehicles with incidents").
 */
function shadowedValue(p: Parts, spec: EntitySpec, m: Mention): { field: string; value: string | number | boolean } | undefined {
  if (!m.shadowed?.length || m.match.meanings.some((x) => x.kind === 'entity' && x.entity === spec.name)) return undefined;
  for (const x of m.shadowed) {
    if (x.entity !== undefined && x.entity !== spec.name) continue;
    const field = fieldName(spec, x.key);
    if (field === undefined) continue;
    const next = p.mentions.find((o) => o.index === m.index + m.match.n);
    const beforeEntity = next !== undefined && next.match.meanings.some((y) => y.kind === 'entity' && y.entity === spec.name) && next.match.meanings.every((y) => y.kind !== 'value');
    const prev = [...p.mentions].reverse().find((o) => o.index < m.index);
    const afterField = prev !== undefined && m.index - (prev.index + prev.match.n) <= 1 && prev.match.meanings.some((y) => y.kind === 'field' && y.key === x.key);
    if (beforeEntity || afterField) return { field, value: x.value };
  }
  return undefined;
}

/** Whether an entity word of the question stands for a value of one of `keys` (shadowedValue). */
function shadowedOf(p: Parts, spec: EntitySpec, keys: readonly string[]): boolean {
  return p.mentions.some((m) => m.shadowed?.some((x) => keys.includes(x.key)) && shadowedValue(p, spec, m) !== undefined);
}

/** A field word the question does nothing with: ask whether it groups by it, rather than drop it. */
function fieldAskBack(p: Parts, spec: EntitySpec, m: Mention, fs: { label: string; groupable: boolean }): Understanding {
  const ask = `I do not know what to do with "${m.match.source}": name a value of ${fs.label}`;
  if (!fs.groupable) return { error: `${ask} or a comparison (e.g. "${fs.label} above 5")` };
  return {
    askBack: {
      question: `${ask}, or group by it?`,
      choices: [{ label: `${spec.label} by ${fs.label}`, question: replaceWord(p.original, m.match.source, `by ${m.match.source}`) }],
    },
  };
}

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

/** Where a window starts (a relative one: its length before now). */
function start(w: TimeWindow, now: number): number {
  return w.relative ? now - w.relative.last * UNIT_MS[w.relative.unit] : (w.from ?? 0);
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
function uniqueBy<T>(list: readonly T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return list.filter((x) => (seen.has(key(x)) ? false : (seen.add(key(x)), true)));
}
