/**
 * The Store contract: every adapter (DuckDB embedded, PostgreSQL shared) runs this suite
 * unchanged. It speaks only the port (src/core/store.ts) and asserts what comes back out:
 * rows, counts, order, idempotency, tenant scope, durability.
 *
 * Rules it pins down beyond the port's types, which every adapter must honour:
 * - the insert methods return the number of rows actually inserted (duplicates count 0);
 * - a rejected write (malformed vehicle key, bad batch row) writes nothing and rejects with StoreError;
 * - reads treat an unknown tenant or a malformed vehicle key as "no rows";
 * - querySignals is oldest first with `from` inclusive and `to` exclusive; lists are newest first;
 * - times are epoch ms and survive at least to the millisecond; vehicle keys keep all 64 bits.
 *
 * Usage, from an adapter's test file:
 *   runStoreContract('duckdb (file)', () => DuckDBStore.open({ path: tmpFile() }), { reopen });
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SignalBatch } from '../../src/core/batch.js';
import { StaleWriterError, StoreError } from '../../src/core/errors.js';
import type { Store, StoreCounts, StreamSpan } from '../../src/core/store.js';
import { CAN_EXTENDED_FLAG, CanFrameBatchBuilder, type CanFrameBatch } from '../../src/core/can.js';
import {
  ACME,
  ALL_BYTES,
  GLOBEX,
  T0,
  V,
  alert,
  apiEvent,
  deadLetter,
  newestFirst,
  securityEvent,
  signalBatch,
  vehicle,
  type SignalRow,
} from './store-fixtures.js';

export interface StoreContractOptions {
  /**
   * Opens the same database again after the suite has closed `closed`. When given, the suite
   * also checks that everything written survives a close and reopen.
   */
  readonly reopen?: (closed: Store) => Promise<Store>;
}

const ZERO: StoreCounts = { signals: 0, canFrames: 0, securityEvents: 0, apiEvents: 0, alerts: 0, vehicles: 0, deadLetters: 0 };

/** Defines the contract's `describe` blocks; `make` returns a fresh, empty, migrated store per test. */
export function runStoreContract(name: string, make: () => Promise<Store>, options: StoreContractOptions = {}): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await make();
    });
    afterEach(async () => {
      await store.close();
    });

    describe('lifecycle', () => {
      it('migrates idempotently and reports the version in force', async () => {
        const first = await store.migrate();
        expect(Number.isInteger(first) && first > 0).toBe(true);
        expect(await store.migrate()).toBe(first);
        expect(['duckdb', 'postgres']).toContain(store.dialect);
      });

      it('starts empty', async () => {
        expect(await store.counts()).toEqual(ZERO);
        expect(await store.counts(ACME)).toEqual(ZERO);
        expect((await store.signalDictionary()).size).toBe(0);
        expect(await store.listVehicles(ACME, { limit: 10 })).toEqual([]);
        expect(await store.listDeadLetters({ limit: 10 })).toEqual([]);
      });

      it('closes idempotently and rejects use after close with StoreError', async () => {
        await store.close();
        await store.close();
        await expect(store.counts()).rejects.toBeInstanceOf(StoreError);
      });
    });

    describe('signal dictionary', () => {
      it('round-trips entries and treats a repeated save as a no-op', async () => {
        const entries = [
          { id: 1, path: 'Vehicle.Speed' },
          { id: 2, path: 'Vehicle.Cabin.Door.Row1.DriverSide.IsOpen' },
        ];
        await store.saveSignalDictionary(entries);
        const soc = 'Vehicle.Powertrain.TractionBattery.StateOfCharge.Current';
        await store.saveSignalDictionary([...entries, { id: 70_000, path: soc }]);
        expect(await store.signalDictionary()).toEqual(
          new Map([
            ['Vehicle.Speed', 1],
            ['Vehicle.Cabin.Door.Row1.DriverSide.IsOpen', 2],
            [soc, 70_000],
          ]),
        );
      });

      it('rejects an entry contradicting a stored id or path and saves nothing of that call', async () => {
        await store.saveSignalDictionary([{ id: 1, path: 'Vehicle.Speed' }]);
        await expect(
          store.saveSignalDictionary([{ id: 2, path: 'Vehicle.Width' }, { id: 1, path: 'Vehicle.Length' }]),
        ).rejects.toBeInstanceOf(StoreError);
        await expect(store.saveSignalDictionary([{ id: 3, path: 'Vehicle.Speed' }])).rejects.toBeInstanceOf(StoreError);
        expect(await store.signalDictionary()).toEqual(new Map([['Vehicle.Speed', 1]]));
      });
    });

    describe('CAN frames', () => {
      const frames = (tenant: string, labels: boolean): CanFrameBatch => {
        const b = new CanFrameBatchBuilder({ tenant, vin: 'ignored-by-the-store', source: 'contract' }, 16, 64, labels);
        b.push(T0 + 0.125, 0x1d0, [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0xff], 0);
        b.push(T0 + 1, 0x18ff50e5 | CAN_EXTENDED_FLAG, [0xde, 0xad], 1);
        b.push(T0 + 2, 0x7df, [], 0);
        b.push(T0 + 3, 0x123, Array.from({ length: 64 }, (_, i) => (i * 7) & 0xff), 1); // CAN FD
        return b.build();
      };

      it('appends frames and reads them back byte for byte, oldest first, with labels', async () => {
        expect(await store.appendCanFrames(V.a, frames(ACME, true))).toBe(4);
        const got = await store.queryCanFrames({ tenant: ACME, vehicle: V.a, limit: 10 });
        expect(got.map((f) => [f.time, f.id >>> 0, [...f.data], f.label])).toEqual([
          [T0 + 0.125, 0x1d0, [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0xff], 'normal'],
          [T0 + 1, (0x18ff50e5 | CAN_EXTENDED_FLAG) >>> 0, [0xde, 0xad], 'attack'],
          [T0 + 2, 0x7df, [], 'normal'],
          [T0 + 3, 0x123, Array.from({ length: 64 }, (_, i) => (i * 7) & 0xff), 'attack'],
        ]);
        expect((await store.counts(ACME)).canFrames).toBe(4);
      });

      it('leaves the label off for unlabelled traces, filters by time, and scopes by tenant and vehicle', async () => {
        await store.appendCanFrames(V.a, frames(ACME, false));
        await store.appendCanFrames(V.b, frames(GLOBEX, false));
        const got = await store.queryCanFrames({ tenant: ACME, vehicle: V.a, from: T0 + 1, to: T0 + 3, limit: 10 });
        expect(got.map((f) => f.time)).toEqual([T0 + 1, T0 + 2]);
        expect(got.every((f) => f.label === undefined)).toBe(true);
        expect(await store.queryCanFrames({ tenant: ACME, vehicle: V.b, limit: 10 })).toEqual([]);
        expect((await store.counts(GLOBEX)).canFrames).toBe(4);
        expect((await store.counts()).canFrames).toBe(8);
      });
    });

    describe('signals', () => {
      it('appends a batch and reads it back oldest first', async () => {
        const rows: SignalRow[] = [
          { vehicle: V.a, time: T0 + 30, signal: 1, value: 88.5 },
          { vehicle: V.a, time: T0 + 10, signal: 1, value: 87.25 },
          { vehicle: V.b, time: T0 + 5, signal: 1, value: 10 },
          { vehicle: V.a, time: T0 + 20, signal: 2, value: 1 },
        ];
        expect(await store.appendSignals(signalBatch(ACME, rows))).toBe(4);
        expect(await store.querySignals({ tenant: ACME, vehicle: V.a, limit: 10 })).toEqual([
          { vehicle: V.a, time: T0 + 10, signal: 1, value: 87.25, text: null },
          { vehicle: V.a, time: T0 + 20, signal: 2, value: 1, text: null },
          { vehicle: V.a, time: T0 + 30, signal: 1, value: 88.5, text: null },
        ]);
        expect((await store.counts(ACME)).signals).toBe(4);
      });

      it('keeps all 64 bits of vehicle keys', async () => {
        const keys = [V.zero, V.top, V.max, V.low, V.a, V.b];
        const rows = keys.map((key, i) => ({ vehicle: key, time: T0, signal: 7, value: i }));
        await store.appendSignals(signalBatch(ACME, rows));
        for (const [i, key] of keys.entries()) {
          expect(await store.querySignals({ tenant: ACME, vehicle: key, limit: 10 })).toEqual([
            { vehicle: key, time: T0, signal: 7, value: i, text: null },
          ]);
        }
      });

      it('stores text values with a NULL numeric value, and numbers with NULL text', async () => {
        await store.appendSignals(
          signalBatch(ACME, [
            { vehicle: V.a, time: T0 + 1, signal: 3, text: 'PARK' },
            { vehicle: V.a, time: T0 + 2, signal: 1, value: -0.5 },
            { vehicle: V.a, time: T0 + 3, signal: 3, text: '' },
            { vehicle: V.a, time: T0 + 4, signal: 3, text: 'Ünïcødé ✓ 🚗' },
          ]),
        );
        // A later batch without text must not inherit anything from the one before.
        await store.appendSignals(signalBatch(ACME, [{ vehicle: V.a, time: T0 + 5, signal: 1, value: 2 }]));
        const got = await store.querySignals({ tenant: ACME, vehicle: V.a, limit: 10 });
        expect(got.map((s) => [s.value, s.text])).toEqual([
          [null, 'PARK'],
          [-0.5, null],
          [null, ''],
          [null, 'Ünïcødé ✓ 🚗'],
          [2, null],
        ]);
      });

      it('filters by signal and a half-open time range, and honours limit', async () => {
        const rows: SignalRow[] = [];
        for (let i = 0; i < 10; i++) rows.push({ vehicle: V.a, time: T0 + i, signal: 1 + (i % 2), value: i });
        await store.appendSignals(signalBatch(ACME, rows));
        const q = { tenant: ACME, vehicle: V.a, limit: 100 };
        const times = async (extra: object): Promise<number[]> =>
          (await store.querySignals({ ...q, ...extra })).map((s) => s.time - T0);
        expect(await times({ signal: 1 })).toEqual([0, 2, 4, 6, 8]);
        expect(await times({ from: T0 + 2, to: T0 + 5 })).toEqual([2, 3, 4]);
        expect(await times({ signal: 2, from: T0 + 3 })).toEqual([3, 5, 7, 9]);
        expect(await times({ to: T0 + 3 })).toEqual([0, 1, 2]);
        expect(await times({ limit: 3 })).toEqual([0, 1, 2]);
        expect(await times({ limit: 0 })).toEqual([]);
      });

      it('writes nothing for an empty batch', async () => {
        expect(await store.appendSignals(signalBatch(ACME, []))).toBe(0);
        expect(await store.counts()).toEqual(ZERO);
      });

      it('appends batches of many thousand rows exactly', async () => {
        const keys = [V.a, V.b, V.zero, V.top, V.max, V.low, '0000000100000000'];
        const rows: SignalRow[] = [];
        for (let i = 0; i < 10_007; i++) {
          const text = i % 997 === 0 ? `t${i}` : undefined;
          const vehicle = keys[i % keys.length]!;
          rows.push({ vehicle, time: T0 + i, signal: i % 50, value: i * 0.25, ...(text && { text }) });
        }
        expect(await store.appendSignals(signalBatch(ACME, rows))).toBe(rows.length);
        expect((await store.counts()).signals).toBe(rows.length);
        for (const key of keys) {
          const mine = rows.filter((r) => r.vehicle === key);
          const got = await store.querySignals({ tenant: ACME, vehicle: key, limit: 20_000 });
          expect(got.length).toBe(mine.length);
          expect(got.map((s) => s.time)).toEqual(mine.map((r) => r.time));
          expect(got.reduce((sum, s) => sum + (s.value ?? 0), 0)).toBe(
            mine.reduce((sum, r) => sum + (r.text === undefined ? (r.value ?? 0) : 0), 0),
          );
          expect(got.filter((s) => s.text !== null).map((s) => s.text)).toEqual(
            mine.filter((r) => r.text !== undefined).map((r) => r.text),
          );
        }
      });

      it('scopes signals by tenant', async () => {
        await store.appendSignals(signalBatch(ACME, [{ vehicle: V.a, time: T0, signal: 1, value: 1 }]));
        await store.appendSignals(
          signalBatch(GLOBEX, [
            { vehicle: V.a, time: T0, signal: 1, value: 2 },
            { vehicle: V.a, time: T0 + 1, signal: 1, value: 3 },
          ]),
        );
        const values = async (tenant: string): Promise<(number | null)[]> =>
          (await store.querySignals({ tenant, vehicle: V.a, limit: 10 })).map((s) => s.value);
        expect(await values(ACME)).toEqual([1]);
        expect(await values(GLOBEX)).toEqual([2, 3]);
        expect(await values('initech')).toEqual([]);
        expect((await store.counts(ACME)).signals).toBe(1);
        expect((await store.counts(GLOBEX)).signals).toBe(2);
        expect((await store.counts()).signals).toBe(3);
        expect(await store.counts('initech')).toEqual(ZERO);
      });

      it('rejects a malformed batch with StoreError and writes nothing', async () => {
        const good = signalBatch(ACME, [
          { vehicle: V.a, time: T0, signal: 1, value: 1 },
          { vehicle: V.b, time: T0 + 1, signal: 1, value: 2 },
        ]);
        const bad: SignalBatch[] = [
          { ...good, vehicles: [V.a, 'not-a-vehicle-key'] },
          { ...good, vehicles: [V.a, V.b.toUpperCase()] },
          { ...good, vehicle: Uint32Array.from([0, 2]) },
          { ...good, time: Float64Array.from([T0, Number.NaN]) },
          { ...good, time: Float64Array.from([T0, Number.POSITIVE_INFINITY]) },
        ];
        for (const batch of bad) await expect(store.appendSignals(batch)).rejects.toBeInstanceOf(StoreError);
        expect((await store.counts()).signals).toBe(0);
        expect(await store.appendSignals(good)).toBe(2);
      });

      it('treats a malformed vehicle key in a query as a vehicle without rows', async () => {
        await store.appendSignals(signalBatch(ACME, [{ vehicle: V.a, time: T0, signal: 1, value: 1 }]));
        expect(await store.querySignals({ tenant: ACME, vehicle: 'nope', limit: 10 })).toEqual([]);
        expect(await store.getVehicle(ACME, 'nope')).toBeUndefined();
      });
    });

    describe('security events', () => {
      it('inserts and reads back newest first', async () => {
        const events = [
          securityEvent(1),
          securityEvent(3, { context: undefined }),
          securityEvent(2, { severity: 'low' }),
        ];
        expect(await store.insertSecurityEvents(events)).toBe(3);
        expect(await store.listSecurityEvents({ tenant: ACME, limit: 10 })).toEqual(newestFirst(events, (e) => e.time));
        expect((await store.counts(ACME)).securityEvents).toBe(3);
      });

      it('is idempotent by id and counts only rows actually inserted', async () => {
        const [e1, e2, e3] = [securityEvent(1), securityEvent(2), securityEvent(3)];
        expect(await store.insertSecurityEvents([e1!, e2!])).toBe(2);
        expect(await store.insertSecurityEvents([e1!, e2!, e3!])).toBe(1);
        expect(await store.insertSecurityEvents([securityEvent(4), securityEvent(4)])).toBe(1);
        // Same id, different content: the first write wins.
        expect(await store.insertSecurityEvents([securityEvent(1, { name: 'CHANGED' })])).toBe(0);
        expect(await store.insertSecurityEvents([])).toBe(0);
        const stored = await store.listSecurityEvents({ tenant: ACME, limit: 10 });
        expect(stored.map((e) => e.id)).toEqual(['ids-4', 'ids-3', 'ids-2', 'ids-1']);
        expect(stored.find((e) => e.id === 'ids-1')?.name).toBe(e1!.name);
      });

      it('scopes ids by tenant', async () => {
        const twins = [securityEvent(1), securityEvent(1, { tenant: GLOBEX, sensor: 'TCU' })];
        expect(await store.insertSecurityEvents(twins)).toBe(2);
        const globex = await store.listSecurityEvents({ tenant: GLOBEX, limit: 10 });
        expect(globex.map((e) => [e.tenant, e.sensor])).toEqual([[GLOBEX, 'TCU']]);
        expect((await store.listSecurityEvents({ tenant: ACME, limit: 10 })).map((e) => e.sensor)).toEqual(['CGW']);
        expect(await store.listSecurityEvents({ tenant: 'initech', limit: 10 })).toEqual([]);
      });

      it('filters by vehicle and pages with limit and offset', async () => {
        const events = [1, 2, 3, 4, 5].map((n) => securityEvent(n)).concat([securityEvent(6, { vehicle: V.max })]);
        await store.insertSecurityEvents(events);
        const page = await store.listSecurityEvents({ tenant: ACME, vehicle: V.a, limit: 2, offset: 1 });
        expect(page.map((e) => e.id)).toEqual(['ids-4', 'ids-3']);
        expect(await store.listSecurityEvents({ tenant: ACME, vehicle: V.max, limit: 10 })).toEqual([events[5]]);
        expect(await store.listSecurityEvents({ tenant: ACME, vehicle: 'bad', limit: 10 })).toEqual([]);
      });

      it('rejects an event with a malformed vehicle key and writes none of the call', async () => {
        await expect(
          store.insertSecurityEvents([securityEvent(1), securityEvent(2, { vehicle: 'VIN123' })]),
        ).rejects.toBeInstanceOf(StoreError);
        expect((await store.counts()).securityEvents).toBe(0);
      });
    });

    describe('API events', () => {
      it('round-trips full and minimal events, newest first', async () => {
        const minimal = {
          id: 'api-min',
          tenant: ACME,
          time: T0 + 10_000,
          service: 'charging',
          endpoint: 'BootNotification',
          source: 'ocpp',
        };
        const events = [apiEvent(1), minimal, apiEvent(2, { status: 401, method: 'GET' })];
        expect(await store.insertApiEvents(events)).toBe(3);
        expect(await store.listApiEvents({ tenant: ACME, limit: 10 })).toEqual(newestFirst(events, (e) => e.time));
      });

      it('is idempotent by id and pages', async () => {
        expect(await store.insertApiEvents([1, 2, 3].map((n) => apiEvent(n)))).toBe(3);
        expect(await store.insertApiEvents([2, 3, 4].map((n) => apiEvent(n)))).toBe(1);
        expect((await store.listApiEvents({ tenant: ACME, limit: 2, offset: 2 })).map((e) => e.id)).toEqual([
          'api-2',
          'api-1',
        ]);
        expect((await store.counts()).apiEvents).toBe(4);
      });
    });

    describe('alerts', () => {
      it('round-trips alerts, including fleet alerts without a vehicle', async () => {
        const list = [alert(1), alert(2, { vehicle: undefined, rule: 'fleet.correlation', tags: [] }), alert(3)];
        expect(await store.insertAlerts(list)).toBe(3);
        expect(await store.listAlerts({ tenant: ACME, limit: 10 })).toEqual(newestFirst(list, (a) => a.time));
      });

      it('filters by vehicle and by `since` (inclusive)', async () => {
        await store.insertAlerts([alert(1), alert(2, { vehicle: V.b }), alert(3), alert(4, { vehicle: undefined })]);
        const ids = async (q: object): Promise<string[]> =>
          (await store.listAlerts({ tenant: ACME, limit: 10, ...q })).map((a) => a.id);
        expect(await ids({ vehicle: V.a })).toEqual(['alert-3', 'alert-1']);
        expect(await ids({ since: T0 + 2000 })).toEqual(['alert-4', 'alert-3', 'alert-2']);
        expect(await ids({ vehicle: V.a, since: T0 + 1001 })).toEqual(['alert-3']);
        expect(await ids({ limit: 1, offset: 1 })).toEqual(['alert-3']);
      });

      it('is idempotent by (tenant, id)', async () => {
        expect(await store.insertAlerts([alert(1), alert(2)])).toBe(2);
        expect(await store.insertAlerts([alert(1), alert(2), alert(1, { tenant: GLOBEX })])).toBe(1);
        expect((await store.counts(ACME)).alerts).toBe(2);
        expect((await store.counts(GLOBEX)).alerts).toBe(1);
      });
    });

    describe('dead letters', () => {
      it('keeps raw bytes exactly and lists newest first', async () => {
        const records = [
          deadLetter(1, { raw: ALL_BYTES }),
          deadLetter(2, { tenant: undefined, kind: 'unknown', code: 'tenant.unknown' }),
          deadLetter(3, { raw: new Uint8Array(0) }),
        ];
        expect(await store.insertDeadLetters(records)).toBe(3);
        const got = await store.listDeadLetters({ limit: 10 });
        expect(got).toEqual(newestFirst(records, (d) => d.receivedAt));
        expect(Array.from(got.find((d) => d.id === 'dl-1')!.raw)).toEqual(Array.from(ALL_BYTES));
      });

      it('filters by tenant and code; no tenant lists all', async () => {
        await store.insertDeadLetters([
          deadLetter(1),
          deadLetter(2, { code: 'signal.unknown' }),
          deadLetter(3, { tenant: GLOBEX }),
          deadLetter(4, { tenant: undefined }),
        ]);
        const ids = async (q: object): Promise<string[]> =>
          (await store.listDeadLetters({ limit: 10, ...q })).map((d) => d.id);
        expect(await ids({})).toEqual(['dl-4', 'dl-3', 'dl-2', 'dl-1']);
        expect(await ids({ tenant: ACME })).toEqual(['dl-2', 'dl-1']);
        expect(await ids({ tenant: ACME, code: 'json.malformed' })).toEqual(['dl-1']);
        expect(await ids({ code: 'json.malformed' })).toEqual(['dl-4', 'dl-3', 'dl-1']);
        expect(await ids({ tenant: 'initech' })).toEqual([]);
        expect(await ids({ limit: 2, offset: 1 })).toEqual(['dl-3', 'dl-2']);
        expect((await store.counts()).deadLetters).toBe(4);
        expect((await store.counts(ACME)).deadLetters).toBe(2);
      });

      it('is idempotent by id', async () => {
        expect(await store.insertDeadLetters([deadLetter(1), deadLetter(2)])).toBe(2);
        expect(await store.insertDeadLetters([deadLetter(2), deadLetter(3), deadLetter(3)])).toBe(1);
        expect((await store.counts()).deadLetters).toBe(3);
      });

      it('filters dead letters by source and deletes them by id', async () => {
        await store.insertDeadLetters([deadLetter(1), deadLetter(2), { ...deadLetter(3), source: 'replay-7' }]);
        expect((await store.listDeadLetters({ source: 'replay-7', limit: 10 })).map((d) => d.id)).toEqual([deadLetter(3).id]);
        expect(await store.deleteDeadLetters([deadLetter(1).id, deadLetter(3).id, 'no-such-id'])).toBe(2);
        expect((await store.listDeadLetters({ limit: 10 })).map((d) => d.id)).toEqual([deadLetter(2).id]);
        expect(await store.deleteDeadLetters([])).toBe(0);
      });
    });

    describe('vehicles', () => {
      it('inserts and reads back a vehicle; unknown ones are undefined', async () => {
        const v = vehicle(V.max);
        await store.upsertVehicles([v]);
        expect(await store.getVehicle(ACME, V.max)).toEqual(v);
        expect(await store.getVehicle(ACME, V.a)).toBeUndefined();
        expect(await store.getVehicle(GLOBEX, V.max)).toBeUndefined();
      });

      it('merges an update: earliest firstSeen, latest lastSeen, counts add, given fields overwrite', async () => {
        await store.upsertVehicles([vehicle(V.a, { firstSeen: T0 + 100, lastSeen: T0 + 200, signalCount: 10 })]);
        await store.upsertVehicles([
          {
            tenant: ACME,
            id: V.a,
            model: 'ID.5',
            software: { TCU: '4.3.0' },
            firstSeen: T0 + 50,
            lastSeen: T0 + 150,
            signalCount: 5,
          },
        ]);
        expect(await store.getVehicle(ACME, V.a)).toEqual(
          vehicle(V.a, {
            model: 'ID.5',
            software: { TCU: '4.3.0' },
            firstSeen: T0 + 50,
            lastSeen: T0 + 200,
            signalCount: 15,
          }),
        );
      });

      it('applies repeats of one vehicle within a call in order', async () => {
        await store.upsertVehicles([
          vehicle(V.a, { firstSeen: T0 + 10, lastSeen: T0 + 20, signalCount: 1, make: 'A' }),
          vehicle(V.b, { signalCount: 7 }),
          vehicle(V.a, { firstSeen: T0 + 5, lastSeen: T0 + 30, signalCount: 2, make: 'B' }),
          vehicle(V.a, { firstSeen: T0 + 7, lastSeen: T0 + 25, signalCount: 3, make: undefined }),
        ]);
        const a = await store.getVehicle(ACME, V.a);
        expect([a?.make, a?.firstSeen, a?.lastSeen, a?.signalCount]).toEqual(['B', T0 + 5, T0 + 30, 6]);
        expect((await store.getVehicle(ACME, V.b))?.signalCount).toBe(7);
        expect((await store.counts()).vehicles).toBe(2);
      });

      it('registers a vehicle never seen (no first/last seen) and fills them in when data arrives', async () => {
        const { firstSeen: _f, lastSeen: _l, ...registered } = vehicle(V.a, { signalCount: 0, make: 'Volvo' });
        await store.upsertVehicles([registered]);
        const before = await store.getVehicle(ACME, V.a);
        expect(before?.make).toBe('Volvo');
        expect(before?.firstSeen).toBeUndefined();
        expect(before?.lastSeen).toBeUndefined();
        await store.upsertVehicles([{ tenant: ACME, id: V.a, firstSeen: T0 + 5, lastSeen: T0 + 9, signalCount: 4 }]);
        const after = await store.getVehicle(ACME, V.a);
        expect([after?.make, after?.firstSeen, after?.lastSeen, after?.signalCount]).toEqual(['Volvo', T0 + 5, T0 + 9, 4]);
      });

      it('merges a large upsert of many vehicles in one call', async () => {
        const keys = Array.from({ length: 3000 }, (_, i) => (i + 1).toString(16).padStart(16, '0'));
        await store.upsertVehicles(keys.map((k) => vehicle(k, { signalCount: 2 })));
        await store.upsertVehicles(keys.map((k) => vehicle(k, { signalCount: 3, lastSeen: T0 + 1_000_000 })));
        expect((await store.counts(ACME)).vehicles).toBe(3000);
        const v = await store.getVehicle(ACME, keys[1234]!);
        expect([v?.signalCount, v?.lastSeen]).toEqual([5, T0 + 1_000_000]);
      });

      it('lists a tenant’s vehicles by key with paging', async () => {
        const keys = [V.max, V.zero, V.top, V.a, V.b];
        await store.upsertVehicles(keys.map((k) => vehicle(k)));
        await store.upsertVehicles([vehicle(V.low, { tenant: GLOBEX })]);
        const sorted = [...keys].sort();
        expect((await store.listVehicles(ACME, { limit: 10 })).map((v) => v.id)).toEqual(sorted);
        expect((await store.listVehicles(ACME, { limit: 2, offset: 2 })).map((v) => v.id)).toEqual(sorted.slice(2, 4));
        expect(await store.listVehicles(GLOBEX, { limit: 10 })).toEqual([vehicle(V.low, { tenant: GLOBEX })]);
        expect(await store.listVehicles('initech', { limit: 10 })).toEqual([]);
      });

      it('rejects a malformed vehicle id and writes none of the call', async () => {
        await expect(store.upsertVehicles([vehicle(V.a), vehicle('0123')])).rejects.toBeInstanceOf(StoreError);
        expect((await store.counts()).vehicles).toBe(0);
      });
    });

    describe('checkpoints', () => {
      it('reads back exactly what was saved, across parts, and nothing for an unknown name', async () => {
        expect(await store.loadCheckpoint('twins/2x64/0')).toBeUndefined();
        // Larger than one stored part (16 MiB), with every byte value.
        const big = new Uint8Array((17 << 20) + 3);
        for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >>> 11)) & 0xff;
        await store.saveCheckpoint('twins/2x64/0', big);
        await store.saveCheckpoint('twins/2x64/1', ALL_BYTES);
        // Compared as buffers: a deep-equal over 17 M elements would take minutes.
        const back = await store.loadCheckpoint('twins/2x64/0');
        expect(back?.length).toBe(big.length);
        expect(Buffer.from(back!.buffer, back!.byteOffset, back!.length).equals(Buffer.from(big.buffer))).toBe(true);
        expect(await store.loadCheckpoint('twins/2x64/1')).toEqual(ALL_BYTES);
      });

      it('replaces a checkpoint whole, also with a shorter or an empty one', async () => {
        await store.saveCheckpoint('w', new Uint8Array((16 << 20) + 10).fill(7));
        expect((await store.loadCheckpoint('w'))?.length).toBe((16 << 20) + 10);
        await store.saveCheckpoint('w', new Uint8Array([1, 2, 3]));
        expect(await store.loadCheckpoint('w')).toEqual(new Uint8Array([1, 2, 3]));
        await store.saveCheckpoint('w', new Uint8Array(0));
        expect(await store.loadCheckpoint('w')).toEqual(new Uint8Array(0));
      });
    });

    describe('write groups (scale-out fence)', () => {
      const group = (spans: StreamSpan[], n: number) => ({
        signals: signalBatch(ACME, [{ vehicle: V.a, time: T0 + n, signal: 1, value: n }]),
        securityEvents: [securityEvent(n)],
        apiEvents: [apiEvent(n)],
        alerts: [alert(n)],
        deadLetters: [deadLetter(n)],
        vehicles: [vehicle(V.a, { signalCount: 1 })],
        spans,
      });
      const ONE_OF_EACH = { signals: 1, canFrames: 0, securityEvents: 1, apiEvents: 1, alerts: 1, vehicles: 1, deadLetters: 1 };

      it('writes every record of a group and advances each partition to its span end', async () => {
        expect(await store.streamPositions()).toEqual([]);
        await store.writeGroup(group([{ partition: 3, epoch: 1, from: 1, to: 10 }, { partition: 0, epoch: 2, from: 4, to: 4 }], 1));
        expect(await store.counts()).toEqual(ONE_OF_EACH);
        expect(await store.streamPositions()).toEqual([{ partition: 0, epoch: 2, seq: 4 }, { partition: 3, epoch: 1, seq: 10 }]);
        await store.writeGroup({ ...group([{ partition: 3, epoch: 1, from: 11, to: 12 }], 2) });
        // A new owner (a higher epoch) continues where the stored position stands.
        await store.writeGroup({ spans: [{ partition: 0, epoch: 5, from: 5, to: 9 }] });
        expect(await store.streamPositions()).toEqual([{ partition: 0, epoch: 5, seq: 9 }, { partition: 3, epoch: 1, seq: 12 }]);
        expect((await store.counts()).signals).toBe(2);
        expect((await store.getVehicle(ACME, V.a))?.signalCount).toBe(2);
      });

      it('refuses a stale epoch with StaleWriterError naming the partition and writes nothing', async () => {
        await store.writeGroup(group([{ partition: 1, epoch: 4, from: 1, to: 5 }], 1));
        const stale = store.writeGroup(group([{ partition: 2, epoch: 1, from: 1, to: 1 }, { partition: 1, epoch: 3, from: 6, to: 9 }], 2));
        await expect(stale).rejects.toBeInstanceOf(StaleWriterError);
        await expect(stale).rejects.toMatchObject({ partition: 1 });
        expect(await store.counts()).toEqual(ONE_OF_EACH);
        expect(await store.streamPositions()).toEqual([{ partition: 1, epoch: 4, seq: 5 }]);
      });

      it('refuses a span overlapping the stored position (a replay already written) and writes nothing', async () => {
        await store.writeGroup(group([{ partition: 7, epoch: 1, from: 1, to: 5 }], 1));
        for (const from of [1, 5]) {
          await expect(store.writeGroup(group([{ partition: 7, epoch: 2, from, to: 8 }], 2))).rejects.toBeInstanceOf(StaleWriterError);
        }
        expect(await store.counts()).toEqual(ONE_OF_EACH);
        expect(await store.streamPositions()).toEqual([{ partition: 7, epoch: 1, seq: 5 }]);
        await store.writeGroup(group([{ partition: 7, epoch: 2, from: 6, to: 8 }], 2));
        expect(await store.streamPositions()).toEqual([{ partition: 7, epoch: 2, seq: 8 }]);
      });

      it('is all or nothing: a malformed record in a group writes none of it and moves no position', async () => {
        const bad = { ...group([{ partition: 0, epoch: 1, from: 1, to: 1 }], 1), vehicles: [vehicle(V.a), vehicle('0123')] };
        await expect(store.writeGroup(bad)).rejects.toBeInstanceOf(StoreError);
        expect(await store.counts()).toEqual(ZERO);
        expect(await store.streamPositions()).toEqual([]);
      });

      it('keeps skipping records already stored by id inside a group', async () => {
        await store.insertAlerts([alert(1)]);
        await store.writeGroup({ alerts: [alert(1), alert(2), alert(2)], spans: [{ partition: 0, epoch: 1, from: 1, to: 2 }] });
        expect((await store.counts()).alerts).toBe(2);
      });
    });

    describe('concurrency', () => {
      it('serializes concurrent callers without losing or mixing writes', async () => {
        const writes: Promise<unknown>[] = [];
        for (let k = 0; k < 20; k++) {
          const rows: SignalRow[] = [];
          for (let i = 0; i < 500; i++) {
            const text = i === 0 ? { text: 'x' } : {};
            rows.push({ vehicle: k % 2 ? V.a : V.b, time: T0 + k * 1000 + i, signal: 1, value: 1, ...text });
          }
          writes.push(store.appendSignals(signalBatch(k % 3 ? ACME : GLOBEX, rows)));
          writes.push(store.insertSecurityEvents([securityEvent(k), securityEvent(k)]));
          writes.push(store.upsertVehicles([vehicle(V.a, { signalCount: 1 })]));
          writes.push(store.counts());
        }
        await Promise.all(writes);
        const total = await store.counts();
        expect(total.signals).toBe(20 * 500);
        expect(total.securityEvents).toBe(20);
        expect((await store.getVehicle(ACME, V.a))?.signalCount).toBe(20);
        const acmeBatches = [...Array(20).keys()].filter((k) => k % 3).length;
        expect((await store.counts(ACME)).signals).toBe(acmeBatches * 500);
      });
    });

    if (options.reopen) {
      const reopen = options.reopen;
      describe('durability', () => {
        it('keeps every write across close and reopen', async () => {
          const version = await store.migrate();
          await store.saveSignalDictionary([{ id: 5, path: 'Vehicle.Speed' }]);
          await store.appendSignals(
            signalBatch(ACME, [
              { vehicle: V.max, time: T0 + 1, signal: 5, value: 42.5 },
              { vehicle: V.max, time: T0 + 2, signal: 6, text: 'DRIVE' },
            ]),
          );
          await store.insertSecurityEvents([securityEvent(1)]);
          await store.insertApiEvents([apiEvent(1)]);
          await store.insertAlerts([alert(1)]);
          await store.insertDeadLetters([deadLetter(1, { raw: ALL_BYTES })]);
          await store.upsertVehicles([vehicle(V.max)]);
          await store.saveCheckpoint('twins/1x1/0', ALL_BYTES);
          await store.writeGroup({ spans: [{ partition: 2, epoch: 3, from: 1, to: 40 }] });
          const before = await store.counts();

          await store.close();
          store = await reopen(store);

          expect(await store.migrate()).toBe(version);
          expect(await store.counts()).toEqual(before);
          expect(await store.signalDictionary()).toEqual(new Map([['Vehicle.Speed', 5]]));
          expect(await store.querySignals({ tenant: ACME, vehicle: V.max, limit: 10 })).toEqual([
            { vehicle: V.max, time: T0 + 1, signal: 5, value: 42.5, text: null },
            { vehicle: V.max, time: T0 + 2, signal: 6, value: null, text: 'DRIVE' },
          ]);
          expect(await store.listSecurityEvents({ tenant: ACME, limit: 10 })).toEqual([securityEvent(1)]);
          expect(await store.listApiEvents({ tenant: ACME, limit: 10 })).toEqual([apiEvent(1)]);
          expect(await store.listAlerts({ tenant: ACME, limit: 10 })).toEqual([alert(1)]);
          expect(await store.listDeadLetters({ limit: 10 })).toEqual([deadLetter(1, { raw: ALL_BYTES })]);
          expect(await store.getVehicle(ACME, V.max)).toEqual(vehicle(V.max));
          expect(await store.loadCheckpoint('twins/1x1/0')).toEqual(ALL_BYTES);
          expect(await store.streamPositions()).toEqual([{ partition: 2, epoch: 3, seq: 40 }]);
          // Ids stay taken after a reopen: idempotency does not depend on process memory.
          expect(await store.insertSecurityEvents([securityEvent(1)])).toBe(0);
          const more = signalBatch(GLOBEX, [{ vehicle: V.a, time: T0, signal: 5, value: 1 }]);
          expect(await store.appendSignals(more)).toBe(1);
          expect((await store.counts(ACME)).signals).toBe(2);
        });
      });
    }
  });
}
