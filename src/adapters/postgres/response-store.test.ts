/**
 * PostgresResponseStore on the local PostgreSQL (a throw-away schema; the DuckDB adapter's tests, only the opening changed): playbooks, action runs,
 * delivery attempts and response requests round-trip; filters, paging and totals; the
 * `active` filter; tenant scoping; malformed input refused before anything is written.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../core/errors.js';
import type { ActionRun, ResponseRequest } from '../../alerts/response.js';
import { PostgresIncidentStore } from './incident-store.js';
import { PostgresStore } from './postgres-store.js';
import { PostgresResponseStore } from './response-store.js';
import { dropTestSchemas, testOptions } from './test-db.js';

const T0 = Date.UTC(2026, 11, 3, 12);
const V1 = '00112233aabbccdd';
const V2 = 'ffeeddccbbaa0011';
afterAll(dropTestSchemas);

const run = (over: Partial<ActionRun> & Pick<ActionRun, 'id'>): ActionRun => ({
  tenant: 'acme', incident: 'inc-1', playbook: 'pb', step: 0, action: 'notify', status: 'running', params: { channel: 'soc' }, actor: 'tok-1', startedAt: T0, ...over,
});
const req = (over: Partial<ResponseRequest> & Pick<ResponseRequest, 'id'>): ResponseRequest => ({
  tenant: 'acme', kind: 'data_collection', incident: 'inc-1', vehicles: [V1], params: { signals: ['Vehicle.Speed'] }, status: 'active', createdBy: 'tok-1', createdAt: T0, ...over,
});

describe('PostgresResponseStore', () => {
  let db: PostgresStore;
  let store: PostgresResponseStore;
  beforeEach(async () => {
    db = await PostgresStore.open(testOptions());
    store = new PostgresResponseStore(db.connection);
  });
  afterEach(() => db.close());

  it('saves, replaces, lists and deletes playbooks per tenant', async () => {
    await store.savePlaybook({ tenant: 'acme', id: 'b', definition: { title: 'B', steps: [] }, updatedBy: 'tok-1', updatedAt: T0 });
    await store.savePlaybook({ tenant: 'acme', id: 'a', definition: { title: 'A1' }, updatedBy: 'tok-1', updatedAt: T0 });
    await store.savePlaybook({ tenant: 'acme', id: 'a', definition: { title: 'A2', nested: { x: [1] } }, updatedBy: 'tok-2', updatedAt: T0 + 5 });
    await store.savePlaybook({ tenant: 'other', id: 'a', definition: { title: 'theirs' }, updatedBy: 'x', updatedAt: T0 });
    expect((await store.listPlaybooks('acme')).map((p) => [p.id, p.definition.title])).toEqual([['a', 'A2'], ['b', 'B']]);
    expect(await store.getPlaybook('acme', 'a')).toEqual({ tenant: 'acme', id: 'a', definition: { title: 'A2', nested: { x: [1] } }, updatedBy: 'tok-2', updatedAt: T0 + 5 });
    expect(await store.deletePlaybook('acme', 'a')).toBe(true);
    expect(await store.deletePlaybook('acme', 'a')).toBe(false);
    expect(await store.getPlaybook('acme', 'a')).toBeUndefined();
    expect((await store.getPlaybook('other', 'a'))?.definition).toEqual({ title: 'theirs' });
  });

  it('records action runs, finishes them, filters and pages newest first', async () => {
    await store.insertActionRun(run({ id: 'r1', step: 0 }));
    await store.insertActionRun(run({ id: 'r2', step: 1, action: 'revoke_token', params: { token: 'tok-9' } }));
    await store.insertActionRun(run({ id: 'r3', incident: 'inc-2', playbook: undefined, step: undefined, startedAt: T0 + 10 }));
    await store.insertActionRun(run({ id: 'x', tenant: 'other' }));
    expect(await store.finishActionRun('acme', 'r2', 'failed', { error: 'unknown token' }, T0 + 3)).toBe(true);
    expect(await store.finishActionRun('other', 'r2', 'failed', {}, T0 + 3)).toBe(false);
    const all = await store.listActionRuns({ tenant: 'acme', limit: 10 });
    expect(all.total).toBe(3);
    expect(all.items.map((r) => r.id)).toEqual(['r3', 'r2', 'r1']);
    expect(all.items[0]).not.toHaveProperty('playbook');
    expect(await store.getActionRun('acme', 'r2')).toEqual(run({ id: 'r2', step: 1, action: 'revoke_token', params: { token: 'tok-9' }, status: 'failed', result: { error: 'unknown token' }, finishedAt: T0 + 3 }));
    expect((await store.listActionRuns({ tenant: 'acme', incident: 'inc-1', limit: 10 })).items.map((r) => r.id)).toEqual(['r2', 'r1']);
    expect((await store.listActionRuns({ tenant: 'acme', status: 'failed', limit: 10 })).items.map((r) => r.id)).toEqual(['r2']);
    const page = await store.listActionRuns({ tenant: 'acme', limit: 1, offset: 5 });
    expect(page).toEqual({ items: [], total: 3 });
  });

  it('keeps every delivery attempt once, newest message first, attempts in order', async () => {
    const base = { tenant: 'acme', channel: 'soar', target: 'http://127.0.0.1:9/hook', event: 'notify' };
    await store.recordDeliveries([{ ...base, id: 'd1', attempt: 1, status: 'retrying', httpStatus: 503, error: 'HTTP 503', at: T0 }]);
    await store.recordDeliveries([{ ...base, id: 'd1', attempt: 2, status: 'retrying', error: 'ECONNREFUSED', at: T0 + 100 }]);
    await store.recordDeliveries([{ ...base, id: 'd1', attempt: 3, status: 'delivered', httpStatus: 204, at: T0 + 300 }]);
    await store.recordDeliveries([{ ...base, id: 'd1', attempt: 3, status: 'failed', at: T0 + 999 }]);
    const got = await store.listDeliveries({ tenant: 'acme', id: 'd1', limit: 10 });
    expect(got.total).toBe(3);
    expect(got.items.map((d) => [d.attempt, d.status, d.httpStatus ?? null, d.error ?? null])).toEqual([[3, 'delivered', 204, null], [2, 'retrying', null, 'ECONNREFUSED'], [1, 'retrying', 503, 'HTTP 503']]);
    expect((await store.listDeliveries({ tenant: 'other', limit: 10 })).total).toBe(0);
    expect((await store.listDeliveries({ tenant: 'acme', status: 'delivered', limit: 10 })).items).toHaveLength(1);
  });

  it('lists response requests by kind, vehicle and activity at a time', async () => {
    await store.insertResponseRequest(req({ id: 'c1', expiresAt: T0 + 60_000 }));
    await store.insertResponseRequest(req({ id: 'c2', vehicles: [V2], expiresAt: T0 + 1_000, createdAt: T0 + 1 }));
    await store.insertResponseRequest(req({ id: 'o1', kind: 'ota_campaign', vehicles: [V1, V2], status: 'requested', createdAt: T0 + 2 }));
    await store.insertResponseRequest(req({ id: 'o2', kind: 'ota_campaign', status: 'requested', createdAt: T0 + 3 }));
    expect(await store.setRequestStatus('acme', 'o2', 'failed')).toBe(true);
    const active = await store.listResponseRequests({ tenant: 'acme', kind: 'data_collection', activeAt: T0 + 5_000, limit: 10 });
    expect(active.items.map((r) => r.id)).toEqual(['c1']);
    expect(active.items[0]).toEqual(req({ id: 'c1', expiresAt: T0 + 60_000 }));
    expect((await store.listResponseRequests({ tenant: 'acme', vehicle: V2, limit: 10 })).items.map((r) => r.id)).toEqual(['o1', 'c2']);
    expect((await store.listResponseRequests({ tenant: 'acme', activeAt: T0 + 5_000, limit: 10 })).items.map((r) => r.id)).toEqual(['o1', 'c1']);
    expect((await store.listResponseRequests({ tenant: 'other', limit: 10 })).total).toBe(0);
  });

  it("lists an incident's distinct vehicles from its alert links", async () => {
    // Linked through the incident store, as the alert pipeline does.
    const incidents = new PostgresIncidentStore(db.connection);
    for (const [incident, alert, vehicle] of [['inc-1', 'a1', V2], ['inc-1', 'a2', V1], ['inc-1', 'a3', V2], ['inc-2', 'a4', V1]] as const) {
      await incidents.attachAlerts('acme', incident, [{ id: alert, vehicle }], T0);
    }
    expect(await store.incidentVehicles('acme', 'inc-1')).toEqual([V1, V2]);
    expect(await store.incidentVehicles('other', 'inc-1')).toEqual([]);
  });

  it('refuses malformed input before writing', async () => {
    await expect(store.insertResponseRequest(req({ id: 'bad', vehicles: ['NOT-A-KEY'] }))).rejects.toThrow(StoreError);
    await expect(store.insertActionRun(run({ id: 'bad', action: 'format_disk' as never }))).rejects.toThrow(/run.action must be one of/);
    await expect(store.recordDeliveries([{ tenant: 'acme', id: 'd', attempt: 0, channel: 'c', target: 't', event: 'e', status: 'delivered', at: T0 }])).rejects.toThrow(/attempt/);
    await expect(store.listActionRuns({ tenant: 'acme', limit: -1 })).rejects.toThrow(StoreError);
    expect((await store.listResponseRequests({ tenant: 'acme', limit: 10 })).total).toBe(0);
    expect((await store.listActionRuns({ tenant: 'acme', limit: 10 })).total).toBe(0);
  });

  it('keeps what it stored across a close and a new pool', async () => {
    const options = testOptions();
    const first = await PostgresStore.open(options);
    await new PostgresResponseStore(first.connection).insertResponseRequest(req({ id: 'c1' }));
    await first.close();
    const again = await PostgresStore.open(options);
    expect((await new PostgresResponseStore(again.connection).listResponseRequests({ tenant: 'acme', limit: 10 })).items.map((r) => r.id)).toEqual(['c1']);
    await again.close();
  });
});
