/**
 * Answers, pure: from a compiled query and what the store returned, the result table (columns
 * with their catalog types and labels), a chart spec when the shape suits, a short plain summary
 * that cites the numbers, the SQL with its bound values, and — for commonality — the scored
 * over-represented attribute values (scoreCommonality of src/alerts/fleet.ts: support, lift,
 * one-sided hypergeometric p-value, Bonferroni-adjusted).
 */
import { DEFAULT_COMMONALITY, scoreCommonality, type AttributeCount, type CommonalityResult } from '../alerts/fleet.js';
import type { EntitySpec } from './catalog.js';
import type { CompiledQuery, ResultColumn, SqlValue } from './compile.js';
import type { Cell, ResultTable } from './port.js';
import type { ResolvedTime, TypedQuery } from './query.js';

/**
 * A chart, in a small subset of Vega-Lite: one mark over the answer's table (`data.name` is
 * always `table`: the rows of `Answer.table`), x and y encodings naming its columns, and an
 * optional color encoding for a second grouping.
 *   { mark: 'bar', encoding: { x: { field: 'vehicle.make', type: 'nominal' }, y: { field: 'count', type: 'quantitative' } } }
 */
export interface ChartSpec {
  readonly $schema: 'https://vega.github.io/schema/vega-lite/v5.json';
  readonly data: { readonly name: 'table' };
  readonly mark: 'bar' | 'line';
  readonly encoding: {
    readonly x: ChartChannel;
    readonly y: ChartChannel;
    readonly color?: ChartChannel;
  };
}

export interface ChartChannel {
  readonly field: string;
  readonly type: 'nominal' | 'ordinal' | 'quantitative' | 'temporal';
  readonly title: string;
  readonly sort?: '-y';
}

/** A bound value as shown with the SQL: times as ISO text, vehicles and tenants as their keys. */
export type ShownValue = string | number | boolean | null;

export interface ShownSql {
  readonly text: string;
  readonly params: readonly ShownValue[];
}

export interface Answer {
  /** The typed query answered (defaults filled in). */
  readonly query: TypedQuery;
  /** The time range the query covered, resolved against the clock (epoch ms). */
  readonly time?: ResolvedTime;
  readonly table: {
    readonly columns: readonly ResultColumn[];
    readonly rows: readonly (readonly Cell[])[];
    readonly truncated: boolean;
  };
  readonly chart?: ChartSpec;
  readonly summary: string;
  readonly sql: ShownSql;
  /** Commonality analysis only. */
  readonly commonality?: CommonalityResult & { readonly sql: ShownSql };
  /** Time spent in the store, ms. */
  readonly elapsedMs: number;
}

/** Shows a bound value: `{ time }` as ISO 8601, vehicle keys and tenant ids as themselves. */
export function shownValue(v: SqlValue): ShownValue {
  if (v === null || typeof v !== 'object') return v;
  if ('time' in v) return new Date(v.time).toISOString();
  if ('vehicle' in v) return v.vehicle;
  return v.tenantId;
}

/** The answer of a compiled query from its result (and commonality's counts, if it has them). */
export function buildAnswer(
  q: TypedQuery, entity: EntitySpec, c: CompiledQuery, result: ResultTable, counts?: ResultTable,
): Answer {
  const rows = result.rows.slice(0, c.limit);
  const truncated = result.truncated || result.rows.length > c.limit;
  const table = { columns: c.columns, rows, truncated };
  const chart = chartFor(q, c.columns, rows.length);
  let commonality: Answer['commonality'];
  if (counts && c.commonality) {
    const scored = scoreCommonality(commonalityCounts(counts), {
      minSupport: q.analysis.kind === 'commonality' ? q.analysis.minSupport ?? DEFAULT_COMMONALITY.minSupport : DEFAULT_COMMONALITY.minSupport,
      minCount: q.analysis.kind === 'commonality' ? q.analysis.minCount ?? DEFAULT_COMMONALITY.minCount : DEFAULT_COMMONALITY.minCount,
      alpha: q.analysis.kind === 'commonality' ? q.analysis.alpha ?? DEFAULT_COMMONALITY.alpha : DEFAULT_COMMONALITY.alpha,
      limit: DEFAULT_COMMONALITY.limit,
    });
    commonality = { ...scored, sql: { text: c.commonality.sql, params: c.commonality.params.map(shownValue) } };
  }
  return {
    query: q,
    ...(c.time ? { time: c.time } : {}),
    table,
    ...(chart ? { chart } : {}),
    summary: summarize(q, entity, c, table, commonality),
    sql: { text: c.sql, params: c.params.map(shownValue) },
    ...(commonality ? { commonality } : {}),
    elapsedMs: Math.round((result.elapsedMs + (counts?.elapsedMs ?? 0)) * 10) / 10,
  };
}

/** The counts scoreCommonality needs, from the commonality statement's rows. */
export function commonalityCounts(t: ResultTable): { setSize: number; fleetSize: number; unknownVehicles: number; values: AttributeCount[] } {
  const at = (name: string): number => t.columns.findIndex((c) => c.name === name);
  const [ia, iv, ifc, isc, ifs, iss, iu] = ['attribute', 'value', 'fleet_count', 'set_count', 'fleet_size', 'set_size', 'unknown_vehicles'].map(at);
  const first = t.rows[0];
  const num = (r: readonly Cell[] | undefined, i: number | undefined): number => Number(r?.[i!] ?? 0);
  return {
    fleetSize: num(first, ifs), setSize: num(first, iss), unknownVehicles: num(first, iu),
    values: t.rows.map((r) => ({
      attribute: String(r[ia!]),
      value: r[ia!] === 'year' ? Number(r[iv!]) : String(r[iv!]),
      fleetCount: num(r, ifc), setCount: num(r, isc),
    })),
  };
}

/** Most bars or points a chart is drawn for; a longer table has no chart. */
const MAX_CHART_ROWS = 60;

function chartFor(q: TypedQuery, columns: readonly ResultColumn[], rows: number): ChartSpec | undefined {
  if (rows < 2 || rows > MAX_CHART_ROWS * (q.analysis.kind === 'trend' ? 10 : 1)) return undefined;
  const groups = columns.filter((c) => c.role === 'group');
  const measures = columns.filter((c) => c.role === 'measure' && (c.type === 'count' || c.type === 'number' || c.type === 'integer'));
  const a = q.analysis;
  const y = a.kind === 'comparison' ? measures.find((m) => m.name.startsWith('change_')) : a.kind === 'top' && a.by ? measures.find((m) => m.name === a.by) : measures[0];
  if (!y || groups.length === 0) return undefined;
  const base = { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', data: { name: 'table' } } as const;
  const yc: ChartChannel = { field: y.name, type: 'quantitative', title: y.label };
  if (q.analysis.kind === 'trend') {
    const color = groups[1];
    return { ...base, mark: 'line', encoding: { x: { field: 'bucket', type: 'temporal', title: groups[0]!.label }, y: yc, ...(color ? { color: { field: color.name, type: 'nominal', title: color.label } } : {}) } };
  }
  if (groups.length > 2) return undefined;
  const x = groups[0]!;
  const color = groups[1];
  return {
    ...base, mark: 'bar',
    encoding: {
      x: { field: x.name, type: x.type === 'integer' ? 'ordinal' : 'nominal', title: x.label, ...(color ? {} : { sort: '-y' as const }) },
      y: yc,
      ...(color ? { color: { field: color.name, type: 'nominal', title: color.label } } : {}),
    },
  };
}

const fmt = (x: Cell | undefined): string => {
  if (x === null || x === undefined) return '(none)';
  if (typeof x === 'number') return Number.isInteger(x) ? x.toLocaleString('en-US') : x.toLocaleString('en-US', { maximumFractionDigits: 2 });
  if (Array.isArray(x)) return x.map(fmt).join(', ');
  return typeof x === 'object' ? JSON.stringify(x) : String(x);
};
/** A time as a UTC date when it is midnight, else date and minute. */
const day = (ms: number): string => {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : `${iso.slice(0, 16)}Z`;
};

/** A cell as the summary writes it: measures with thousands separators, groups (years, ids) as they are. */
function cellText(col: ResultColumn, x: Cell | undefined): string {
  if (col.type === 'time' && typeof x === 'number') return day(x);
  if (col.role !== 'measure' && typeof x === 'number') return String(x);
  return fmt(x);
}

/** A short plain summary that cites the numbers of the answer. */
function summarize(
  q: TypedQuery, entity: EntitySpec, c: CompiledQuery, table: Answer['table'], commonality: Answer['commonality'],
): string {
  const parts: string[] = [];
  const when = c.time ? ` from ${day(c.time.from)} to ${day(c.time.to)}` : '';
  const filters = q.filters.length ? ` matching ${q.filters.length} filter${q.filters.length > 1 ? 's' : ''}` : '';
  const subject = `${entity.label}${filters}${when}`;
  const cols = table.columns;
  const groups = cols.filter((x) => x.role === 'group');
  const measures = cols.filter((x) => x.role === 'measure');
  const rows = table.rows;
  const rowText = (r: readonly Cell[], which: readonly ResultColumn[]): string => which.map((col) => cellText(col, r[cols.indexOf(col)])).join(' / ');
  const measureText = (r: readonly Cell[]): string => measures.map((m) => `${m.label} ${fmt(r[cols.indexOf(m)])}`).join(', ');
  const more = table.truncated ? ` (the first ${rows.length} rows are shown; there are more)` : '';

  if (measures.length === 0) {
    parts.push(`${rows.length} ${subject}${more}.`);
  } else if (groups.length === 0) {
    const r = rows[0] ?? [];
    parts.push(`${cap(subject)}: ${measureText(r)}.`);
  } else if (rows.length === 0) {
    parts.push(`No ${subject}.`);
  } else if (q.analysis.kind === 'trend') {
    const y = measures[0]!;
    const iy = cols.indexOf(y);
    const values = rows.map((r) => Number(r[iy] ?? 0));
    const peak = values.indexOf(Math.max(...values));
    parts.push(`${cap(subject)} per ${q.analysis.bucket}: ${rows.length} points; the highest ${y.label} is ${fmt(values[peak])} (${rowText(rows[peak]!, groups)}), the first ${fmt(values[0])} and the last ${fmt(values.at(-1))}${more}.`);
  } else if (q.analysis.kind === 'comparison') {
    const shown = rows.slice(0, 3).map((r) => `${rowText(r, groups)}: ${measureText(r)}`).join('; ');
    parts.push(`${cap(subject)}, ${q.analysis.a.label} against ${q.analysis.b.label}: ${shown}${more}.`);
  } else {
    const top = rows.slice(0, 3).map((r) => `${rowText(r, groups)} (${measureText(r)})`).join('; ');
    const label = groups.map((g) => g.label).join(', ');
    parts.push(`${cap(subject)} by ${label}: ${rows.length} group${rows.length > 1 ? 's' : ''}${more}; ${rows.length > 3 ? 'the first three' : 'they are'}: ${top}.`);
  }
  if (q.analysis.kind === 'comparison' && groups.length === 0 && rows[0]) {
    const first = measures[0]!;
    const base = first.name.replace(/_a$/, '');
    const a = Number(rows[0][cols.findIndex((x) => x.name === `${base}_a`)] ?? 0);
    const b = Number(rows[0][cols.findIndex((x) => x.name === `${base}_b`)] ?? 0);
    const pct = a === 0 ? '' : ` (${b >= a ? '+' : ''}${Math.round((1000 * (b - a)) / a) / 10}%)`;
    parts.push(`Change: ${fmt(b - a)}${pct}.`);
  }
  if (commonality) {
    const sig = commonality.items.filter((i) => i.significant);
    const head = `What the ${fmt(commonality.setSize)} vehicles have in common against the ${fmt(commonality.fleetSize)} of the fleet`;
    if (sig.length === 0) {
      parts.push(`${head}: no attribute value is significantly over-represented (${commonality.tested} values tested).`);
    } else {
      const best = sig.slice(0, 3).map((i) =>
        `${i.attribute} = ${i.value}: ${fmt(i.setCount)} vehicles (${pct(i.support)} against ${pct(i.fleetShare)} of the fleet, lift ${fmt(Math.round(i.lift * 10) / 10)}, p ${pText(i.pAdjusted)})`).join('; ');
      parts.push(`${head}: ${best}.`);
    }
    if (commonality.unknownVehicles > 0) parts.push(`${fmt(commonality.unknownVehicles)} vehicles are not in the fleet register and were not compared.`);
  }
  return parts.join(' ');
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const pct = (x: number): string => `${Math.round(x * 1000) / 10}%`;
const pText = (p: number): string => (p < 1e-6 ? '< 0.000001' : `= ${p.toPrecision(2)}`);
