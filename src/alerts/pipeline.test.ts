import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import type { Alert } from '../core/records.js';
import { NO_ENRICHMENT, type Enrichment } from './enrich.js';
import { AlertPipeline } from './pipeline.js';
import { scoreRisk } from './scoring.js';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const VA = '00000000000000aa';
const VB = '00000000000000bb';

let seq = 0;
function alert(over: Partial<Alert> = {}): Alert {
  seq++;
  return {
    id: `a${seq}`, tenant: 'acme', vehicle: VA, time: T0, detectedAt: T0, rule: 'uds.session-while-moving', title: 'UDS session while moving',
    severity: 'high', tags: [], details: {}, ...over,
  };
}

function enrichment(over: Partial<Enrichment> = {}): Enrichment {
  return { ...NO_ENRICHMENT, ...over };
}

describe('AlertPipeline', () => {
  it('deduplicates the same rule, vehicle and group within the severity window, referring to the first alert', () => {
    const p = new AlertPipeline({ clock: new ManualClock(T0), dedupWindows: { info: MIN, low: MIN, medium: MIN, high: 5 * MIN, critical: MIN } });
    const first = alert();
    const r = p.process([
      first,
      alert({ time: T0 + 4 * MIN }),
      alert({ time: T0 + 2 * MIN, details: { group: { can_id: 1 } } }),
      alert({ time: T0 + 3 * MIN, vehicle: VB }),
      alert({ time: T0 + 5 * MIN }),
    ], NO_ENRICHMENT);
    expect(r.outcomes.map((o) => [o.outcome, o.outcome === 'duplicate' ? o.ref : ''])).toEqual([
      ['incident', ''], ['incident', ''], ['incident', ''], ['duplicate', first.id], ['incident', ''],
    ]);
    expect(p.counters).toMatchObject({ alerts: 5, duplicates: 1, grouped: 4 });
  });

  it('suppresses by rule, details and vehicle attributes until expiry, counting hits', () => {
    const clock = new ManualClock(T0);
    const p = new AlertPipeline({ clock });
    p.setSuppressions([{
      tenant: 'acme', id: 's1', rule: 'can.unknown-id', match: { 'details.can_id': '2015', model: 'V40' }, reason: 'bench', createdBy: 't', createdAt: T0, expiresAt: T0 + 10 * MIN, hits: 0,
    }]);
    const vehicles = new Map([[`acme/${VA}`, { model: 'V40' }], [`acme/${VB}`, { model: 'XC90' }]]);
    const r = p.process([
      alert({ rule: 'can.unknown-id', details: { can_id: 2015 } }),
      alert({ rule: 'can.unknown-id', details: { can_id: 2016 }, time: T0 + 1 }),
      alert({ rule: 'can.unknown-id', details: { can_id: 2015 }, vehicle: VB, time: T0 + 2 }),
      alert({ rule: 'can.unknown-id', details: { can_id: 2015 }, tenant: 'globex', time: T0 + 3 }),
    ], enrichment({ vehicles }));
    expect(r.outcomes.map((o) => o.outcome)).toEqual(['suppressed', 'incident', 'incident', 'incident']);
    expect(r.outcomes[0]!.ref).toBe('s1');
    expect(r.hits).toEqual(new Map([['acme', new Map([['s1', 1]])]]));
    clock.set(T0 + 10 * MIN);
    const later = p.process([alert({ rule: 'can.unknown-id', details: { can_id: 2015 }, time: T0 + 20 * MIN })], enrichment({ vehicles }));
    expect(later.outcomes[0]!.outcome).toBe('incident');
    expect(p.counters.suppressed).toBe(1);
  });

  it('groups a vehicle\'s alerts within the grouping window into one incident and opens a new one after it', () => {
    const clock = new ManualClock(T0);
    const p = new AlertPipeline({ clock, groupWindowMs: 60 * MIN });
    const first = p.process([alert({ rule: 'can.flood', severity: 'medium' })], NO_ENRICHMENT);
    expect(first.created).toHaveLength(1);
    const inc = first.created[0]!;
    expect(inc).toMatchObject({ kind: 'vehicle', groupKey: VA, vehicle: VA, state: 'new', severity: 'medium', alertCount: 1, rules: ['can.flood'] });
    expect(first.events.map((e) => e.kind)).toEqual(['created']);

    clock.set(T0 + 30 * MIN);
    const second = p.process([alert({ time: T0 + 30 * MIN, severity: 'critical' }), alert({ time: T0 + 31 * MIN, rule: 'ota.hash-mismatch' })], NO_ENRICHMENT);
    expect(second.created).toEqual([]);
    expect(second.updated).toHaveLength(1);
    expect(second.updated[0]).toMatchObject({ id: inc.id, alertCount: 3, severity: 'critical', rules: ['can.flood', 'uds.session-while-moving', 'ota.hash-mismatch'], lastAlertAt: T0 + 31 * MIN });
    // Severity rose from medium to critical: the triage SLA follows (15 min for critical).
    expect(second.updated[0]!.slaDueAt).toBe(inc.createdAt + 15 * MIN);
    expect(second.events.map((e) => [e.kind, e.incident])).toEqual([['alerts', inc.id]]);
    expect(second.attach).toEqual([{ tenant: 'acme', incident: inc.id, alerts: [{ id: second.grouped[0]!.id, vehicle: VA }, { id: second.grouped[1]!.id, vehicle: VA }] }]);

    const third = p.process([alert({ time: T0 + 92 * MIN, rule: 'can.flood' })], NO_ENRICHMENT);
    expect(third.created).toHaveLength(1);
    expect(third.created[0]!.id).not.toBe(inc.id);
    // A closed incident takes no more alerts.
    expect(p.closed('acme', third.created[0]!.id)).toBe(true);
    expect(p.process([alert({ time: T0 + 93 * MIN, rule: 'speed.spoof' })], NO_ENRICHMENT).created).toHaveLength(1);
  });

  it('forms campaign incidents from correlation alerts and tags the vehicle incidents they name', () => {
    const p = new AlertPipeline({ clock: new ManualClock(T0), campaignRules: new Set(['fleet.campaign-any-rule']) });
    const vehicleIncidents = p.process([alert({ vehicle: VA }), alert({ vehicle: VB, time: T0 + 1 })], NO_ENRICHMENT).created;
    const campaign = alert({
      rule: 'fleet.campaign-any-rule', title: 'Campaign - same detection', vehicle: undefined, severity: 'critical', time: T0 + 2,
      details: { distinct: 'vehicle', values: [VA, VB, 'cccccccccccccccc'], group: { rule: 'uds.session-while-moving' } },
    });
    const r = p.process([campaign], enrichment({ fleet: new Map([['acme', 10]]) }));
    expect(r.created).toHaveLength(1);
    const c = r.created[0]!;
    expect(c).toMatchObject({ kind: 'campaign', groupKey: 'fleet.campaign-any-rule {"rule":"uds.session-while-moving"}', vehicleCount: 3, title: 'Campaign: Campaign - same detection' });
    expect(c.context['spread']).toEqual({ vehicles: 3, fleet: 10 });
    expect(r.updated.map((i) => i.id).sort()).toEqual(vehicleIncidents.map((i) => i.id).sort());
    for (const u of r.updated) {
      expect(u.tags).toEqual([`campaign:${c.id}`]);
      expect(u.context['campaign']).toBe(c.id);
    }
    expect(r.links.map((l) => [l.a, l.relation])).toEqual([[c.id, 'campaign'], [c.id, 'campaign']]);
    // The next campaign alert of the same rule and group joins the same campaign incident.
    const again = p.process([{ ...campaign, id: 'c2', time: T0 + 7 * 60 * MIN }], NO_ENRICHMENT);
    expect(again.updated.map((i) => i.id)).toContain(c.id);
  });

  it('groups alerts carrying an intel id into one intel incident, and merges intel matches from the hook', () => {
    const p = new AlertPipeline({ clock: new ManualClock(T0) });
    const a1 = alert({ details: { cve: 'CVE-2025-1234' } });
    const a2 = alert({ vehicle: VB, rule: 'tcu.exploit', details: { intel: ['CVE-2025-1234', 'ADV-9'] }, time: T0 + 1 });
    const r = p.process([a1, a2], enrichment({ intel: new Map([[a2.id, [{ id: 'ADV-9', title: 'advisory' }]]]) }));
    expect(r.created).toHaveLength(1);
    expect(r.created[0]).toMatchObject({ kind: 'intel', groupKey: 'CVE-2025-1234', alertCount: 2, vehicleCount: 2 });
    expect(r.created[0]!.context['intel']).toEqual([{ id: 'CVE-2025-1234' }, { id: 'ADV-9', title: 'advisory' }]);
  });

  it('titles an intel incident by its item, and one of a STIX indicator by the alert (which names the indicator) rather than its UUID', () => {
    const p = new AlertPipeline({ clock: new ManualClock(T0) });
    const cve = p.process([alert({ title: 'BlueZ exploit attempt', details: { cve: 'CVE-2025-1234' } })], enrichment({})).created[0]!;
    const ind = p.process([alert({ vehicle: VB, rule: 'intel.indicator-match', title: 'connection matched threat indicator C2 relay', details: { intel: 'indicator--54664894-be4a-4c41-a886-9d545c5aff1a' } })], enrichment({})).created[0]!;
    expect(cve.title).toBe('CVE-2025-1234: BlueZ exploit attempt');
    expect(ind).toMatchObject({ kind: 'intel', groupKey: 'indicator--54664894-be4a-4c41-a886-9d545c5aff1a', title: 'Threat indicator: connection matched threat indicator C2 relay' });
  });

  it('scores risk from severity, asset criticality, exposure and fleet spread', () => {
    const p = new AlertPipeline({ clock: new ManualClock(T0) });
    const vehicles = new Map([[`acme/${VA}`, { make: 'Volvo', moving: true }]]);
    const brake = p.process([alert({ rule: 'can.brake-injection', severity: 'critical' })], enrichment({ vehicles, fleet: new Map([['acme', 1000]]) })).created[0]!;
    const ivi = p.process([alert({ rule: 'ivi.app-sideload', severity: 'low', vehicle: VB })], enrichment({ fleet: new Map([['acme', 1000]]) })).created[0]!;
    expect(brake.risk).toBe(scoreRisk({ severity: 'critical', rules: ['can.brake-injection'], moving: true, alertCount: 1, vehicles: 1, fleet: 1000 }).risk);
    expect(brake.risk).toBeGreaterThan(65);
    expect(ivi.risk).toBeLessThan(20);
    expect(brake.context['identity']).toEqual({ make: 'Volvo', moving: true });
    expect(brake.context['score']).toMatchObject({ criticality: 1, moving: true });
  });

  it('keeps its state bounded: a noisy fleet hits the caps, counted, not unbounded growth', () => {
    const p = new AlertPipeline({ clock: new ManualClock(T0), maxOpenIncidents: 50, maxDedupKeys: 100 });
    const many: Alert[] = [];
    for (let i = 0; i < 2000; i++) many.push(alert({ vehicle: i.toString(16).padStart(16, '0'), rule: `r.${i % 7}`, details: { group: { n: i } }, time: T0 + i }));
    const r = p.process(many, NO_ENRICHMENT);
    expect(r.outcomes).toHaveLength(2000);
    expect(p.state.openIncidents).toBeLessThanOrEqual(50);
    expect(p.state.dedupKeys).toBeLessThanOrEqual(100);
    expect(p.state.incidentsEvicted).toBeGreaterThan(1900);
    expect(p.state.dedupKeysEvicted).toBeGreaterThan(1800);
  });
});

describe('scoreRisk (the worked example of README.md)', () => {
  it('gives the documented figures', () => {
    expect(scoreRisk({ severity: 'high', rules: ['uds.session-while-moving'], moving: true, alertCount: 4, vehicles: 1, fleet: 200 })).toEqual({
      severity: 0.75, criticality: 0.8, exposure: 1.4, spread: 1.087, risk: 60,
    });
    expect(scoreRisk({ severity: 'critical', rules: ['fleet.campaign-any-rule', 'ota.hash-mismatch'], moving: false, alertCount: 12, vehicles: 40, fleet: 200 }).risk).toBe(86);
    expect(scoreRisk({ severity: 'low', rules: ['ivi.app-sideload'], moving: false, alertCount: 1, vehicles: 1, fleet: 200 }).risk).toBe(12);
  });
});
