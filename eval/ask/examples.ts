/**
 * `node --import tsx eval/ask/examples.ts [QUESTION...]`: questions answered end to end
 * (askQuestion: the embedded engine, the guarded executor, the answer) on the evaluation's
 * generated fleet (seed 1, 3,000 vehicles, clock 2026-11-20T12:00Z); prints what the README's
 * examples show. Without questions, the README's list.
 */
import { DuckDBAskExecutor } from '../../src/adapters/duckdb/ask-executor.js';
import { DuckDBAskValues } from '../../src/adapters/duckdb/ask-vocabulary.js';
import { DuckDBStore } from '../../src/adapters/duckdb/duckdb-store.js';
import { askQuestion } from '../../src/ask/question.js';
import { ManualClock } from '../../src/core/clock.js';
import { appendAlerts, fleetFixture, insertIncidents } from '../../test/fleet-fixture.js';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const QUESTIONS = [
  'which vehicles alerted in the last 30 days, by make, model and year, and what do they have in common?',
  'top 5 rules by alerts this month',
  'critical alerts this month vs last month',
  'how many alerts for Teslla Model 3 excluding us-west',
  'what do vehicles with tcu-exploit alerts have in common',
  'how many alerts for Model X',
  'critical alerts recently',
];

const fx = fleetFixture({ seed: 1, vehicles: 3000, tenants: ['acme'], noisyShare: 0.2, alertsPerNoisy: 3, planted: 30, end: NOW, days: 60, incidents: true });
const store = await DuckDBStore.open({ path: ':memory:' });
const executor = await DuckDBAskExecutor.open(store.connection);
try {
  await store.upsertVehicles(fx.vehicles);
  await appendAlerts(store.connection, fx.alerts);
  await insertIncidents(store.connection, fx.incidents);
  const values = new DuckDBAskValues(store.connection);
  const clock = new ManualClock(NOW);
  for (const q of process.argv.length > 2 ? process.argv.slice(2) : QUESTIONS) {
    const r = await askQuestion(q, { tenant: 'acme', executor, values, clock });
    console.log(`\n$ vigil ask "${q}"`);
    if (r.kind === 'askBack') {
      console.log(r.askBack.question);
      for (const c of r.askBack.choices) console.log(`  - ${c.label}: "${c.question}"`);
    } else if (r.kind === 'error') console.log(`error: ${r.error}`);
    else {
      console.log(`query: ${JSON.stringify(r.query)}`);
      console.log(r.answer.summary);
      const cols = r.answer.table.columns.map((c) => c.name);
      console.log(cols.join(' | '));
      for (const row of r.answer.table.rows.slice(0, 5)) console.log(row.map((c) => (c === null ? '-' : String(c))).join(' | '));
      if (r.answer.table.rows.length > 5) console.log(`... ${r.answer.table.rows.length} rows`);
      for (const i of (r.answer.commonality?.items ?? []).filter((x) => x.significant).slice(0, 4)) {
        console.log(`in common: ${i.attribute} = ${String(i.value)}: ${i.setCount} vehicles, support ${i.support.toFixed(2)}, lift ${i.lift.toFixed(1)}, p ${i.pAdjusted.toExponential(1)}`);
      }
    }
  }
} finally {
  await executor.close();
  await store.close();
}
