import { describe, expect, it } from 'vitest';
import type { Incident, IncidentState } from './model.js';
import { INCIDENT_STATES } from './model.js';
import { DEFAULT_SLA, TRANSITIONS, slaBreached, slaDueAt, transition } from './workflow.js';

const T0 = Date.UTC(2026, 2, 1, 9);
const MIN = 60_000;

function incident(over: Partial<Incident> = {}): Incident {
  return {
    tenant: 'acme', id: 'inc-1', kind: 'vehicle', groupKey: 'v', title: 't', state: 'new', severity: 'critical', risk: 50,
    tags: [], rules: ['r'], vehicleCount: 1, alertCount: 1, firstAlertAt: T0, lastAlertAt: T0, createdAt: T0, updatedAt: T0,
    slaDueAt: T0 + 15 * MIN, context: {}, ...over,
  };
}

describe('incident workflow', () => {
  it('allows exactly the documented transitions and lists the allowed ones otherwise', () => {
    const legal: [IncidentState, IncidentState][] = [];
    for (const from of INCIDENT_STATES) {
      for (const to of INCIDENT_STATES) {
        const r = transition(incident({ state: from }), to, T0 + MIN);
        if (r.ok) legal.push([from, to]);
        else expect(r.allowed).toEqual(TRANSITIONS[from]);
      }
    }
    expect(legal.map(([a, b]) => `${a}->${b}`).sort()).toEqual([
      'contained->investigating', 'contained->resolved',
      'false_positive->triaged',
      'investigating->contained', 'investigating->false_positive', 'investigating->resolved',
      'new->false_positive', 'new->investigating', 'new->resolved', 'new->triaged',
      'resolved->investigating',
      'triaged->false_positive', 'triaged->investigating', 'triaged->resolved',
    ]);
    expect(transition(incident(), 'new', T0).ok).toBe(false);
  });

  it('runs the triage timer while new, the resolve timer after, none once closed', () => {
    const created = incident({ severity: 'high', slaDueAt: slaDueAt('new', 'high', T0) });
    expect(created.slaDueAt).toBe(T0 + 60 * MIN);
    const triaged = transition(created, 'triaged', T0 + 30 * MIN, DEFAULT_SLA, 'looks real');
    expect(triaged).toEqual({
      ok: true,
      patch: { state: 'triaged', slaDueAt: T0 + 24 * 60 * MIN },
      event: { from: 'new', to: 'triaged', reason: 'looks real', sla: { dueAt: T0 + 60 * MIN, met: true }, slaDueAt: T0 + 24 * 60 * MIN },
    });
    const late = transition(created, 'investigating', T0 + 61 * MIN);
    expect(late.ok && late.event['sla']).toEqual({ dueAt: T0 + 60 * MIN, met: false });
    const resolved = transition({ ...created, state: 'contained', slaDueAt: T0 + 24 * 60 * MIN }, 'resolved', T0 + 2 * 60 * MIN);
    expect(resolved.ok && resolved.patch).toEqual({ state: 'resolved', slaDueAt: null, closedAt: T0 + 2 * 60 * MIN });
    expect(resolved.ok && resolved.event['sla']).toEqual({ dueAt: T0 + 24 * 60 * MIN, met: true });
  });

  it('restarts the resolve timer on reopen and clears closedAt', () => {
    const closed = incident({ state: 'resolved', severity: 'critical', slaDueAt: undefined, closedAt: T0 + MIN });
    const r = transition(closed, 'investigating', T0 + 10 * 60 * MIN);
    expect(r.ok && r.patch).toEqual({ state: 'investigating', slaDueAt: T0 + 10 * 60 * MIN + 4 * 60 * MIN, closedAt: null, context: { reopenedAt: T0 + 10 * 60 * MIN } });
    // Later moves keep counting from the reopen, not from creation.
    const reopened = incident({ state: 'investigating', context: { reopenedAt: T0 + 10 * 60 * MIN } });
    const contained = transition(reopened, 'contained', T0 + 11 * 60 * MIN);
    expect(contained.ok && contained.patch.slaDueAt).toBe(T0 + 14 * 60 * MIN);
  });

  it('has SLA times per severity, shortest for critical, and a breach only past due', () => {
    const order = ['critical', 'high', 'medium', 'low', 'info'] as const;
    for (let i = 1; i < order.length; i++) {
      expect(DEFAULT_SLA[order[i]!].triageMs).toBeGreaterThan(DEFAULT_SLA[order[i - 1]!].triageMs);
      expect(DEFAULT_SLA[order[i]!].resolveMs).toBeGreaterThan(DEFAULT_SLA[order[i - 1]!].resolveMs);
    }
    expect(slaDueAt('new', 'low', T0)).toBe(T0 + 3 * 24 * 60 * MIN);
    expect(slaDueAt('investigating', 'low', T0)).toBe(T0 + 30 * 24 * 60 * MIN);
    expect(slaDueAt('false_positive', 'low', T0)).toBeUndefined();
    expect(slaBreached({ slaDueAt: T0 }, T0)).toBe(false);
    expect(slaBreached({ slaDueAt: T0 }, T0 + 1)).toBe(true);
    expect(slaBreached({}, T0 + 1)).toBe(false);
  });
});
