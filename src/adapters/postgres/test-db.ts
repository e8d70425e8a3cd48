/**
 * Test helper: options for a PostgresStore in a fresh throw-away schema `vigil_test_<random>` of
 * the local test database, so test files (and CI jobs) running in parallel never share tables,
 * and `dropTestSchemas()` to remove every schema this process created.
 *
 * The database is `VIGIL_TEST_PG_URL` when set, else postgres://localhost:5432/test as user
 * `PGUSER` (or `postgres`): the CI PostgreSQL trusts local connections.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { PostgresStoreOptions } from './postgres-store.js';

/** The test database URL. */
export const TEST_PG_URL =
  process.env['VIGIL_TEST_PG_URL'] ?? `postgres://${process.env['PGUSER'] ?? 'postgres'}@localhost:5432/test`;

const created: string[] = [];

/** A new, unused schema name; it is created by the store's `migrate()`. */
export function testSchema(): string {
  const name = `vigil_test_${randomBytes(6).toString('hex')}`;
  created.push(name);
  return name;
}

/** Options for a store in a fresh schema. */
export function testOptions(over: Partial<PostgresStoreOptions> = {}): PostgresStoreOptions {
  return { url: TEST_PG_URL, schema: testSchema(), poolSize: 4, ...over };
}

/** Drops every schema `testSchema()` handed out (for `afterAll`). */
export async function dropTestSchemas(): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    for (const name of created.splice(0)) await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
  } finally {
    await client.end();
  }
}
