/**
 * The Store contract against the local PostgreSQL (a throw-away schema per store), plus
 * PostgreSQL-specific behaviour: day partitions, large COPY batches in both formats, errors that
 * keep their SQL, concurrent migration, and the write fence between two processes' pools.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { SignalBatchBuilder } from '../../core/batch.js';
import { StaleWriterError, StoreError } from '../../core/errors.js';
import { runStoreContract } from '../../../test/contract/store-contract.js';
import { ACME, T0, V, signalBatch } from '../../../test/contract/store-fixtures.js';
import { PgPool, PostgresStoreError } from './connection.js';
import { MIGRATIONS, migrate, type Migration } from './migrations.js';
import { PostgresStore } from './postgres-store.js';
import { dropTestSchemas, testOptions } from './test-db.js';

afterAll(dropTestSchemas);

runStoreContract('postgres', () => PostgresStore.open(testOptions()), {
  reopen: (closed) => PostgresStore.open((closed as PostgresStore).options),
});

const DAY = 86_400_000;

/** The partitions of `table` in the store's schema, by name. */
async function partitionsOf(store: PostgresStore, table: string): Promise<string[]> {
  const rows = await store.connection.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = to_regclass($1) ORDER BY 1`,
    [table],
  );
  return rows.map((r) => r.name);
}

describe('PostgresStore partitions and COPY', () => {
  it('creates one partition per UTC day a batch touches, and each row lands in its day', async () => {
    const store = await PostgresStore.open(testOptions());
    try {
      expect(await partitionsOf(store, 'signals')).toEqual([]);
      await store.appendSignals(
        signalBatch(ACME, [
          { vehicle: V.a, time: T0 - 1, signal: 1, value: 1 }, // 2024-12-31T23:59:59.999Z
          { vehicle: V.a, time: T0, signal: 1, value: 2 },
          { vehicle: V.a, time: T0 + DAY - 0.001, signal: 1, value: 3 },
          { vehicle: V.a, time: T0 + 2 * DAY, signal: 1, value: 4 },
        ]),
      );
      expect(await partitionsOf(store, 'signals')).toEqual(['signals_d20241231', 'signals_d20250101', 'signals_d20250103']);
      const [row] = await store.connection.query<{ n: string }>('SELECT count(*) AS n FROM signals_d20250101');
      expect(Number(row!.n)).toBe(2);
      // A day already there is reused; the time survives to the microsecond.
      await store.appendSignals(signalBatch(ACME, [{ vehicle: V.a, time: T0 + 0.001, signal: 2, value: 5 }]));
      expect(await partitionsOf(store, 'signals')).toHaveLength(3);
      const got = await store.querySignals({ tenant: ACME, vehicle: V.a, from: T0, to: T0 + DAY, limit: 10 });
      expect(got.map((s) => s.time)).toEqual([T0, T0 + 0.001, T0 + DAY - 0.001]);
    } finally {
      await store.close();
    }
  });

  it('lets two processes open the same new day at once', async () => {
    const options = testOptions();
    const [a, b] = await Promise.all([PostgresStore.open(options), PostgresStore.open(options)]);
    try {
      const batch = (n: number) =>
        signalBatch(ACME, Array.from({ length: 20 }, (_, d) => ({ vehicle: V.b, time: T0 + d * DAY + n, signal: 1, value: n })));
      await Promise.all([a.appendSignals(batch(1)), b.appendSignals(batch(2)), a.appendSignals(batch(3)), b.appendSignals(batch(4))]);
      expect(await partitionsOf(a, 'signals')).toHaveLength(20);
      expect((await b.counts(ACME)).signals).toBe(80);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('copies a 100,000-row batch exactly, in binary and in text format', async () => {
    for (const copyFormat of ['binary', 'text'] as const) {
      const store = await PostgresStore.open(testOptions({ copyFormat }));
      try {
        const b = new SignalBatchBuilder(ACME, 100_000);
        const keys = [V.a, V.b, V.max, V.zero].map((k) => b.vehicleIndex(k));
        let sum = 0;
        for (let i = 0; i < 100_000; i++) {
          const text = i % 1000 === 0 ? `gear\t${i}\\n\u00e9` : undefined;
          b.push(keys[i % 4]!, T0 + i * 10.5, i % 300, i / 4, text);
          if (text === undefined) sum += i / 4;
        }
        expect(await store.appendSignals(b.build())).toBe(100_000);
        expect((await store.counts(ACME)).signals).toBe(100_000);
        const [row] = await store.connection.query<{ s: number; t: string }>(
          `SELECT sum(value) AS s, max(text) FILTER (WHERE text LIKE 'gear%') AS t FROM signals`,
        );
        expect(row!.s).toBeCloseTo(sum, 3);
        expect(row!.t).toBe('gear\t99000\\n\u00e9');
        const one = await store.querySignals({ tenant: ACME, vehicle: V.max, from: T0 + 2 * 10.5, limit: 1 });
        expect(one).toEqual([{ vehicle: V.max, time: T0 + 2 * 10.5, signal: 2, value: 0.5, text: null }]);
      } finally {
        await store.close();
      }
    }
  });
});

describe('PostgresStore errors and migrations', () => {
  it('reports a failing statement as PostgresStoreError with its SQL, SQLSTATE and parameter count, not the values', async () => {
    // A schema never migrated: the store's own statements hit missing tables.
    const store = await PostgresStore.open(testOptions({ migrate: false }));
    try {
      const failure = await store.listAlerts({ tenant: 'x', limit: 5 }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(PostgresStoreError);
      expect(failure).toBeInstanceOf(StoreError);
      const e = failure as PostgresStoreError;
      expect(e.query).toContain('FROM tenants WHERE name = $1');
      expect(e.paramCount).toBe(1);
      expect(e.sqlState).toBe('42P01'); // undefined_table
      expect(e.params).toBeUndefined();
      expect(e.message).not.toContain("'x'");
    } finally {
      await store.close();
    }
  });

  it('migrates once when several processes start at once, and refuses a schema newer than the build', async () => {
    const options = testOptions({ migrate: false });
    const pools = [PgPool.open(options), PgPool.open(options), PgPool.open(options)];
    try {
      expect(await Promise.all(pools.map((p) => migrate(p)))).toEqual([MIGRATIONS.length, MIGRATIONS.length, MIGRATIONS.length]);
      const rows = await pools[0]!.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      const probe: Migration = { version: MIGRATIONS.length + 1, name: 'probe', statements: ['CREATE TABLE probe (x INTEGER)'] };
      expect(await migrate(pools[1]!, [...MIGRATIONS, probe])).toBe(probe.version);
      await expect(migrate(pools[2]!)).rejects.toThrow(/newer than this build/);
    } finally {
      await Promise.all(pools.map((p) => p.close()));
    }
  });

  it('rejects a schema name that is not a plain identifier', async () => {
    await expect(PostgresStore.open(testOptions({ schema: 'vigil; DROP TABLE x' }))).rejects.toBeInstanceOf(StoreError);
  });
});

describe('PostgresStore write fence across processes', () => {
  it('lets exactly one of two racing writers of a partition through; the other writes nothing', async () => {
    const options = testOptions();
    const [a, b] = await Promise.all([PostgresStore.open(options), PostgresStore.open(options)]);
    try {
      const group = (value: number) => ({
        signals: signalBatch(ACME, [{ vehicle: V.a, time: T0, signal: 1, value }]),
        spans: [{ partition: 4, epoch: 1, from: 1, to: 10 }],
      });
      for (let round = 0; round < 5; round++) {
        const span = { partition: 4, epoch: 1 + round, from: 1 + 10 * round, to: 10 + 10 * round };
        const results = await Promise.allSettled([
          a.writeGroup({ ...group(round), spans: [span] }),
          b.writeGroup({ ...group(100 + round), spans: [span] }),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect(lost.reason).toBeInstanceOf(StaleWriterError);
      }
      expect((await a.counts()).signals).toBe(5);
      expect(await b.streamPositions()).toEqual([{ partition: 4, epoch: 5, seq: 50 }]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
