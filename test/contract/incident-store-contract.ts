/**
 * The IncidentStore contract (src/alerts/ports.ts): every adapter runs this suite unchanged.
 * It speaks only the port and asserts what comes back: round trips, filters, sorting, paging
 * with totals, idempotent links and outcomes, the noise figures, and tenant scope (a row of
 * another tenant is never read, changed or counted).
 *
 *   runIncidentStoreContract('duckdb', async () => { ...; return { incidents, close } });
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Incident, Suppression } from '../../src/alerts/model.js';
import type { IncidentStore } from '../../src/alerts/ports.js';
import { ACME, GLOBEX, T0, V } from './store-fixtures.js';

export interface IncidentStoreHandle {
  readonly incidents: IncidentStore;
  close(): Promise<void>;
}

export function incident(n: number, over: Partial<Incident> = {}): Incident {
  return {
    tenant: ACME,
    id: `inc-${n}`,
    kind: 'vehicle',
    groupKey: V.a,
    title: `incident ${n}`,
    state: 'new',
    severity: 'medium',
    risk: 10 + n,
    tags: [],
    vehicle: V.a,
    rules: ['can.unknown-id'],
    vehicleCount: 1,
    alertCount: 1,
    firstAlertAt: T0 + n * 1000,
    lastAlertAt: T0 + n * 1000,
    createdAt: T0 + n * 1000,
    updatedAt: T0 + n * 1000,
    context: {},
    ...over,
  };
}

export function suppression(n: number, over: Partial<Suppression> = {}): Suppression {
  return {
    tenant: ACME,
    id: `sup-${n}`,
    rule: 'can.unknown-id',
    match: { 'details.can_id': 2015, model: 'V40' },
    reason: 'test bench traffic',
    createdBy: 'tok-1',
    createdAt: T0,
    expiresAt: T0 + 3_600_000,
    hits: 0,
    ...over,
  };
}

export function runIncidentStoreContract(name: string, make: () => Promise<IncidentStoreHandle>): void {
  describe(`IncidentStore contract: ${name}`, () => {
    let h: IncidentStoreHandle;
    let s: IncidentStore;
    beforeEach(async () => {
      h = await make();
      s = h.incidents;
    });
    afterEach(async () => {
      await h.close();
    });

    it('round-trips an incident with every field, and updates it in its tenant only', async () => {
      const full = incident(1, {
        kind: 'campaign', groupKey: 'fleet.unknown-id|all', vehicle: V.max, assignee: 'alice', tags: ['campaign:c1', 'ota'],
        rules: ['a', 'b'], vehicleCount: 3, alertCount: 7, slaDueAt: T0 + 5000.5, closedAt: T0 + 9000, state: 'triaged',
        context: { make: 'Volvo', spread: { vehicles: 3, fleet: 20 }, intel: [] },
      });
      const bare = incident(2, { vehicle: undefined, kind: 'intel', groupKey: 'CVE-2024-0001' });
      delete (bare as { vehicle?: string }).vehicle;
      await s.insertIncidents([full, bare]);
      expect(await s.getIncident(ACME, 'inc-1')).toEqual(full);
      expect(await s.getIncident(ACME, 'inc-2')).toEqual(bare);
      expect(await s.getIncident(GLOBEX, 'inc-1')).toBeUndefined();
      // A retried write of the same id changes nothing: the first write wins.
      await s.insertIncidents([{ ...full, title: 'again' }]);
      expect((await s.getIncident(ACME, 'inc-1'))!.title).toBe('incident 1');

      const updated = await s.updateIncident(ACME, 'inc-1', { state: 'investigating', assignee: null, risk: 88, alertCount: 9, lastAlertAt: T0 + 20_000, slaDueAt: null, tags: ['x'] }, T0 + 30_000);
      expect(updated).toEqual({
        ...full, state: 'investigating', risk: 88, alertCount: 9, lastAlertAt: T0 + 20_000, tags: ['x'], updatedAt: T0 + 30_000,
        assignee: undefined, slaDueAt: undefined,
      } satisfies Incident);
      expect(updated).not.toHaveProperty('assignee');
      expect(updated).not.toHaveProperty('slaDueAt');
      expect(await s.updateIncident(GLOBEX, 'inc-1', { state: 'resolved' }, T0)).toBeUndefined();
      expect(await s.updateIncident(ACME, 'nope', { state: 'resolved' }, T0)).toBeUndefined();
      expect((await s.getIncident(ACME, 'inc-1'))!.state).toBe('investigating');
    });

    it('lists with filters, sorting and paging in the store, with the total of all matches', async () => {
      await s.insertIncidents([
        incident(1, { severity: 'low', risk: 50, rules: ['r1'], tags: ['t'], vehicle: V.a }),
        incident(2, { severity: 'critical', risk: 20, rules: ['r1', 'r2'], vehicle: V.b, assignee: 'bob' }),
        incident(3, { severity: 'high', risk: 90, rules: ['r2'], state: 'resolved', vehicle: V.a }),
        incident(4, { severity: 'high', risk: 70, kind: 'campaign', rules: ['r3'], tags: ['t'] }),
        incident(5, { tenant: GLOBEX, severity: 'critical', rules: ['r1'] }),
      ]);
      const ids = async (q: Partial<Parameters<IncidentStore['listIncidents']>[0]>): Promise<[string[], number]> => {
        const { items, total } = await s.listIncidents({ tenant: ACME, limit: 100, ...q });
        return [items.map((i) => i.id), total];
      };
      expect(await ids({})).toEqual([['inc-4', 'inc-3', 'inc-2', 'inc-1'], 4]);
      expect(await ids({ limit: 2, offset: 1 })).toEqual([['inc-3', 'inc-2'], 4]);
      expect(await ids({ offset: 10 })).toEqual([[], 4]);
      expect(await ids({ sort: { field: 'severity', desc: true } })).toEqual([['inc-2', 'inc-3', 'inc-4', 'inc-1'], 4]);
      expect(await ids({ sort: { field: 'risk', desc: false } })).toEqual([['inc-2', 'inc-1', 'inc-4', 'inc-3'], 4]);
      expect(await ids({ state: ['new'], rule: 'r1' })).toEqual([['inc-2', 'inc-1'], 2]);
      expect(await ids({ severity: ['high', 'critical'], limit: 1 })).toEqual([['inc-4'], 3]);
      expect(await ids({ kind: 'campaign' })).toEqual([['inc-4'], 1]);
      expect(await ids({ vehicle: V.b })).toEqual([['inc-2'], 1]);
      expect(await ids({ vehicle: 'not-a-key' })).toEqual([[], 0]);
      expect(await ids({ tag: 't' })).toEqual([['inc-4', 'inc-1'], 2]);
      expect(await ids({ assignee: 'bob' })).toEqual([['inc-2'], 1]);
      expect(await ids({ since: T0 + 2000, until: T0 + 4000 })).toEqual([['inc-3', 'inc-2'], 2]);
      expect(await ids({ tenant: 'initech' })).toEqual([[], 0]);
      expect((await s.openIncidents(ACME)).map((i) => i.id)).toEqual(['inc-1', 'inc-2', 'inc-4']);
      expect((await s.openIncidents()).map((i) => i.id).sort()).toEqual(['inc-1', 'inc-2', 'inc-4', 'inc-5']);
    });

    it('updates several incidents from what each one stores now, in its tenant only', async () => {
      await s.insertIncidents([incident(1, { tags: ['analyst'] }), incident(2), incident(3, { tenant: GLOBEX })]);
      const seen: string[] = [];
      const saved = await s.updateIncidents(
        [{ tenant: ACME, id: 'inc-1' }, { tenant: ACME, id: 'inc-2' }, { tenant: ACME, id: 'inc-3' }, { tenant: ACME, id: 'nope' }],
        (stored) => {
          seen.push(stored.id);
          return stored.id === 'inc-2' ? undefined : { alertCount: stored.alertCount + 4, tags: [...stored.tags, 'campaign:c1'] };
        },
        T0 + 50_000,
      );
      expect(seen.sort()).toEqual(['inc-1', 'inc-2']);
      expect(saved).toEqual([{ ...incident(1, { tags: ['analyst'] }), alertCount: 5, tags: ['analyst', 'campaign:c1'], updatedAt: T0 + 50_000 }]);
      expect(await s.getIncident(ACME, 'inc-2')).toEqual(incident(2));
      expect(await s.getIncident(GLOBEX, 'inc-3')).toEqual(incident(3, { tenant: GLOBEX }));
    });

    it('links alerts of several incidents in one write, each once', async () => {
      await s.insertIncidents([incident(1), incident(2)]);
      const links = [{ tenant: ACME, incident: 'inc-1', alerts: [{ id: 'a1', vehicle: V.a }, { id: 'a2' }] }, { tenant: ACME, incident: 'inc-2', alerts: [{ id: 'a3' }] }];
      expect(await s.attachAlertsMany(links, T0)).toBe(3);
      expect(await s.attachAlertsMany([...links, { tenant: GLOBEX, incident: 'inc-1', alerts: [{ id: 'a1' }] }], T0)).toBe(1);
      expect(await s.incidentAlertIds(ACME, 'inc-1', { limit: 10 })).toEqual(['a2', 'a1']);
      expect(await s.incidentAlertIds(GLOBEX, 'inc-1', { limit: 10 })).toEqual(['a1']);
    });

    it('links alerts once and lists them newest first, per tenant', async () => {
      await s.insertIncidents([incident(1)]);
      expect(await s.attachAlerts(ACME, 'inc-1', [{ id: 'al-1', vehicle: V.a }, { id: 'al-2' }], T0)).toBe(2);
      expect(await s.attachAlerts(ACME, 'inc-1', [{ id: 'al-2' }, { id: 'al-3', vehicle: V.b }], T0 + 1000)).toBe(1);
      expect(await s.attachAlerts(GLOBEX, 'inc-1', [{ id: 'al-9' }], T0)).toBe(1);
      expect(await s.incidentAlertIds(ACME, 'inc-1', { limit: 10 })).toEqual(['al-3', 'al-2', 'al-1']);
      expect(await s.incidentAlertIds(ACME, 'inc-1', { limit: 1, offset: 1 })).toEqual(['al-2']);
      expect(await s.incidentAlertIds(GLOBEX, 'inc-1', { limit: 10 })).toEqual(['al-9']);
    });

    it('keeps the first outcome of an alert and reports noise per rule since a time', async () => {
      await s.recordOutcomes([
        { tenant: ACME, alert: 'a1', rule: 'r1', outcome: 'incident', ref: 'inc-1', at: T0 },
        { tenant: ACME, alert: 'a2', rule: 'r1', outcome: 'duplicate', ref: 'a1', at: T0 + 1 },
        { tenant: ACME, alert: 'a3', rule: 'r1', outcome: 'incident', ref: 'inc-1', at: T0 + 2 },
        { tenant: ACME, alert: 'a4', rule: 'r1', outcome: 'incident', ref: 'inc-2', at: T0 + 3 },
        { tenant: ACME, alert: 'a5', rule: 'r2', outcome: 'suppressed', ref: 'sup-1', at: T0 + 4 },
        { tenant: GLOBEX, alert: 'a6', rule: 'r1', outcome: 'incident', ref: 'inc-9', at: T0 },
      ]);
      await s.recordOutcomes([{ tenant: ACME, alert: 'a1', rule: 'r1', outcome: 'suppressed', ref: 'sup-1', at: T0 + 9 }]);
      expect(await s.noise(ACME)).toEqual([
        { rule: 'r1', alerts: 4, duplicates: 1, suppressed: 0, incidentAlerts: 3, incidents: 2 },
        { rule: 'r2', alerts: 1, duplicates: 0, suppressed: 1, incidentAlerts: 0, incidents: 0 },
      ]);
      expect(await s.noise(ACME, T0 + 3)).toEqual([
        { rule: 'r1', alerts: 1, duplicates: 0, suppressed: 0, incidentAlerts: 1, incidents: 1 },
        { rule: 'r2', alerts: 1, duplicates: 0, suppressed: 1, incidentAlerts: 0, incidents: 0 },
      ]);
      expect(await s.noise('initech')).toEqual([]);
    });

    it('saves, replaces and reads evidence per tenant', async () => {
      const ev = { signals: [{ time: T0, path: 'Vehicle.Speed', value: 50.5 }], twin: { make: 'Volvo' } };
      await s.saveEvidence(ACME, 'a1', ev, T0);
      expect(await s.getEvidence(ACME, 'a1')).toEqual({ capturedAt: T0, evidence: ev });
      await s.saveEvidence(ACME, 'a1', { frames: [] }, T0 + 1);
      expect(await s.getEvidence(ACME, 'a1')).toEqual({ capturedAt: T0 + 1, evidence: { frames: [] } });
      expect(await s.getEvidence(GLOBEX, 'a1')).toBeUndefined();
    });

    it('keeps suppressions: active ones, expiry, hits, per tenant', async () => {
      const anyRule = suppression(2, { expiresAt: T0 + 1000, vehicle: V.b, match: {} });
      delete (anyRule as { rule?: string }).rule;
      await s.insertSuppression(suppression(1));
      await s.insertSuppression(anyRule);
      await s.insertSuppression(suppression(3, { tenant: GLOBEX }));
      const acme = await s.listSuppressions({ tenant: ACME, limit: 10 });
      expect(acme.total).toBe(2);
      expect(acme.items.find((x) => x.id === 'sup-2')).toEqual(anyRule);
      expect(await s.listSuppressions({ tenant: ACME, activeAt: T0 + 1000, limit: 10 })).toEqual({ items: [suppression(1)], total: 1 });
      expect((await s.activeSuppressions(T0 + 500)).map((x) => `${x.tenant}/${x.id}`).sort()).toEqual(['acme/sup-1', 'acme/sup-2', 'globex/sup-3']);

      await s.addSuppressionHits(ACME, new Map([['sup-1', 3], ['sup-3', 5]]));
      await s.addSuppressionHits(ACME, new Map([['sup-1', 2]]));
      const active = await s.activeSuppressions(T0 + 2000);
      expect(active.map((x) => [x.id, x.hits])).toEqual([['sup-1', 5], ['sup-3', 0]]);

      expect(await s.expireSuppression(GLOBEX, 'sup-1', T0 + 10)).toBe(false);
      expect(await s.expireSuppression(ACME, 'sup-1', T0 + 10)).toBe(true);
      expect(await s.expireSuppression(ACME, 'unknown', T0 + 10)).toBe(false);
      expect((await s.activeSuppressions(T0 + 20)).map((x) => x.id)).toEqual(['sup-2', 'sup-3']);
    });
  });
}
