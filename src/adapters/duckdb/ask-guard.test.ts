/**
 * The adversarial set (test/ask-adversarial.ts) against the guard on a real DuckDB: every case
 * must be refused by the guard itself (GuardError, with a reason), and running it as a power
 * user's SQL must fail too and change nothing — no row, no setting, no file. Harmless look-alikes
 * must still run.
 */
import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askSql } from '../../ask/ask.js';
import { GuardError } from '../../ask/guard.js';
import { ACCEPTED, ADVERSARIAL } from '../../../test/ask-adversarial.js';
import { DuckDBAskExecutor } from './ask-executor.js';
import { DuckDBStore } from './duckdb-store.js';

const OUT = '/tmp/vigil-ask-escape.csv';
let store: DuckDBStore;
let exec: DuckDBAskExecutor;

beforeAll(async () => {
  rmSync(OUT, { force: true });
  store = await DuckDBStore.open({ path: ':memory:' });
  await store.upsertVehicles([{ tenant: 'acme', id: '00000000000000a1', make: 'Make', signalCount: 0 }, { tenant: 'other', id: '00000000000000b1', make: 'Other', signalCount: 0 }]);
  await store.insertAlerts([
    { id: 'a1', tenant: 'acme', vehicle: '00000000000000a1', time: 1_700_000_000_000, detectedAt: 1_700_000_000_000, rule: 'r', title: 't', severity: 'low', tags: [], details: {} },
    { id: 'b1', tenant: 'other', vehicle: '00000000000000b1', time: 1_700_000_000_000, detectedAt: 1_700_000_000_000, rule: 'r', title: 't', severity: 'low', tags: [], details: {} },
  ]);
  await store.connection.exclusive(() => store.connection.run("INSERT INTO api_tokens VALUES ('t1', 'n', 'admin', '*', 'secret-hash', now(), 'x', NULL, NULL, NULL)"));
  exec = await DuckDBAskExecutor.open(store.connection);
});
afterAll(async () => {
  await exec?.close();
  await store?.close();
  rmSync(OUT, { force: true });
});

describe('the adversarial set', () => {
  it(`has at least 60 cases (${ADVERSARIAL.length})`, () => {
    expect(ADVERSARIAL.length).toBeGreaterThanOrEqual(60);
  });

  it('is refused by the guard, every case, with a reason: zero escapes', async () => {
    const escapes: string[] = [];
    for (const c of ADVERSARIAL) {
      const err = await exec.check(c.sql).then(() => undefined, (e: unknown) => e);
      if (!(err instanceof GuardError) || err.reason === '') escapes.push(`[${c.group}] ${c.sql.slice(0, 80)}: ${String(err)}`);
    }
    expect(escapes).toEqual([]);
  });

  it('fails as raw SQL and changes nothing', async () => {
    for (const c of ADVERSARIAL) {
      await expect(askSql(exec, c.sql, { tenant: 'acme' }), c.sql).rejects.toThrow();
    }
    const count = (sql: string): Promise<unknown> => store.connection.exclusive(async () => (await store.connection.all<{ n: bigint }>(sql))[0]?.n);
    expect(await count('SELECT count(*) AS n FROM alerts')).toBe(2n);
    expect(await count('SELECT count(*) AS n FROM tenants')).toBe(2n);
    expect(await count("SELECT count(*) AS n FROM duckdb_tables() WHERE table_name IN ('x', 'evil')")).toBe(0n);
    expect(await count("SELECT count(*) AS n FROM duckdb_settings() WHERE name = 'enable_external_access' AND value = 'false'")).toBe(1n);
    expect(existsSync(OUT)).toBe(false);
  });

  it('still runs the harmless look-alikes, on its own tenant only', async () => {
    for (const sql of ACCEPTED) {
      const r = await askSql(exec, sql, { tenant: 'acme' });
      expect(r.sql).toContain('LIMIT');
    }
    expect((await askSql(exec, 'SELECT count(*) FROM alerts', { tenant: 'acme' })).rows).toEqual([[1]]);
  });
});
