/**
 * The typed query: what a question becomes before anything touches a store. The plain-language
 * engine (and the optional language model) produce a `TypedQuery`; `validateQuery` (validate.ts)
 * checks it against the entity catalog (catalog.ts); `compileQuery` (compile.ts) turns it into
 * one parameterised SELECT for the active store. Nothing else reaches SQL.
 *
 *   // "which vehicles alerted in the last 30 days, by make, model and year, and what do they have in common?"
 *   const q: TypedQuery = {
 *     entity: 'alerts',
 *     measures: [{ fn: 'count' }, { fn: 'count_distinct', field: 'vehicle' }],
 *     filters: [],
 *     groupBy: ['vehicle.make', 'vehicle.model', 'vehicle.year'],
 *     time: { kind: 'relative', last: 30, unit: 'day' },
 *     analysis: { kind: 'commonality' },
 *   };
 *
 * Field names are the catalog's (`severity`, `vehicle.make`, `vehicle.software.TCU`, ...). Times
 * are epoch ms. The schema is strict: unknown keys are rejected, so a misspelt key is an error,
 * not a silently ignored part of the question.
 */
import { z } from 'zod';

/** Units of a relative time range. A month is 30 days and a year 365 days (fixed lengths, documented). */
export const TIME_UNITS = ['minute', 'hour', 'day', 'week', 'month', 'year'] as const;
export type TimeUnit = (typeof TIME_UNITS)[number];

/** Milliseconds in one unit. */
export const UNIT_MS: Readonly<Record<TimeUnit, number>> = {
  minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000, month: 30 * 86_400_000, year: 365 * 86_400_000,
};

/** Buckets of a trend. Calendar-aligned in UTC (weeks start on Monday, as ISO 8601 and DuckDB's date_trunc). */
export const BUCKETS = ['hour', 'day', 'week', 'month'] as const;
export type Bucket = (typeof BUCKETS)[number];

const epochMs = z.number().int().min(0).max(9.0e12);

/**
 * A time range on the entity's time field (or `field`). Absolute: [from, to) in epoch ms.
 * Relative: the last `last` units before now, i.e. [now - last * unit, now), with now from the
 * injected clock at the time the query is resolved (`resolveTime`).
 */
export const TimeRangeSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('absolute'),
    from: epochMs,
    to: epochMs,
    /** A time field of the entity; default: the entity's main time (alerts: ts, incidents: first_alert_at ...). */
    field: z.string().min(1).max(80).optional(),
  }),
  z.strictObject({
    kind: z.literal('relative'),
    last: z.number().int().min(1).max(100_000),
    unit: z.enum(TIME_UNITS),
    field: z.string().min(1).max(80).optional(),
  }),
]);
export type TimeRange = z.infer<typeof TimeRangeSchema>;

/** A time range resolved against a clock: [from, to) epoch ms on `field`. */
export interface ResolvedTime {
  readonly from: number;
  readonly to: number;
  readonly field?: string | undefined;
}

/** [from, to) of `t` at time `now` (epoch ms). */
export function resolveTime(t: TimeRange, now: number): ResolvedTime {
  if (t.kind === 'absolute') return { from: t.from, to: t.to, field: t.field };
  return { from: Math.max(0, now - t.last * UNIT_MS[t.unit]), to: now, field: t.field };
}

/** Filter operators. Which apply to which field type: OPERATORS_BY_TYPE in catalog.ts. */
export const OPERATORS = [
  'eq', 'ne', 'in', 'not_in', // any scalar type
  'gt', 'gte', 'lt', 'lte', 'between', // numbers, times, ordered enums (severity >= high)
  'contains', 'starts_with', // strings: case-insensitive substring / prefix
  'has', 'has_any', // lists (tags, rules): holds the value / any of the values
  'is_null', 'not_null', // any field that can be missing (no value)
] as const;
export type Operator = (typeof OPERATORS)[number];

const scalar = z.union([z.string().max(500), z.number().finite(), z.boolean()]);
export type Scalar = z.infer<typeof scalar>;

/**
 * One condition. `value` by operator: eq/ne/gt/gte/lt/lte/contains/starts_with/has: one scalar;
 * in/not_in/has_any: a non-empty list; between: [low, high] inclusive; is_null/not_null: none.
 * Times are epoch ms numbers. Vehicles are their 16-hex-digit keys.
 */
export const FilterSchema = z.strictObject({
  field: z.string().min(1).max(80),
  op: z.enum(OPERATORS),
  value: z.union([scalar, z.array(scalar).min(1).max(1000)]).optional(),
});
export type Filter = z.infer<typeof FilterSchema>;

/** Aggregate functions. count needs no field; the rest name one (avg/sum: numbers; min/max: numbers, times, strings). */
export const MEASURE_FUNCTIONS = ['count', 'count_distinct', 'avg', 'min', 'max', 'sum'] as const;
export type MeasureFunction = (typeof MEASURE_FUNCTIONS)[number];

export const MeasureSchema = z.strictObject({
  fn: z.enum(MEASURE_FUNCTIONS),
  field: z.string().min(1).max(80).optional(),
});
export type Measure = z.infer<typeof MeasureSchema>;

/** The result column of a measure: `count`, `count_distinct_vehicle`, `avg_risk`, `max_vehicle_year`. */
export function measureName(m: Measure): string {
  return m.field === undefined ? m.fn : `${m.fn}_${m.field.replace(/[^A-Za-z0-9]+/g, '_')}`;
}

/** Order by a group-by field or a measure's result name (measureName), or `bucket` for a trend. */
export const OrderSchema = z.strictObject({
  by: z.string().min(1).max(80),
  dir: z.enum(['asc', 'desc']).default('desc'),
});
export type Order = z.infer<typeof OrderSchema>;

/** One side of a comparison: extra filters and/or its own time range, with a label for the answer. */
export const SliceSchema = z.strictObject({
  label: z.string().min(1).max(60),
  filters: z.array(FilterSchema).max(20).default([]),
  time: TimeRangeSchema.optional(),
});
export type Slice = z.infer<typeof SliceSchema>;

/**
 * What to do beyond a plain table:
 * - `none`: the measures per group (or overall).
 * - `commonality`: also the attribute values (make, model, year, trim, region, each ECU's software
 *   version) over-represented among the query's vehicles against the tenant's fleet (support, lift,
 *   one-sided hypergeometric p-value, Bonferroni-adjusted). Needs an entity with a vehicle.
 * - `trend`: the measures per time bucket of the entity's time field (then per group).
 * - `top`: the `n` groups with the largest first measure (or `by`, a measure name).
 * - `comparison`: the measures of two slices (two periods, or two filters) side by side, with the change.
 */
export const AnalysisSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('none') }),
  z.strictObject({
    kind: z.literal('commonality'),
    minSupport: z.number().min(0).max(1).optional(),
    minCount: z.number().int().min(1).max(1_000_000).optional(),
    alpha: z.number().gt(0).max(1).optional(),
  }),
  z.strictObject({ kind: z.literal('trend'), bucket: z.enum(BUCKETS) }),
  z.strictObject({ kind: z.literal('top'), n: z.number().int().min(1).max(1000), by: z.string().min(1).max(80).optional() }),
  z.strictObject({ kind: z.literal('comparison'), a: SliceSchema, b: SliceSchema }),
]);
export type Analysis = z.infer<typeof AnalysisSchema>;

/** Rows an answer returns at most (the compiled SQL always carries LIMIT, at most this). */
export const MAX_LIMIT = 10_000;
export const DEFAULT_LIMIT = 100;
/** Most group-by fields (a trend's bucket comes on top). */
export const MAX_GROUP_BY = 4;

/** The typed query. See the file comment for an example; catalog.ts for entities and fields. */
export const TypedQuerySchema = z.strictObject({
  entity: z.string().min(1).max(40),
  /** Default: one `count`. With no groupBy and no measures given, a plain listing of rows (`fields`). */
  measures: z.array(MeasureSchema).max(8).default([{ fn: 'count' }]),
  filters: z.array(FilterSchema).max(30).default([]),
  groupBy: z.array(z.string().min(1).max(80)).max(MAX_GROUP_BY).default([]),
  time: TimeRangeSchema.optional(),
  order: z.array(OrderSchema).max(4).default([]),
  limit: z.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
  analysis: AnalysisSchema.default({ kind: 'none' }),
});
/** A typed query after parsing (defaults filled in). */
export type TypedQuery = z.infer<typeof TypedQuerySchema>;
/** A typed query as written (defaults may be left out): what a producer builds. */
export type TypedQueryInput = z.input<typeof TypedQuerySchema>;

/** Parses untrusted JSON into a TypedQuery (shape only; `validateQuery` checks it against the catalog). */
export function parseTypedQuery(input: unknown): { query: TypedQuery } | { problems: string[] } {
  const r = TypedQuerySchema.safeParse(input);
  if (r.success) return { query: r.data };
  return { problems: r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'query'}: ${i.message}`) };
}
