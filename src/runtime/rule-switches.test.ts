import { describe, expect, it } from 'vitest';
import type { Alert } from '../core/records.js';
import { RuleSwitches, splitSwitch, switchProblem } from './rule-switches.js';

const alert = (tenant: string, rule: string, id: string): Alert => ({ id, tenant, time: 1, detectedAt: 1, rule, title: rule, severity: 'high', tags: [], details: {} });

describe('rule switches', () => {
  it('splits the switch from the parameters that change how a rule runs', () => {
    expect(splitSwitch({ enabled: false, threshold: 20 })).toEqual({ enabled: false, params: { threshold: 20 } });
    expect(splitSwitch({ threshold: 20 })).toEqual({ params: { threshold: 20 } });
    expect(switchProblem('no')).toMatch(/enabled: must be true or false/);
    expect(switchProblem(true)).toBeUndefined();
  });

  it("drops a switched-off rule's alerts of that tenant only, and keeps the array when nothing is dropped", () => {
    const s = new RuleSwitches();
    const batch = [alert('a', 'r1', '1'), alert('b', 'r1', '2'), alert('a', 'r2', '3')];
    expect(s.keep(batch)).toBe(batch);
    s.set('a', 'r1', false);
    expect(s.keep(batch).map((x) => x.id)).toEqual(['2', '3']);
    expect(s.offFor('a')).toEqual(['r1']);
    expect(s.offFor('b')).toEqual([]);
    s.set('a', 'r1', true);
    expect(s.keep(batch)).toBe(batch);
  });
});
