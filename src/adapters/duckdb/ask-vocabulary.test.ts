/**
 * The ask vocabulary's values read from a real DuckDB store: a tenant's makes, models, trims,
 * regions, years, each ECU's software versions, rule ids with titles — and nothing of another
 * tenant; the cache keeps a tenant's set until its time is up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { CachedAskValues, DuckDBAskValues } from './ask-vocabulary.js';
import { DuckDBStore } from './duckdb-store.js';

const NOW = Date.UTC(2026, 10, 20, 12);
let store: DuckDBStore;

beforeAll(async () => {
  store = await DuckDBStore.open({ path: ':memory:' });
  const v = (tenant: string, id: string, make: string, model: string, software: Record<string, string>) =>
    ({ tenant, id, make, model, year: 2024, trim: 'Long Range', region: 'us-west', software, signalCount: 0 });
  await store.upsertVehicles([
    v('acme', '00000000000000a1', 'Tesla', 'Model 3', { TCU: 'LTE-MDM 2025.20', IVI: '2025.20.6' }),
    v('acme', '00000000000000a2', 'Tesla', 'Model Y', { TCU: 'LTE-MDM 2025.14' }),
    v('globex', '00000000000000b1', 'Rivian', 'R1T', { TCU: 'RIV 1.0' }),
  ]);
  const alert = (tenant: string, id: string, rule: string, title: string) =>
    ({ id, tenant, vehicle: tenant === 'acme' ? '00000000000000a1' : '00000000000000b1', time: NOW, detectedAt: NOW, rule, title, severity: 'high' as const, tags: [], details: {} });
  await store.insertAlerts([alert('acme', 'a1', 'api.revoked-token-replay', 'Revoked or expired token replayed'), alert('globex', 'b1', 'globex-only-rule', 'Other')]);
});
afterAll(() => store?.close());

describe('DuckDB ask values', () => {
  it("reads one tenant's values, software per ECU, rules with titles", async () => {
    const values = await new DuckDBAskValues(store.connection).values('acme');
    expect(values.fields['make']).toEqual(['Tesla']);
    expect(values.fields['model']).toEqual(['Model 3', 'Model Y']);
    expect(values.fields['trim']).toEqual(['Long Range']);
    expect(values.fields['year']).toEqual([2024]);
    expect(values.fields['software.TCU']).toEqual(['LTE-MDM 2025.14', 'LTE-MDM 2025.20']);
    expect(values.fields['software.IVI']).toEqual(['2025.20.6']);
    expect(values.fields['rule']).toEqual(['api.revoked-token-replay']);
    expect(values.ruleTitles).toEqual({ 'api.revoked-token-replay': 'Revoked or expired token replayed' });
    expect(JSON.stringify(values)).not.toMatch(/Rivian|R1T|RIV|globex-only-rule/);
  });

  it('gives an unknown tenant no data values', async () => {
    const values = await new DuckDBAskValues(store.connection).values('nobody');
    expect(values.fields['make']).toBeUndefined();
  });

  it('keeps a tenant\'s values until the refresh time, then reads them again', async () => {
    const clock = new ManualClock(NOW);
    const cached = new CachedAskValues(new DuckDBAskValues(store.connection), clock, 60_000);
    const first = await cached.values('acme');
    expect(await cached.values('acme')).toBe(first);
    await store.upsertVehicles([{ tenant: 'acme', id: '00000000000000a3', make: 'Ford', model: 'F-150', year: 2023, trim: 'XLT', region: 'us-east', software: {}, signalCount: 0 }]);
    expect((await cached.values('acme')).fields['make']).toEqual(['Tesla']);
    clock.advance(60_000);
    expect((await cached.values('acme')).fields['make']).toEqual(['Ford', 'Tesla']);
  });
});
