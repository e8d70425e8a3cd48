/**
 * The IncidentStore contract against the local PostgreSQL (a throw-away schema per store), and
 * the alert queries the DuckDB adapter's tests check, unchanged but for the opening.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { incident, runIncidentStoreContract } from '../../../test/contract/incident-store-contract.js';
import { ACME, GLOBEX, T0, V, alert, apiEvent, securityEvent, vehicle } from '../../../test/contract/store-fixtures.js';
import { PostgresIncidentStore } from './incident-store.js';
import { PostgresStore } from './postgres-store.js';
import { dropTestSchemas, testOptions } from './test-db.js';

afterAll(dropTestSchemas);

async function open(): Promise<{ store: PostgresStore; incidents: PostgresIncidentStore; close: () => Promise<void> }> {
  const store = await PostgresStore.open(testOptions());
  return { store, incidents: new PostgresIncidentStore(store.connection), close: () => store.close() };
}

runIncidentStoreContract('postgres', () => open());

describe('PostgresIncidentStore alert queries', () => {
  it('lists stored alerts with their outcome, filtered and paged in SQL, per tenant', async () => {
    const { store, incidents, close } = await open();
    try {
      await store.insertAlerts([
        alert(1, { rule: 'r1', severity: 'high' }),
        alert(2, { rule: 'r1', severity: 'low', vehicle: V.b }),
        alert(3, { rule: 'r2', severity: 'critical' }),
        alert(4, { rule: 'r1', severity: 'high' }),
        alert(5, { tenant: GLOBEX, rule: 'r1' }),
      ]);
      await incidents.recordOutcomes([
        { tenant: ACME, alert: 'alert-1', rule: 'r1', outcome: 'incident', ref: 'inc-1', at: T0 + 10 },
        { tenant: ACME, alert: 'alert-4', rule: 'r1', outcome: 'duplicate', ref: 'alert-1', at: T0 + 11 },
        // The same alert id in another tenant's decisions must not leak in.
        { tenant: GLOBEX, alert: 'alert-2', rule: 'r1', outcome: 'suppressed', ref: 's', at: T0 },
      ]);
      const ids = async (q: object): Promise<[string[], number]> => {
        const { items, total } = await incidents.listAlerts({ tenant: ACME, limit: 10, ...q });
        return [items.map((a) => a.id), total];
      };
      expect(await ids({})).toEqual([['alert-4', 'alert-3', 'alert-2', 'alert-1'], 4]);
      expect(await ids({ rule: 'r1', limit: 1, offset: 1 })).toEqual([['alert-2'], 3]);
      expect(await ids({ severity: ['high'] })).toEqual([['alert-4', 'alert-1'], 2]);
      expect(await ids({ vehicle: V.b })).toEqual([['alert-2'], 1]);
      expect(await ids({ since: T0 + 2000, until: T0 + 4000 })).toEqual([['alert-3', 'alert-2'], 2]);
      expect(await ids({ outcome: 'duplicate' })).toEqual([['alert-4'], 1]);
      expect(await ids({ outcome: 'pending' })).toEqual([['alert-3', 'alert-2'], 2]);
      expect(await ids({ tenant: 'initech' })).toEqual([[], 0]);

      expect(await incidents.getAlert(ACME, 'alert-1')).toEqual({ ...alert(1, { rule: 'r1', severity: 'high' }), outcome: { kind: 'incident', ref: 'inc-1', at: T0 + 10 } });
      expect(await incidents.getAlert(ACME, 'alert-2')).toEqual(alert(2, { rule: 'r1', severity: 'low', vehicle: V.b }));
      expect(await incidents.getAlert(GLOBEX, 'alert-1')).toBeUndefined();
    } finally {
      await close();
    }
  });

  it('reads a vehicle window of security and API events, and the fleet size', async () => {
    const { store, incidents, close } = await open();
    try {
      await store.insertSecurityEvents([securityEvent(1), securityEvent(2), securityEvent(5), securityEvent(3, { vehicle: V.b }), securityEvent(4, { tenant: GLOBEX })]);
      await store.insertApiEvents([apiEvent(1, { vehicle: V.a }), apiEvent(2, { vehicle: V.b }), apiEvent(3, { vehicle: V.a })]);
      await store.upsertVehicles([vehicle(V.a), vehicle(V.b), vehicle(V.max, { tenant: GLOBEX })]);
      const win = { tenant: ACME, vehicle: V.a, from: T0 + 1000, to: T0 + 5000, limit: 10 };
      expect((await incidents.securityEventsIn(win)).map((e) => e.id)).toEqual(['ids-1', 'ids-2']);
      expect((await incidents.securityEventsIn({ ...win, limit: 1 })).map((e) => e.id)).toEqual(['ids-1']);
      expect((await incidents.securityEventsIn({ ...win, tenant: GLOBEX })).map((e) => [e.id, e.tenant])).toEqual([['ids-4', GLOBEX]]);
      expect((await incidents.apiEventsIn(win)).map((e) => e.id)).toEqual(['api-1', 'api-3']);
      expect(await incidents.fleetSize(ACME)).toBe(2);
      expect(await incidents.fleetSize('initech')).toBe(0);
    } finally {
      await close();
    }
  });
});

describe('PostgresIncidentStore pipeline bookkeeping', () => {
  it('says which alerts are decided and which incidents were closed since a time', async () => {
    const { incidents, close } = await open();
    try {
      const ids = Array.from({ length: 1200 }, (_, i) => `a${i}`);
      await incidents.recordOutcomes(ids.filter((_, i) => i % 3 === 0).map((alert) => ({ tenant: ACME, alert, rule: 'r', outcome: 'incident' as const, ref: 'i', at: T0 })));
      const decided = await incidents.decidedAlerts(ACME, ids);
      expect(decided.size).toBe(400);
      expect(decided.has('a999')).toBe(true);
      expect(decided.has('a1000')).toBe(false);
      expect((await incidents.decidedAlerts(GLOBEX, ids)).size).toBe(0);

      await incidents.insertIncidents([incident(1), incident(2), incident(3, { tenant: GLOBEX })]);
      await incidents.updateIncident(ACME, 'inc-1', { state: 'resolved' }, T0 + 10_000);
      await incidents.updateIncident(GLOBEX, 'inc-3', { state: 'false_positive' }, T0 + 20_000);
      await incidents.updateIncident(ACME, 'inc-2', { state: 'triaged' }, T0 + 20_000);
      expect(await incidents.closedSince(T0 + 10_000)).toEqual(expect.arrayContaining([{ tenant: ACME, id: 'inc-1' }, { tenant: GLOBEX, id: 'inc-3' }]));
      expect(await incidents.closedSince(T0 + 15_000)).toEqual([{ tenant: GLOBEX, id: 'inc-3' }]);
    } finally {
      await close();
    }
  });
});
