/**
 * Compilation of a validated typed query to one parameterised SELECT, for DuckDB's dialect (the
 * only store so far; PostgreSQL comes with issue 9 — every dialect-specific piece of text is in
 * `DUCKDB` below, and the result is store-neutral: SQL text, bound values, result columns).
 *
 * Safeguards: identifiers come only from the fixed maps in this file, keyed by catalog names;
 * every value (filter values, times, tenant, ECU names, limits) is a bound parameter; every
 * statement carries a tenant condition (except on global feed content: vulnerabilities), and a
 * LIMIT. The statement is still checked by the guard before it runs.
 */
import type { EntityName, EntitySpec, FieldSpec, FieldType } from './catalog.js';
import { fieldOf, softwareEcu } from './catalog.js';
import { measureName, resolveTime, type Filter, type Measure, type ResolvedTime, type Scalar, type TypedQuery } from './query.js';

/**
 * A bound value. `time` is epoch ms to bind as a timestamp; `vehicle` a vehicle key to bind as
 * the store's 64-bit key; `tenantId` the store's small tenant id.
 */
export type SqlValue =
  | string | number | boolean | null
  | { readonly time: number }
  | { readonly vehicle: string }
  | { readonly tenantId: number };

/** Whose rows a query reads: one tenant (`id`: the store's small id, null when it never wrote), or all (operators). */
export type TenantScope =
  | { readonly kind: 'tenant'; readonly name: string; readonly id: number | null }
  | { readonly kind: 'all' };

/** A result column: its name in the SQL result, the catalog type of its values, and a label. */
export interface ResultColumn {
  readonly name: string;
  readonly type: FieldType | 'count';
  readonly label: string;
  /** group: a group-by field (or bucket); measure: an aggregate; field: a listed field. */
  readonly role: 'group' | 'measure' | 'field';
}

export interface CompiledSql {
  readonly sql: string;
  readonly params: readonly SqlValue[];
}

export interface CompiledQuery extends CompiledSql {
  readonly columns: readonly ResultColumn[];
  /** Rows the answer keeps; the SQL asks for one more to know it truncated. */
  readonly limit: number;
  readonly time?: ResolvedTime;
  /** The counts commonality is scored from (analysis commonality only): fleet and set side in one statement. */
  readonly commonality?: CompiledSql;
  /**
   * The same counts in parts, so the fleet side can be kept while the fleet is unchanged: `set`
   * counts the set's vehicles only, `fleet` the whole fleet, `fingerprint` is (n, h): the fleet's
   * size and a hash over every vehicle's attributes (see commonalityParts).
   */
  readonly commonalityParts?: { readonly set: CompiledSql; readonly fleet: CompiledSql; readonly fingerprint: CompiledSql };
}

/** Most attribute values commonality reads (the fleet side lists every value). */
export const MAX_COMMONALITY_VALUES = 100_000;

/**
 * Collects bound values as numbered placeholders (`$1`, `$2`, ...): the order of binding need
 * not follow the text, and a condition used twice (a comparison's slice) reuses its numbers.
 */
class Params {
  readonly list: SqlValue[] = [];
  bind(v: SqlValue): string {
    this.list.push(v);
    return `$${this.list.length}`;
  }
}

/** DuckDB's spelling of the pieces that differ between stores. */
const DUCKDB = {
  tenantId: (p: Params, id: number): string => `${p.bind({ tenantId: id })}::USMALLINT`,
  epochMs: (e: string): string => `epoch_ms(${e})`,
  bucket: (unit: string, e: string): string => `epoch_ms(date_trunc('${unit}', ${e}))`,
  software: (p: Params, col: string, ecu: string): string => `json_extract_string(${col}, ${p.bind(`$."${ecu}"`)})`,
  listHas: (col: string, x: string): string => `list_contains(CAST(${col} AS VARCHAR[]), ${x})`,
  listHasAny: (col: string, xs: string[]): string => `list_has_any(CAST(${col} AS VARCHAR[]), [${xs.join(', ')}])`,
  vehicleOut: (e: string): string => `lpad(lower(hex(${e})), 16, '0')`,
  softwarePairs: (table: string): string =>
    `SELECT ${table}.tenant, ${table}.id, unnest(map_entries(TRY_CAST(${table}.software AS MAP(VARCHAR, VARCHAR)))) AS kv FROM ${table} WHERE ${table}.software IS NOT NULL`,
};

/** Joins an entity's FROM may need. */
type Join = 'vehicle' | 'outcome';

interface EntitySql {
  /** Column expression per catalog field (not software fields). */
  readonly cols: Readonly<Record<string, string>>;
  /** The FROM clause given the joins needed. */
  from(p: Params, scope: TenantScope, joins: ReadonlySet<Join>): string;
  /** The tenant condition, or undefined for global content. */
  tenant(p: Params, scope: TenantScope): string | undefined;
  /** The joined vehicle's table alias (its software column is `<alias>.software`). */
  readonly vehicleAlias?: string;
}

const VEHICLE_COLS = (a: string): Record<string, string> => ({ make: `${a}.make`, model: `${a}.model`, year: `${a}.year`, trim: `${a}.trim`, region: `${a}.region` });
const prefixed = (prefix: string, cols: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(cols).map(([k, v]) => [`${prefix}${k}`, v]));

const idCondition = (p: Params, col: string, scope: TenantScope): string | undefined =>
  scope.kind === 'all' ? undefined : scope.id === null ? 'false' : `${col} = ${DUCKDB.tenantId(p, scope.id)}`;
const nameCondition = (p: Params, col: string, scope: TenantScope): string | undefined =>
  scope.kind === 'all' ? undefined : `${col} = ${p.bind(scope.name)}`;

/** The store's table and column for every catalog name. Only these strings are spliced into SQL. */
const ENTITY_SQL: Readonly<Record<EntityName, EntitySql>> = {
  vehicles: {
    cols: { vehicle: 'v.id', ...VEHICLE_COLS('v'), first_seen: 'v.first_seen', last_seen: 'v.last_seen', signal_count: 'v.signal_count' },
    from: () => 'vehicles v',
    tenant: (p, s) => idCondition(p, 'v.tenant', s),
    vehicleAlias: 'v',
  },
  alerts: {
    cols: {
      id: 'e.id', vehicle: 'e.vehicle', ts: 'e.ts', detected_at: 'e.detected_at', rule: 'e.rule', title: 'e.title',
      severity: 'e.severity', tags: 'e.tags', outcome: 'o.outcome', ...prefixed('vehicle.', VEHICLE_COLS('v')),
    },
    from: (p, s, joins) => {
      let sql = 'alerts e';
      if (joins.has('vehicle')) sql += ' LEFT JOIN vehicles v ON v.tenant = e.tenant AND v.id = e.vehicle';
      if (joins.has('outcome')) {
        sql += s.kind === 'all'
          ? ' LEFT JOIN tenants tn ON tn.id = e.tenant LEFT JOIN alert_outcomes o ON o.tenant = tn.name AND o.alert = e.id'
          : ` LEFT JOIN alert_outcomes o ON o.tenant = ${p.bind(s.name)} AND o.alert = e.id`;
      }
      return sql;
    },
    tenant: (p, s) => idCondition(p, 'e.tenant', s),
    vehicleAlias: 'v',
  },
  incidents: {
    cols: {
      id: 'e.id', kind: 'e.kind', state: 'e.state', severity: 'e.severity', risk: 'e.risk', assignee: 'e.assignee', title: 'e.title',
      tags: 'e.tags', rules: 'e.rules', vehicle: 'e.vehicle', vehicle_count: 'e.vehicle_count', alert_count: 'e.alert_count',
      first_alert_at: 'e.first_alert_at', last_alert_at: 'e.last_alert_at', created_at: 'e.created_at', updated_at: 'e.updated_at',
      closed_at: 'e.closed_at', sla_due_at: 'e.sla_due_at', ...prefixed('vehicle.', VEHICLE_COLS('v')),
    },
    from: (p, s, joins) => {
      if (!joins.has('vehicle')) return 'incidents e';
      if (s.kind === 'all') return 'incidents e LEFT JOIN tenants tn ON tn.name = e.tenant LEFT JOIN vehicles v ON v.tenant = tn.id AND v.id = e.vehicle';
      return `incidents e LEFT JOIN vehicles v ON ${s.id === null ? 'false' : `v.tenant = ${DUCKDB.tenantId(p, s.id)}`} AND v.id = e.vehicle`;
    },
    tenant: (p, s) => nameCondition(p, 'e.tenant', s),
    vehicleAlias: 'v',
  },
  alert_outcomes: {
    cols: { alert: 'e.alert', rule: 'e.rule', outcome: 'e.outcome', ref: 'e.ref', decided_at: 'e.decided_at' },
    from: () => 'alert_outcomes e',
    tenant: (p, s) => nameCondition(p, 'e.tenant', s),
  },
  vulnerabilities: {
    cols: {
      id: 'e.id', title: 'e.title', published: 'e.published', modified: 'e.modified', cvss: 'e.cvss', severity: 'e.severity',
      epss: 'e.epss', kev: 'e.kev', withdrawn: 'e.withdrawn',
    },
    from: () => 'intel_vulnerabilities e',
    tenant: () => undefined,
  },
  exposures: {
    cols: {
      vehicle: 'v.id', vulnerability: 'm.vulnerability', ecu: 's.ecu', software_version: 's.software_version',
      component: 'm.component_identity', result: 'm.result', basis: 'm.basis', confidence: 'm.confidence', matched_at: 'm.matched_at',
      'vulnerability.cvss': 'iv.cvss', 'vulnerability.severity': 'iv.severity', 'vulnerability.epss': 'iv.epss', 'vulnerability.kev': 'iv.kev',
      ...prefixed('vehicle.', VEHICLE_COLS('v')),
    },
    // A vehicle runs an SBOM when its software map has the SBOM's (ECU, version) — ECU names
    // case-insensitively, versions exactly — and, when the SBOM names a model, the same model
    // (src/intel/sbom/binding.ts; intel_sboms keeps ecu_key and model_key normalised so).
    from: (p, s) => {
      const vehicleTenant = s.kind === 'all' ? 'true' : s.id === null ? 'false' : `vehicles.tenant = ${DUCKDB.tenantId(p, s.id)}`;
      const tenantJoin = s.kind === 'all' ? 'JOIN tenants tn ON tn.name = m.tenant JOIN vs ON vs.tenant = tn.id' : 'JOIN vs ON true';
      return `intel_matches m JOIN intel_sboms s ON s.tenant = m.tenant AND s.id = m.sbom
        ${tenantJoin} AND vs.ecu_key = s.ecu_key AND vs.version = s.software_version
        JOIN vehicles v ON v.tenant = vs.tenant AND v.id = vs.id AND (s.model_key IS NULL OR lower(trim(v.model)) = s.model_key)
        LEFT JOIN intel_vulnerabilities iv ON iv.id = m.vulnerability`
        .replace('JOIN vs ON', `JOIN (SELECT tenant, id, lower(trim(kv.key)) AS ecu_key, trim(kv.value) AS version FROM (${DUCKDB.softwarePairs('vehicles').replace('WHERE', `WHERE ${vehicleTenant} AND`)})) vs ON`);
    },
    tenant: (p, s) => nameCondition(p, 'm.tenant', s),
    vehicleAlias: 'v',
  },
};

/** What compile needs besides the query. */
export interface CompileContext {
  readonly scope: TenantScope;
  /** Epoch ms: the time relative ranges are resolved against (from the injected clock). */
  readonly now: number;
}

/**
 * The SQL of a validated query (validateQuery first: names and types are trusted here).
 *
 *   const entity = validateQuery(q);
 *   const c = compileQuery(q, entity, { scope: { kind: 'tenant', name: 'acme', id: 1 }, now: clock.now() });
 */
export function compileQuery(q: TypedQuery, entity: EntitySpec, ctx: CompileContext): CompiledQuery {
  const es = ENTITY_SQL[entity.name];
  const p = new Params();
  const joins = new Set<Join>();
  const time = q.time ? resolveTime(q.time, ctx.now) : undefined;
  const timeField = time?.field ?? q.time?.field ?? entity.timeField;
  const a = q.analysis;
  if (foldsPerVehicle(q, ctx.scope)) return checkParams(foldedAlerts(q, entity, ctx, time, timeField));

  /** The SQL of field `name`, recording the join it needs. */
  const col = (name: string): string => {
    const ecu = softwareEcu(entity, name);
    if (ecu !== undefined) {
      if (entity.name !== 'vehicles') joins.add('vehicle');
      return DUCKDB.software(p, `${es.vehicleAlias!}.software`, ecu);
    }
    if (name.startsWith('vehicle.') && entity.name !== 'vehicles' && entity.name !== 'exposures') joins.add('vehicle');
    if (name === 'outcome' && entity.name === 'alerts') joins.add('outcome');
    const sql = es.cols[name];
    if (sql === undefined) throw new Error(`compile: ${entity.name}.${name} has no column (catalog and compiler disagree)`);
    return sql;
  };
  const spec = (name: string): FieldSpec => fieldOf(entity, name)!;

  // SELECT list first (its parameters come first in the text), then FROM, WHERE, ORDER, LIMIT.
  const select: string[] = [];
  const columns: ResultColumn[] = [];
  const groupExprs: string[] = [];
  const out = (name: string, f: FieldSpec, expr: string): string =>
    f.type === 'time' ? DUCKDB.epochMs(expr) : f.type === 'vehicle' ? DUCKDB.vehicleOut(expr) : f.type === 'list' ? `CAST(${expr} AS VARCHAR[])` : expr;

  const listing = q.measures.length === 0 && q.groupBy.length === 0;
  if (listing) {
    for (const name of entity.listFields) {
      const f = spec(name);
      select.push(`${out(name, f, col(name))} AS ${ident(name)}`);
      columns.push({ name, type: f.type, label: f.label, role: 'field' });
    }
  } else {
    if (a.kind === 'trend') {
      const e = DUCKDB.bucket(a.bucket, col(timeField));
      select.push(`${e} AS bucket`);
      groupExprs.push(e);
      columns.push({ name: 'bucket', type: 'time', label: `${a.bucket} (UTC)`, role: 'group' });
    }
    for (const name of q.groupBy) {
      const f = spec(name);
      const e = out(name, f, col(name));
      select.push(`${e} AS ${ident(name)}`);
      groupExprs.push(e);
      columns.push({ name, type: f.type, label: f.label, role: 'group' });
    }
  }

  // Comparison slices: their conditions are computed before the measures that use them.
  let sliceConds: [string, string] | undefined;
  const where: string[] = [];
  const tenantCond = es.tenant(p, ctx.scope);
  const measureSql = (m: Measure, filter?: string): string => aggregate(m, m.field === undefined ? '' : col(m.field), m.field === undefined ? undefined : spec(m.field), filter);

  if (!listing) {
    if (a.kind === 'comparison') {
      const sides = (['a', 'b'] as const).map((side) => {
        const s = a[side];
        const conds = s.filters.map((f) => filterSql(p, f, col(f.field), spec(f.field)));
        const st = s.time ? resolveTime(s.time, ctx.now) : time;
        if (st) conds.push(timeCond(p, col(timeField), st));
        return conds.length ? conds.join(' AND ') : 'true';
      });
      sliceConds = [sides[0]!, sides[1]!];
      for (const m of q.measures) {
        const n = measureName(m);
        const ma = measureSql(m, sliceConds[0]);
        const mb = measureSql(m, sliceConds[1]);
        select.push(`${ma} AS ${ident(`${n}_a`)}`, `${mb} AS ${ident(`${n}_b`)}`);
        columns.push({ name: `${n}_a`, type: measureType(m, spec), label: `${labelOf(m, spec)} (${a.a.label})`, role: 'measure' });
        columns.push({ name: `${n}_b`, type: measureType(m, spec), label: `${labelOf(m, spec)} (${a.b.label})`, role: 'measure' });
      }
      const first = q.measures[0]!;
      const n = measureName(first);
      select.push(`(${measureSql(first, sliceConds[1])}) - (${measureSql(first, sliceConds[0])}) AS ${ident(`change_${n}`)}`);
      columns.push({ name: `change_${n}`, type: measureType(first, spec), label: `change of ${labelOf(first, spec)} (${a.b.label} - ${a.a.label})`, role: 'measure' });
    } else {
      for (const m of q.measures) {
        select.push(`${measureSql(m)} AS ${ident(measureName(m))}`);
        columns.push({ name: measureName(m), type: measureType(m, spec), label: labelOf(m, spec), role: 'measure' });
      }
    }
  }

  // WHERE: tenant, filters, time (for a comparison with slice times: either slice's range).
  const filterConds = q.filters.map((f) => filterSql(p, f, col(f.field), spec(f.field)));
  const timeConds: string[] = [];
  if (a.kind === 'comparison' && (a.a.time || a.b.time)) {
    timeConds.push(`((${sliceConds![0]}) OR (${sliceConds![1]}))`);
  } else if (time) {
    timeConds.push(timeCond(p, col(timeField), time));
  }
  const from = es.from(p, ctx.scope, joins);
  if (tenantCond) where.push(tenantCond);
  where.push(...filterConds, ...timeConds);

  let sql = `SELECT ${select.join(', ')}\nFROM ${from}\nWHERE ${where.length ? where.join(' AND ') : 'true'}`;
  if (groupExprs.length) sql += `\nGROUP BY ${groupExprs.map((_, i) => String(i + 1)).join(', ')}`;

  const order = q.order.length
    ? q.order.map((o) => `${ident(o.by)} ${o.dir.toUpperCase()} NULLS LAST`)
    : defaultOrder(q, listing, entity, columns);
  if (order.length) sql += `\nORDER BY ${order.join(', ')}`;
  const limit = a.kind === 'top' ? a.n : q.limit;
  sql += `\nLIMIT ${p.bind(limit + 1)}`;

  const compiled: CompiledQuery = { sql, params: p.list, columns, limit, ...(time ? { time } : {}) };
  if (a.kind !== 'commonality') return checkParams(compiled);
  return checkParams({ ...compiled, commonality: commonalitySql(q, entity, ctx, time, timeField), commonalityParts: commonalityParts(q, entity, ctx, time, timeField) });
}

/**
 * Alerts counted by what their vehicles are (only vehicle fields grouped; measures count and
 * distinct vehicles) are folded per vehicle first and only then joined to `vehicles`: 10M alerts
 * become at most one row per vehicle before the join, instead of joining every alert (measured on
 * 1M vehicles and 10M alerts: the plain join ran past the 5 s limit; see bench/scenarios/ask.ts).
 * One tenant only: distinct vehicles across tenants would count a key two tenants share twice.
 */
function foldsPerVehicle(q: TypedQuery, scope: TenantScope): boolean {
  const a = q.analysis.kind;
  return q.entity === 'alerts' && scope.kind === 'tenant' && (a === 'none' || a === 'top' || a === 'commonality') &&
    q.groupBy.length > 0 && q.groupBy.every((g) => g.startsWith('vehicle.')) &&
    q.measures.length > 0 && q.measures.every((m) => m.fn === 'count' || (m.fn === 'count_distinct' && m.field === 'vehicle')) &&
    q.filters.every((f) => f.field !== 'outcome') && q.order.every((o) => !o.by.startsWith('vehicle.') || q.groupBy.includes(o.by));
}

function foldedAlerts(q: TypedQuery, entity: EntitySpec, ctx: CompileContext, time: ResolvedTime | undefined, timeField: string): CompiledQuery {
  const es = ENTITY_SQL.alerts;
  const p = new Params();
  const vcol = (name: string): string => {
    const ecu = softwareEcu(entity, name);
    return ecu !== undefined ? DUCKDB.software(p, 'v.software', ecu) : es.cols[name]!;
  };
  const inner = [es.tenant(p, ctx.scope)!];
  const outer: string[] = [];
  for (const f of q.filters) {
    const spec = fieldOf(entity, f.field)!;
    if (f.field.startsWith('vehicle.')) outer.push(filterSql(p, f, vcol(f.field), spec));
    else inner.push(filterSql(p, f, es.cols[f.field]!, spec));
  }
  if (time) inner.push(timeCond(p, es.cols[timeField]!, time));
  const select: string[] = [];
  const columns: ResultColumn[] = [];
  for (const g of q.groupBy) {
    const f = fieldOf(entity, g)!;
    select.push(`${vcol(g)} AS ${ident(g)}`);
    columns.push({ name: g, type: f.type, label: f.label, role: 'group' });
  }
  for (const m of q.measures) {
    select.push(`${m.fn === 'count' ? 'sum(a.n)::BIGINT' : 'count(a.vehicle)'} AS ${ident(measureName(m))}`);
    columns.push({ name: measureName(m), type: 'count', label: m.fn === 'count' ? 'count' : 'distinct vehicle', role: 'measure' });
  }
  const order = q.order.length ? q.order.map((o) => `${ident(o.by)} ${o.dir.toUpperCase()} NULLS LAST`) : defaultOrder(q, false, entity, columns);
  const limit = q.analysis.kind === 'top' ? q.analysis.n : q.limit;
  const sql = `WITH a AS (SELECT e.tenant, e.vehicle, count(*) AS n FROM alerts e WHERE ${inner.join(' AND ')} GROUP BY 1, 2)
SELECT ${select.join(', ')}
FROM a LEFT JOIN vehicles v ON v.tenant = a.tenant AND v.id = a.vehicle
WHERE ${outer.length ? outer.join(' AND ') : 'true'}
GROUP BY ${q.groupBy.map((_, i) => String(i + 1)).join(', ')}
ORDER BY ${order.join(', ')}
LIMIT ${p.bind(limit + 1)}`;
  const compiled: CompiledQuery = { sql, params: p.list, columns, limit, ...(time ? { time } : {}) };
  return q.analysis.kind === 'commonality'
    ? { ...compiled, commonality: commonalitySql(q, entity, ctx, time, timeField), commonalityParts: commonalityParts(q, entity, ctx, time, timeField) }
    : compiled;
}

/**
 * The counts of commonality: every attribute value of the fleet with the number of the fleet's
 * vehicles and of the set's vehicles holding it, plus the set and fleet sizes. The set is the
 * distinct vehicles of the rows that pass the query's tenant, filters and time.
 */
function commonalitySql(q: TypedQuery, entity: EntitySpec, ctx: CompileContext, time: ResolvedTime | undefined, timeField: string): CompiledSql {
  const fp = new Params();
  const selSql = setCte(fp, q, entity, ctx, time, timeField);
  const fleetTenant = idCondition(fp, 'vehicles.tenant', ctx.scope) ?? 'true';
  const sql = `WITH sel AS (${selSql}),
fleet AS (${FLEET_COLUMNS} WHERE ${fleetTenant}),
pairs AS (${pairsOf('fleet')}),
counts AS (
  SELECT pairs.attribute, pairs.value, count(*) AS fleet_count, count(sel.id) AS set_count
  FROM pairs LEFT JOIN sel ON sel.tenant = pairs.tenant AND sel.id = pairs.id
  GROUP BY 1, 2
)
SELECT counts.attribute, counts.value, counts.fleet_count, counts.set_count,
  (SELECT count(*) FROM fleet) AS fleet_size,
  (SELECT count(*) FROM sel WHERE sel.id IS NOT NULL) AS set_size,
  (SELECT count(*) FROM sel WHERE sel.id IS NULL) AS unknown_vehicles
FROM counts
ORDER BY counts.attribute, counts.value
LIMIT ${fp.bind(MAX_COMMONALITY_VALUES + 1)}`;
  return { sql, params: fp.list };
}

const FLEET_COLUMNS = 'SELECT vehicles.tenant, vehicles.id, vehicles.make, vehicles.model, vehicles.year, vehicles.trim, vehicles.region, vehicles.software FROM vehicles';

/** `(tenant, id, attribute, value)` of every attribute value of the vehicles of CTE `table`. */
function pairsOf(table: string): string {
  const attrs = ['make', 'model', 'year', 'trim', 'region']
    .map((x) => `SELECT f.tenant, f.id, '${x}' AS attribute, CAST(f.${x} AS VARCHAR) AS value FROM ${table} f WHERE f.${x} IS NOT NULL`)
    .join('\n    UNION ALL ');
  return `${attrs}
    UNION ALL SELECT sw.tenant, sw.id, 'software.' || sw.kv.key AS attribute, sw.kv.value AS value FROM (${DUCKDB.softwarePairs(table)}) sw WHERE sw.kv.value IS NOT NULL`;
}

/**
 * Commonality's counts in three statements, over the store's packed attribute values
 * (`vehicle_attribute_codes`: per vehicle the codes of its attribute values; `attribute_codes`:
 * what each code is; `vehicle_value_counts`: the vehicles holding each code; kept up to date by
 * the store, DuckDB: ask-executor.ts), so no statement reads the vehicles' software JSON. The set
 * side joins the set's vehicles to their codes; the fleet side reads the counts, and the caller
 * keeps it while the fingerprint (the fleet's size and an xor of a hash of every vehicle's
 * attributes, one scan) is the same. Each statement ends with a totals row whose attribute is NULL.
 */
function commonalityParts(
  q: TypedQuery, entity: EntitySpec, ctx: CompileContext, time: ResolvedTime | undefined, timeField: string,
): { set: CompiledSql; fleet: CompiledSql; fingerprint: CompiledSql } {
  const sp = new Params();
  // The set's keys joined to the codes directly (every registered vehicle has a row there): one
  // join of 1M narrow rows instead of two joins to `vehicles`, ~300 -> ~100 ms median for 2,000
  // set vehicles among 1M (10 alternating runs, load 5-6). The set is counted again for the
  // unregistered ones rather than referencing `s` twice, which made DuckDB's plan ~4x slower (measured).
  const keys = setCte(sp, q, entity, ctx, time, timeField, true);
  const set = `WITH s AS MATERIALIZED (${keys}),
p AS MATERIALIZED (SELECT p.tenant, p.codes FROM vehicle_attribute_codes p JOIN s ON s.t = p.tenant AND s.vid = p.id),
held AS (SELECT p.tenant, unnest(p.codes) AS code FROM p)
SELECT * FROM (SELECT d.attribute, d.value, count(*) AS set_count, NULL AS set_size, NULL AS unknown_vehicles
  FROM held JOIN attribute_codes d ON d.tenant = held.tenant AND d.code = held.code
  GROUP BY 1, 2 ORDER BY 1, 2 LIMIT ${sp.bind(MAX_COMMONALITY_VALUES + 1)})
UNION ALL SELECT NULL, NULL, NULL, (SELECT count(*) FROM p), (SELECT count(*) FROM (${keys}) s2) - (SELECT count(*) FROM p)`;
  const fp = new Params();
  const countsTenant = idCondition(fp, 'c.tenant', ctx.scope) ?? 'true';
  const fleetTenant = idCondition(fp, 'vehicles.tenant', ctx.scope) ?? 'true';
  const fleet = `SELECT * FROM (SELECT d.attribute, d.value, sum(c.fleet)::BIGINT AS fleet_count
  FROM vehicle_value_counts c JOIN attribute_codes d ON d.tenant = c.tenant AND d.code = c.code
  WHERE ${countsTenant} GROUP BY 1, 2 ORDER BY 1, 2 LIMIT ${fp.bind(MAX_COMMONALITY_VALUES + 1)})
UNION ALL SELECT NULL, NULL, (SELECT count(*) FROM vehicles WHERE ${fleetTenant})`;
  const hp = new Params();
  const hashTenant = idCondition(hp, 'vehicles.tenant', ctx.scope) ?? 'true';
  const fingerprint = `SELECT count(*) AS n, coalesce(bit_xor(hash(vehicles.tenant, vehicles.id, vehicles.make, vehicles.model, vehicles.year, vehicles.trim, vehicles.region, vehicles.software)), 0) AS h
FROM vehicles WHERE ${hashTenant} LIMIT ${hp.bind(1)}`;
  return { set: { sql: set, params: sp.list }, fleet: { sql: fleet, params: fp.list }, fingerprint: { sql: fingerprint, params: hp.list } };
}

/**
 * The set of commonality: `(vid, tenant, id)`, the distinct vehicles of the rows passing tenant,
 * filters and time (tenant and id NULL when unregistered). `keys`: `(t, vid)` only, the tenant id
 * of the row's vehicle (NULL when unregistered, except for alerts filtered on their own fields,
 * whose tenant is the alert's), without joining the register when the filters need no vehicle field.
 */
function setCte(fp: Params, q: TypedQuery, entity: EntitySpec, ctx: CompileContext, time: ResolvedTime | undefined, timeField: string, keys = false): string {
  const es = ENTITY_SQL[entity.name];
  // Alerts filtered on their own fields only: distinct vehicles first, then the join to `vehicles`
  // (51,000 alerts of one rule in 30 days -> 2,000 vehicles: 116 ms -> 24 ms + the join, measured).
  const distinctFirst = entity.name === 'alerts' && q.filters.every((f) => !f.field.startsWith('vehicle.'));
  const joins = new Set<Join>(distinctFirst ? [] : ['vehicle']);
  if (entity.name === 'alerts' && q.filters.some((f) => f.field === 'outcome')) joins.add('outcome');
  const col = (name: string): string => {
    const ecu = softwareEcu(entity, name);
    return ecu !== undefined ? DUCKDB.software(fp, `${es.vehicleAlias!}.software`, ecu) : es.cols[name]!;
  };
  const vehicleCol = es.cols[entity.vehicleField!]!;
  const whereParts: string[] = [];
  const fromSql = es.from(fp, ctx.scope, joins);
  const tc = es.tenant(fp, ctx.scope);
  if (tc) whereParts.push(tc);
  for (const f of q.filters) whereParts.push(filterSql(fp, f, col(f.field), fieldOf(entity, f.field)!));
  if (time) whereParts.push(timeCond(fp, es.cols[timeField]!, time));
  const where = [...whereParts, `${vehicleCol} IS NOT NULL`].join(' AND ');
  if (keys) {
    return distinctFirst
      ? `SELECT DISTINCT e.tenant AS t, ${vehicleCol} AS vid FROM ${fromSql} WHERE ${where}`
      : `SELECT DISTINCT v.tenant AS t, ${vehicleCol} AS vid FROM ${fromSql} WHERE ${where}`;
  }
  if (distinctFirst) {
    // Joined to the register's keys only: a join to the whole row (the tenant view of `vehicles`)
    // cost 85-440 ms against 40 ms on 1M vehicles, 2,000 set vehicles (measured, bench `ask`).
    return `SELECT s.vid, v.tenant AS tenant, v.id AS id
  FROM (SELECT DISTINCT e.tenant AS t, ${vehicleCol} AS vid FROM ${fromSql} WHERE ${where}) s
  LEFT JOIN (SELECT vehicles.tenant, vehicles.id FROM vehicles) v ON v.tenant = s.t AND v.id = s.vid`;
  }
  return `SELECT DISTINCT ${vehicleCol} AS vid, v.tenant AS tenant, v.id AS id
  FROM ${fromSql}
  WHERE ${where}`;
}

function defaultOrder(q: TypedQuery, listing: boolean, entity: EntitySpec, columns: readonly ResultColumn[]): string[] {
  if (listing) return [`${ident(entity.listFields.find((f) => fieldOf(entity, f)?.type === 'time') ?? entity.listFields[0]!)} DESC NULLS LAST`, `${ident(entity.listFields[0]!)}`];
  const groups = columns.filter((c) => c.role === 'group').map((c) => `${ident(c.name)} NULLS LAST`);
  if (q.analysis.kind === 'trend') return groups.map((g, i) => (i === 0 ? g.replace(' NULLS LAST', ' ASC') : g));
  const byName = q.analysis.kind === 'top' && q.analysis.by ? q.analysis.by : undefined;
  const first = columns.find((c) => c.role === 'measure' && (byName === undefined || c.name === byName));
  return [...(first ? [`${ident(first.name)} DESC NULLS LAST`] : []), ...groups];
}

function aggregate(m: Measure, expr: string, f: FieldSpec | undefined, filter?: string): string {
  const fw = filter ? ` FILTER (WHERE ${filter})` : '';
  const wrap = (e: string): string => (f?.type === 'time' ? DUCKDB.epochMs(e) : f?.type === 'vehicle' && (m.fn === 'min' || m.fn === 'max') ? DUCKDB.vehicleOut(e) : e);
  switch (m.fn) {
    case 'count': return `count(*)${fw}`;
    case 'count_distinct': return `count(DISTINCT ${expr})${fw}`;
    case 'avg': return `avg(${expr})${fw}`;
    case 'sum': return `sum(${expr})${fw}`;
    case 'min': return wrap(`min(${expr})${fw}`);
    case 'max': return wrap(`max(${expr})${fw}`);
  }
}

function measureType(m: Measure, spec: (n: string) => FieldSpec): ResultColumn['type'] {
  if (m.fn === 'count' || m.fn === 'count_distinct') return 'count';
  if (m.fn === 'avg') return 'number';
  return spec(m.field!).type;
}

function labelOf(m: Measure, spec: (n: string) => FieldSpec): string {
  if (m.fn === 'count') return 'count';
  const l = spec(m.field!).label;
  return m.fn === 'count_distinct' ? `distinct ${l}` : `${m.fn} ${l}`;
}

function timeCond(p: Params, col: string, t: ResolvedTime): string {
  return `${col} >= ${p.bind({ time: t.from })} AND ${col} < ${p.bind({ time: t.to })}`;
}

/** The condition of one (validated) filter on column expression `c`. */
function filterSql(p: Params, f: Filter, c: string, spec: FieldSpec): string {
  const one = (x: Scalar): string => p.bind(valueOf(spec, x));
  const list = (): string[] => (f.value as Scalar[]).map(one);
  switch (f.op) {
    case 'is_null': return `${c} IS NULL`;
    case 'not_null': return `${c} IS NOT NULL`;
    case 'has': return DUCKDB.listHas(c, one(f.value as Scalar));
    case 'has_any': return DUCKDB.listHasAny(c, list());
    case 'contains': return `contains(lower(${c}), lower(${one(f.value as Scalar)}))`;
    case 'starts_with': return `starts_with(lower(${c}), lower(${one(f.value as Scalar)}))`;
    case 'in': return `${c} IN (${list().join(', ')})`;
    case 'not_in': return `${c} NOT IN (${list().join(', ')})`;
    case 'eq': case 'ne': {
      return `${c} ${f.op === 'eq' ? '=' : '<>'} ${one(f.value as Scalar)}`;
    }
    case 'gt': case 'gte': case 'lt': case 'lte': case 'between': {
      if (spec.type === 'enum') {
        const values = rankRange(spec, f);
        return values.length ? `${c} IN (${values.map((v) => p.bind(v)).join(', ')})` : 'false';
      }
      if (f.op === 'between') {
        const [lo, hi] = f.value as Scalar[];
        return `${c} BETWEEN ${one(lo!)} AND ${one(hi!)}`;
      }
      const sym = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[f.op];
      return `${c} ${sym} ${one(f.value as Scalar)}`;
    }
  }
}

/** The values of an ordered enum that an order comparison selects (severity >= high: high, critical). */
function rankRange(spec: FieldSpec, f: Filter): string[] {
  const values = spec.values!;
  const rank = (x: Scalar): number => values.indexOf(String(x));
  let lo = 0;
  let hi = values.length - 1;
  if (f.op === 'between') {
    const [a, b] = f.value as Scalar[];
    lo = rank(a!);
    hi = rank(b!);
  } else {
    const r = rank(f.value as Scalar);
    if (f.op === 'gt') lo = r + 1;
    if (f.op === 'gte') lo = r;
    if (f.op === 'lt') hi = r - 1;
    if (f.op === 'lte') hi = r;
  }
  // Empty for a range that holds nothing (severity > critical).
  return values.slice(lo, hi + 1);
}

function valueOf(spec: FieldSpec, x: Scalar): SqlValue {
  if (spec.type === 'time') return { time: x as number };
  if (spec.type === 'vehicle') return { vehicle: x as string };
  return x;
}

/** A catalog name as a quoted SQL identifier (names come from the catalog; quotes doubled anyway). */
function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Guards the one invariant the builders share: every bound value is used in the text, and only those. */
function checkParams<T extends CompiledSql>(c: T): T {
  const used = new Set((c.sql.replace(/'[^']*'/g, '').match(/\$\d+/g) ?? []).map((m) => Number(m.slice(1))));
  if (used.size !== c.params.length || [...used].some((n) => n < 1 || n > c.params.length)) {
    throw new Error(`compile: placeholders ${[...used].join(',')} for ${c.params.length} values`);
  }
  const nested = c as Partial<CompiledQuery>;
  if (nested.commonality) checkParams(nested.commonality);
  if (nested.commonalityParts) for (const part of Object.values(nested.commonalityParts)) checkParams(part);
  return c;
}
