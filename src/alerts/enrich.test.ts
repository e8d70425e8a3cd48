import { describe, expect, it } from 'vitest';
import type { Alert } from '../core/records.js';
import { MAX_INTEL_PER_ALERT, relevantIntel, type VehicleExposure } from './enrich.js';

const alert = (over: Partial<Alert> = {}): Alert => ({
  id: 'a1', tenant: 't', vehicle: '00000000000000aa', time: 0, detectedAt: 0, rule: 'uds.session-while-moving', title: 'UDS session', severity: 'high', tags: [], details: {}, ...over,
});
const vuln = (id: string, ecu: string, over: Partial<VehicleExposure> = {}): VehicleExposure => ({
  id, title: id, result: 'affected', cvss: 5, epss: null, kev: false, withdrawn: false, ecus: [{ ecu, softwareVersion: '1.0' }], ...over,
});

describe('relevantIntel: the vulnerabilities of the vehicle an alert carries', () => {
  const list = [
    vuln('CVE-IVI-LOW', 'IVI', { cvss: 3 }),
    vuln('CVE-TCU-REVIEW', 'TCU', { result: 'needs_review', cvss: 9 }),
    vuln('CVE-IVI-KEV', 'IVI', { kev: true, cvss: 4 }),
    vuln('CVE-TCU', 'tcu', { cvss: 6 }),
    vuln('CVE-GONE', 'TCU', { withdrawn: true, cvss: 10 }),
  ];

  it('those on an ECU the alert names (rule, title or tag, any case) first, then affected, KEV, CVSS; withdrawn never', () => {
    const m = relevantIntel(alert({ rule: 'tcu.modem-exploit' }), list);
    expect(m.map((x) => [x.id, x.relevance])).toEqual([
      ['CVE-TCU', 'ecu'], ['CVE-TCU-REVIEW', 'ecu'], ['CVE-IVI-KEV', 'vehicle'], ['CVE-IVI-LOW', 'vehicle'],
    ]);
    expect(m[0]).toMatchObject({ source: 'exposure', result: 'affected', ecus: ['tcu'] });
    expect(relevantIntel(alert({ tags: ['IVI'] }), list).map((x) => x.id).slice(0, 2)).toEqual(['CVE-IVI-KEV', 'CVE-IVI-LOW']);
  });

  it('an alert naming no ECU gets the top ones by result, KEV and CVSS; a part of a word names nothing', () => {
    expect(relevantIntel(alert({ rule: 'tcuX-flood' }), list).map((x) => x.relevance)).toEqual(['vehicle', 'vehicle', 'vehicle', 'vehicle']);
    expect(relevantIntel(alert(), list)[0]!.id).toBe('CVE-IVI-KEV');
  });

  it(`at most ${MAX_INTEL_PER_ALERT}; a vehicle exposed to nothing adds nothing`, () => {
    const many = Array.from({ length: 9 }, (_, i) => vuln(`CVE-${i}`, 'BCM', { cvss: i }));
    expect(relevantIntel(alert(), many)).toHaveLength(MAX_INTEL_PER_ALERT);
    expect(relevantIntel(alert(), [])).toEqual([]);
  });
});
