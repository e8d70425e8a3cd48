/**
 * `npm run eval:ask [-- --json] [-- --seeds 1,2] [-- --vehicles 3000]`: the ask evaluation.
 * For each seed, a generated fleet (test/fleet-fixture.ts: vehicles from the simulator's fleet
 * generator, alerts and incidents from a seeded PRNG; vulnerabilities, SBOMs and matches
 * written here: seedIntel) goes into an in-memory DuckDB; the
 * vocabulary is read from it through the DuckDB adapter; every question of questions.yaml goes
 * through the embedded engine (understand), and its typed query and the hand-written expected
 * one are both validated, compiled and run through the guarded executor. A question is right
 * when the result rows are the same (execution accuracy), or when the expected ask-back offers
 * the expected choices, or when an expected refusal is refused. Latency is question to rows.
 * The expected typed queries go through the same compiler as the engine's, so a compiler bug
 * would agree with itself: items with `sql` also carry an independent expected answer, SQL
 * written by hand against the store's tables (run as a power user's SQL on the tenant's rows),
 * and the engine's table is compared with it too (`independent` in the report).
 * The guard's adversarial SQL set (test/ask-adversarial.ts) is run as power users' SQL: any
 * statement that runs is an escape.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { DuckDBAskExecutor } from '../../src/adapters/duckdb/ask-executor.js';
import { DuckDBAskValues } from '../../src/adapters/duckdb/ask-vocabulary.js';
import type { SerialConnection } from '../../src/adapters/duckdb/connection.js';
import { DuckDBStore } from '../../src/adapters/duckdb/duckdb-store.js';
import type { TenantScope } from '../../src/ask/compile.js';
import { compileQuery } from '../../src/ask/compile.js';
import { DEFAULT_LIMITS, type AskExecutor, type Cell } from '../../src/ask/port.js';
import { parseTypedQuery } from '../../src/ask/query.js';
import { understand, type Understanding } from '../../src/ask/understand.js';
import { validateQuery } from '../../src/ask/validate.js';
import { buildVocabulary } from '../../src/ask/vocabulary.js';
import { ManualClock } from '../../src/core/clock.js';
import { ADVERSARIAL } from '../../test/ask-adversarial.js';
import { PLANTED_TCU, appendAlerts, fleetFixture, insertIncidents } from '../../test/fleet-fixture.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TENANT = 'acme';

interface Item {
  readonly category: string;
  readonly questions: readonly string[];
  readonly query?: Record<string, unknown>;
  readonly askBack?: readonly string[];
  readonly error?: boolean;
  /** From holdout.yaml: not used to tune the engine. */
  readonly holdout?: boolean;
  /** Hand-written SQL giving the expected result table; `{now}` is the clock as a TIMESTAMP. */
  readonly sql?: string;
}

interface Outcome {
  readonly seed: number;
  readonly category: string;
  readonly question: string;
  readonly ok: boolean;
  readonly holdout: boolean;
  readonly ms: number;
  readonly why?: string;
  /** Against the hand-written SQL, for items that have one. */
  readonly independent?: boolean;
  readonly independentWhy?: string;
}

/** Dates written as YYYY-MM-DD or ISO strings in `from`/`to` become epoch ms. */
function withTimes(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withTimes);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, (k === 'from' || k === 'to') && typeof x === 'string' ? Date.parse(x.length === 10 ? `${x}T00:00:00Z` : x) : withTimes(x)]));
  }
  return v;
}

/** The result of a typed query: the main table, and with commonality's counts appended (`all`). */
async function rows(exec: AskExecutor, scope: TenantScope, input: unknown, now: number): Promise<{ main: string; all: string }> {
  const parsed = parseTypedQuery(input);
  if ('problems' in parsed) throw new Error(parsed.problems.join('; '));
  const entity = validateQuery(parsed.query);
  const compiled = compileQuery(parsed.query, entity, { scope, now });
  // The answer's rows: the statement asks for one row beyond the limit to know it is cut (answer.ts).
  const main = canonical((await exec.run(compiled, scope, DEFAULT_LIMITS)).rows.slice(0, compiled.limit));
  const parts = [main];
  if (compiled.commonality) parts.push(canonical((await exec.run(compiled.commonality, scope, DEFAULT_LIMITS)).rows));
  return { main, all: parts.join('\n--\n') };
}

/** The hand-written SQL's result table (the tenant's rows only, through the executor's scope). */
async function sqlRows(exec: AskExecutor, scope: TenantScope, sql: string, now: number): Promise<string> {
  const ts = `TIMESTAMP '${new Date(now).toISOString().replace('T', ' ').replace('Z', '')}'`;
  return canonical((await exec.runSql(sql.replaceAll('{now}', ts), scope, DEFAULT_LIMITS)).rows);
}

function canonical(list: readonly (readonly Cell[])[]): string {
  const norm = (c: Cell): Cell => (typeof c === 'number' ? Math.round(c * 1e6) / 1e6 : c);
  return list.map((r) => JSON.stringify(r.map(norm))).sort().join('\n');
}

/**
 * Threat intelligence for the fleet: 20 vulnerabilities CVE-2026-1000..1019 (CVSS 4.0-9.5,
 * every fifth known exploited), one SBOM per TCU software version the tenant's vehicles run,
 * and matches: CVE-2026-1000 on the planted TCU-X 0.9.1-rc only, the others on every fourth
 * (CVE, SBOM) pair. Written with SQL, as the intel service stores them.
 */
async function seedIntel(db: SerialConnection, now: number): Promise<void> {
  const ts = new Date(now).toISOString().replace('T', ' ').replace('Z', '');
  await db.exclusive(async () => {
    for (let i = 0; i < 20; i++) {
      const cvss = 4 + ((i * 7) % 12) / 2;
      const severity = cvss >= 9 ? 'CRITICAL' : cvss >= 7 ? 'HIGH' : 'MEDIUM';
      await db.run(`INSERT INTO intel_vulnerabilities VALUES ($1, $2, TIMESTAMP '${ts}' - INTERVAL (${i * 3}) DAY, TIMESTAMP '${ts}', $3, $4, NULL, $5, NULL, $6, false, '{}', TIMESTAMP '${ts}', TIMESTAMP '${ts}')`,
        [`CVE-2026-${1000 + i}`, `Flaw ${i} in the telematics stack`, cvss, severity, (i % 10) / 10, i % 5 === 0]);
    }
    const versions = await db.all<{ v: string }>(`SELECT DISTINCT json_extract_string(software, '$.TCU') AS v FROM vehicles WHERE tenant = (SELECT id FROM tenants WHERE name = '${TENANT}') AND json_extract_string(software, '$.TCU') IS NOT NULL ORDER BY 1`);
    for (const [j, { v }] of versions.entries()) {
      await db.run(`INSERT INTO intel_sboms VALUES ($1, $2, 'sbom.json', 'cyclonedx', '1.6', NULL, NULL, 'TCU', 'tcu', $3, NULL, NULL, NULL, 1, '[]', '{}', 'eval', TIMESTAMP '${ts}')`, [TENANT, `sbom-${j}`, v]);
      for (let i = 0; i < 20; i++) {
        const hit = i === 0 ? v === PLANTED_TCU : (i + j) % 4 === 0;
        if (!hit) continue;
        await db.run(`INSERT INTO intel_matches VALUES ($1, $2, $3, 'c1', $4, 'affected', 'affected', 'purl', 0.9, 'version in range', NULL, NULL, TIMESTAMP '${ts}')`,
          [TENANT, `CVE-2026-${1000 + i}`, `sbom-${j}`, `pkg:generic/tcu-stack@${j}`]);
      }
    }
  });
}

/** Items whose hand-written SQL and expected typed query give different tables (one of the two is wrong). */
const disagreements: { seed: number; question: string; sql: string; query: string }[] = [];

async function evalSeed(seed: number, vehicles: number, items: readonly Item[], now: number): Promise<Outcome[]> {
  const fx = fleetFixture({ seed, vehicles, tenants: [TENANT], noisyShare: 0.2, alertsPerNoisy: 3, planted: Math.max(5, Math.floor(vehicles / 100)), end: now, days: 60, incidents: true });
  const store = await DuckDBStore.open({ path: ':memory:' });
  const exec = await DuckDBAskExecutor.open(store.connection);
  const out: Outcome[] = [];
  try {
    await store.upsertVehicles(fx.vehicles);
    await appendAlerts(store.connection, fx.alerts);
    await insertIncidents(store.connection, fx.incidents);
    await seedIntel(store.connection, now);
    const vocabulary = buildVocabulary(await new DuckDBAskValues(store.connection).values(TENANT));
    const clock = new ManualClock(now);
    const scope = await exec.scope(TENANT);
    for (const item of items) {
      const expected = item.query ? await rows(exec, scope, withTimes(item.query), now) : undefined;
      const independent = item.sql ? await sqlRows(exec, scope, item.sql, now) : undefined;
      if (independent !== undefined && expected && independent !== expected.main) {
        disagreements.push({ seed, question: item.questions[0]!, sql: independent.slice(0, 300), query: expected.main.slice(0, 300) });
      }
      for (const question of item.questions) {
        const t0 = performance.now();
        let got: Understanding;
        let result: { main: string; all: string } | undefined;
        let why: string | undefined;
        try {
          got = understand(question, vocabulary, clock);
          if ('query' in got) result = await rows(exec, scope, got.query, now);
        } catch (e) {
          got = { error: String(e) };
          why = `failed: ${String(e).slice(0, 200)}`;
        }
        const ms = performance.now() - t0;
        let ok = false;
        if (item.query) {
          ok = result !== undefined && result.all === expected?.all;
          if (!ok) why ??= 'query' in got ? `different rows from ${JSON.stringify(got.query)}` : JSON.stringify(got).slice(0, 300);
        } else if (item.askBack) {
          const labels = 'askBack' in got ? got.askBack.choices.map((c) => c.label) : [];
          ok = 'askBack' in got && item.askBack.every((l) => labels.includes(l));
          if (!ok) why = JSON.stringify(got).slice(0, 300);
        } else if (item.error) {
          ok = 'error' in got;
          if (!ok) why = JSON.stringify(got).slice(0, 300);
        }
        const ind = independent === undefined ? {} : result?.main === independent
          ? { independent: true }
          : { independent: false, independentWhy: result ? `rows ${result.main.slice(0, 200)} against the SQL's ${independent.slice(0, 200)}` : (why ?? 'no query') };
        out.push({ seed, category: item.category, question, ok, holdout: item.holdout === true, ms, ...(why ? { why } : {}), ...ind });
      }
    }
    return out;
  } finally {
    await exec.close();
    await store.close();
  }
}

/** The guard's adversarial set (test/ask-adversarial.ts) run as a power user's SQL: any that runs is an escape. */
async function guardEscapes(): Promise<{ tried: number; escapes: string[] }> {
  const store = await DuckDBStore.open({ path: ':memory:' });
  const exec = await DuckDBAskExecutor.open(store.connection);
  const escapes: string[] = [];
  try {
    const scope = await exec.scope(TENANT);
    for (const c of ADVERSARIAL) {
      try {
        await exec.runSql(c.sql, scope, DEFAULT_LIMITS);
        escapes.push(`${c.group}: ${c.sql}`);
      } catch {
        // refused: as it should be
      }
    }
  } finally {
    await exec.close();
    await store.close();
  }
  return { tried: ADVERSARIAL.length, escapes };
}

function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : 0;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const json = args.includes('--json');
  const seeds = (opt('--seeds') ?? '1,2').split(',').map(Number);
  const vehicles = Number(opt('--vehicles') ?? 3000);
  const load = (file: string): { now: string; items: Item[] } => parse(readFileSync(path.join(HERE, file), 'utf8')) as { now: string; items: Item[] };
  const doc = load('questions.yaml');
  const held = load('holdout.yaml');
  if (held.now !== doc.now) throw new Error('questions.yaml and holdout.yaml must share one clock');
  const now = Date.parse(doc.now);
  const items = [...doc.items, ...held.items.map((i) => ({ ...i, holdout: true }))];
  const outcomes: Outcome[] = [];
  for (const seed of seeds) outcomes.push(...(await evalSeed(seed, vehicles, items, now)));
  const guard = await guardEscapes();
  const byCategory: Record<string, { questions: number; right: number; accuracy: number }> = {};
  for (const o of outcomes) {
    const c = (byCategory[o.category] ??= { questions: 0, right: 0, accuracy: 0 });
    c.questions++;
    if (o.ok) c.right++;
  }
  for (const c of Object.values(byCategory)) c.accuracy = Math.round((c.right / c.questions) * 1000) / 1000;
  const right = outcomes.filter((o) => o.ok).length;
  const share = (list: readonly Outcome[]): number => Math.round((list.filter((o) => o.ok).length / Math.max(1, list.length)) * 1000) / 1000;
  const heldOut = outcomes.filter((o) => o.holdout);
  const checked = outcomes.filter((o) => o.independent !== undefined);
  const shareIndependent = (list: readonly Outcome[]): number => Math.round((list.filter((o) => o.independent).length / Math.max(1, list.length)) * 1000) / 1000;
  const independentByCategory: Record<string, { questions: number; right: number; accuracy: number }> = {};
  for (const o of checked) {
    const c = (independentByCategory[o.category] ??= { questions: 0, right: 0, accuracy: 0 });
    c.questions++;
    if (o.independent) c.right++;
  }
  for (const c of Object.values(independentByCategory)) c.accuracy = Math.round((c.right / c.questions) * 1000) / 1000;
  const report = {
    accuracy: Math.round((right / outcomes.length) * 1000) / 1000,
    questions: items.reduce((n, i) => n + i.questions.length, 0),
    development_accuracy: share(outcomes.filter((o) => !o.holdout)),
    holdout_accuracy: share(heldOut),
    holdout_questions: held.items.reduce((n, i) => n + i.questions.length, 0),
    runs: outcomes.length,
    right,
    seeds,
    vehicles,
    guard_escapes: guard.escapes.length,
    guard_statements: guard.tried,
    guard_escaped: guard.escapes,
    p50_ms: Math.round(percentile(outcomes.map((o) => o.ms), 50) * 100) / 100,
    p95_ms: Math.round(percentile(outcomes.map((o) => o.ms), 95) * 100) / 100,
    by_category: byCategory,
    independent: {
      what: 'the engine\'s table against hand-written SQL (items with `sql`)',
      questions: items.reduce((n, i) => n + (i.sql ? i.questions.length : 0), 0),
      runs: checked.length,
      right: checked.filter((o) => o.independent).length,
      accuracy: shareIndependent(checked),
      development_accuracy: shareIndependent(checked.filter((o) => !o.holdout)),
      holdout_accuracy: shareIndependent(checked.filter((o) => o.holdout)),
      by_category: independentByCategory,
      expected_query_disagrees_with_sql: disagreements,
      wrong: checked.filter((o) => !o.independent).map((o) => ({ seed: o.seed, category: o.category, holdout: o.holdout, question: o.question, why: o.independentWhy })),
    },
    wrong: outcomes.filter((o) => !o.ok).map((o) => ({ seed: o.seed, category: o.category, holdout: o.holdout, question: o.question, why: o.why })),
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  console.log(`ask evaluation: ${report.questions} questions x ${seeds.length} seeds (${vehicles} vehicles each)`);
  console.log(`execution accuracy ${(report.accuracy * 100).toFixed(1)}% (${right}/${outcomes.length}); p50 ${report.p50_ms} ms, p95 ${report.p95_ms} ms`);
  console.log(`  development set ${(report.development_accuracy * 100).toFixed(1)}%, held-out set (${report.holdout_questions} questions, not used for tuning) ${(report.holdout_accuracy * 100).toFixed(1)}%`);
  console.log(`guard: ${guard.escapes.length} escapes of ${guard.tried} adversarial statements`);
  for (const [c, v] of Object.entries(byCategory)) console.log(`  ${c.padEnd(12)} ${(v.accuracy * 100).toFixed(1).padStart(5)}%  (${v.right}/${v.questions})`);
  const ind = report.independent;
  console.log(`against hand-written SQL (${ind.questions} questions): ${(ind.accuracy * 100).toFixed(1)}% (${ind.right}/${ind.runs}); development ${(ind.development_accuracy * 100).toFixed(1)}%, held-out ${(ind.holdout_accuracy * 100).toFixed(1)}%; expected queries disagreeing with their SQL: ${ind.expected_query_disagrees_with_sql.length}`);
  for (const [c, v] of Object.entries(ind.by_category)) console.log(`  ${c.padEnd(12)} ${(v.accuracy * 100).toFixed(1).padStart(5)}%  (${v.right}/${v.questions})`);
  for (const d of ind.expected_query_disagrees_with_sql) console.log(`  SQL and expected query disagree, seed ${d.seed}: ${d.question}\n      SQL   ${d.sql}\n      query ${d.query}`);
  for (const w of ind.wrong) console.log(`  wrong against SQL [${w.category}${w.holdout ? ', held out' : ''}] seed ${w.seed}: ${w.question}\n      ${w.why}`);
  for (const w of report.wrong) console.log(`  wrong [${w.category}${w.holdout ? ', held out' : ''}] seed ${w.seed}: ${w.question}\n      ${w.why}`);
}

await main();
