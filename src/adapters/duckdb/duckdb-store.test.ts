import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { SignalBatchBuilder } from '../../core/batch.js';
import { StoreError } from '../../core/errors.js';
import type { SecurityEvent } from '../../core/records.js';
import { runStoreContract } from '../../../test/contract/store-contract.js';
import { SerialConnection } from './connection.js';
import { DuckDBStore } from './duckdb-store.js';
import { MIGRATIONS, appliedMigrations, migrate, type Migration } from './migrations.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A database path inside a fresh temporary directory, in a subdirectory that does not exist yet. */
function tempDbPath(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-duckdb-'));
  dirs.push(dir);
  return path.join(dir, 'data', 'vigil.duckdb');
}

const T0 = Date.UTC(2025, 0, 1);
const KEY = 'a1b2c3d4e5f60718';

runStoreContract('duckdb file', () => DuckDBStore.open({ path: tempDbPath(), threads: 1 }), {
  reopen: (closed) => DuckDBStore.open({ path: (closed as DuckDBStore).path, threads: 1 }),
});
runStoreContract('duckdb :memory:', () => DuckDBStore.open({ path: ':memory:', threads: 1 }));

describe('DuckDBStore migrations', () => {
  it('creates the parent directory and records each migration once, also across reopen', async () => {
    const file = tempDbPath();
    const store = await DuckDBStore.open({ path: file });
    expect(existsSync(file)).toBe(true);
    const applied = await store.appliedMigrations();
    expect(applied.map((m) => [m.version, m.name])).toEqual(MIGRATIONS.map((m) => [m.version, m.name]));
    expect(await store.migrate()).toBe(MIGRATIONS.length);
    await store.close();

    const again = await DuckDBStore.open({ path: file });
    expect(await again.migrate()).toBe(MIGRATIONS.length);
    // Same rows, same applied_at: nothing was applied a second time.
    expect(await again.appliedMigrations()).toEqual(applied);
    await again.close();
  });

  it('applies only pending migrations and refuses a database newer than the build', async () => {
    const file = tempDbPath();
    const probe: Migration = {
      version: MIGRATIONS.length + 1,
      name: 'probe',
      statements: ['CREATE TABLE probe (x INTEGER)'],
    };
    const db = await SerialConnection.open(file);
    expect(await db.exclusive(() => migrate(db))).toBe(MIGRATIONS.length);
    expect(await db.exclusive(() => migrate(db, [...MIGRATIONS, probe]))).toBe(probe.version);
    // A second run would fail on CREATE TABLE probe if it re-applied anything.
    expect(await db.exclusive(() => migrate(db, [...MIGRATIONS, probe]))).toBe(probe.version);
    expect((await db.exclusive(() => appliedMigrations(db))).map((m) => m.version)).toEqual([
      ...MIGRATIONS.map((m) => m.version),
      probe.version,
    ]);
    await db.close();

    const opened = DuckDBStore.open({ path: file });
    await expect(opened).rejects.toBeInstanceOf(StoreError);
    await expect(opened).rejects.toThrow(/newer than this build/);
  });

  it('rolls back a failing migration as a whole', async () => {
    const db = await SerialConnection.open(':memory:');
    const broken: Migration = {
      version: MIGRATIONS.length + 1,
      name: 'broken',
      statements: ['CREATE TABLE half (x INTEGER)', 'CREATE TABLE half (x INTEGER)'],
    };
    await expect(db.exclusive(() => migrate(db, [...MIGRATIONS, broken]))).rejects.toBeInstanceOf(StoreError);
    expect(await db.exclusive(() => migrate(db))).toBe(MIGRATIONS.length);
    const tables = await db.exclusive(() =>
      db.all<{ n: bigint }>("SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'half'"),
    );
    expect(tables[0]?.n).toBe(0n);
    await db.close();
  });
});

describe('DuckDBStore signals', () => {
  it('appends a 200k-row batch and reads it back with the exact sum', async () => {
    const file = tempDbPath();
    const store = await DuckDBStore.open({ path: file });
    const rows = 200_000;
    const keys = Array.from({ length: 50 }, (_, i) =>
      BigInt.asUintN(64, 0x9e3779b97f4a7c15n * BigInt(i + 1)).toString(16).padStart(16, '0'),
    );
    const b = new SignalBatchBuilder('acme', rows);
    let sum = 0;
    let texts = 0;
    let signalSum = 0;
    for (let i = 0; i < rows; i++) {
      const text = i % 1000 === 999 ? `gear-${i}` : undefined;
      b.push(b.vehicleIndex(keys[i % keys.length]!), T0 + i, i % 300, i * 0.25, text);
      if (text === undefined) sum += i * 0.25;
      else texts++;
      signalSum += i % 300;
    }
    expect(await store.appendSignals(b.build())).toBe(rows);
    expect((await store.counts('acme')).signals).toBe(rows);
    await store.close();

    // Read back with a separate DuckDB instance: what is in the file, not what the store caches.
    const instance = await DuckDBInstance.create(file);
    const conn = await instance.connect();
    const reader = await conn.runAndReadAll(`SELECT count(*) AS n, count(value) AS values, count(text) AS texts,
      sum(value) AS sum, sum(signal) AS signals, count(DISTINCT vehicle) AS vehicles,
      min(epoch_ms(ts)) AS first, max(epoch_ms(ts)) AS last FROM signals`);
    const [got] = reader.getRowObjectsJS();
    conn.closeSync();
    instance.closeSync();
    expect(got).toEqual({
      n: BigInt(rows),
      values: BigInt(rows - texts),
      texts: BigInt(texts),
      sum,
      signals: BigInt(signalSum),
      vehicles: 50n,
      first: BigInt(T0),
      last: BigInt(T0 + rows - 1),
    });
  });

  it('keeps text and NULLs exact across chunk boundaries and batch sizes', async () => {
    const store = await DuckDBStore.open({ path: ':memory:' });
    const expected: [number | null, string | null][] = [];
    let t = T0;
    // Sizes around the 2048-row chunk; text at the edges and inside, and batches without text.
    for (const [size, textAt] of [
      [1, [0]],
      [2047, [0, 2046]],
      [2048, []],
      [2049, [2047, 2048]],
      [5000, [1, 4095, 4096, 4999]],
      [3000, []],
    ] as const) {
      const b = new SignalBatchBuilder('acme', size);
      const v = b.vehicleIndex(KEY);
      for (let i = 0; i < size; i++) {
        const text = (textAt as readonly number[]).includes(i) ? `s${size}-${i}` : undefined;
        b.push(v, t++, 1, i, text);
        expected.push(text === undefined ? [i, null] : [null, text]);
      }
      await store.appendSignals(b.build());
    }
    const got = await store.querySignals({ tenant: 'acme', vehicle: KEY, limit: 1_000_000 });
    expect(got.map((s) => [s.value, s.text])).toEqual(expected);
    await store.close();
  });

  it('keeps sub-millisecond times to the microsecond', async () => {
    const store = await DuckDBStore.open({ path: ':memory:' });
    const b = new SignalBatchBuilder('acme');
    b.push(b.vehicleIndex(KEY), T0 + 0.123, 1, 1);
    b.push(b.vehicleIndex(KEY), -1.5, 1, 2);
    await store.appendSignals(b.build());
    const got = await store.querySignals({ tenant: 'acme', vehicle: KEY, limit: 10 });
    expect(got.map((s) => s.time)).toEqual([-1.5, T0 + 0.123]);
    await store.close();
  });
});

describe('DuckDBStore errors', () => {
  it('wraps driver errors in StoreError with the SQL, the parameters and the cause', async () => {
    const store = await DuckDBStore.open({ path: ':memory:' });
    const event: SecurityEvent = {
      id: 'ids-1',
      tenant: 'acme',
      vehicle: KEY,
      time: T0,
      eventId: 1,
      name: 'X',
      sensor: 'CGW',
      count: 1,
      severity: 'urgent' as SecurityEvent['severity'],
      source: 'test',
    };
    const error = await store.insertSecurityEvents([event]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    const storeError = error as StoreError;
    expect(storeError.reason).toMatch(/CHECK constraint/);
    expect(storeError.query).toMatch(/^INSERT INTO security_events \(tenant, id, vehicle/);
    expect(storeError.params).toContain('ids-1');
    expect(storeError.params).toContain('urgent');
    expect(storeError.cause).toBeInstanceOf(Error);
    expect((await store.counts()).securityEvents).toBe(0);
    await store.close();
  });

  it('reports a database that cannot be opened as StoreError', async () => {
    const file = tempDbPath();
    const holder = await DuckDBStore.open({ path: file });
    // The directory exists, so opening it as a database file fails in DuckDB itself.
    await expect(DuckDBStore.open({ path: path.dirname(file) })).rejects.toBeInstanceOf(StoreError);
    await holder.close();
  });
});

describe('DuckDBStore bulk record inserts (staged)', () => {
  it('inserts a large batch once, skipping ids already stored and ids repeated within the batch', async () => {
    const store = await DuckDBStore.open({ path: ':memory:', threads: 1 });
    const letter = (i: number, reason = `line ${i}: bad`) => ({
      id: `dl-${i}`, tenant: 'acme', source: 'file:t.log', kind: 'can' as const, code: 'candump.frame', reason,
      receivedAt: T0 + i, raw: new Uint8Array([i & 0xff, 0, 0xff]),
    });
    expect(await store.insertDeadLetters([letter(0), letter(1)])).toBe(2);
    // 500 rows (past the staged threshold): ids 0..499, with 0 and 1 stored already and 7 sent twice.
    const batch = [...Array.from({ length: 500 }, (_, i) => letter(i)), letter(7, 'second copy')];
    expect(await store.insertDeadLetters(batch)).toBe(498);
    expect((await store.counts('acme')).deadLetters).toBe(500);
    const all = await store.listDeadLetters({ tenant: 'acme', limit: 1000 });
    const seven = all.find((d) => d.id === 'dl-7')!;
    expect(seven.reason).toBe('line 7: bad');
    expect([...seven.raw]).toEqual([7, 0, 0xff]);
    expect(all.find((d) => d.id === 'dl-300')).toMatchObject({ source: 'file:t.log', kind: 'can', code: 'candump.frame', receivedAt: T0 + 300 });
    await store.close();
  });
});
