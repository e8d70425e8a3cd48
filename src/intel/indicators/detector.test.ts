import { describe, expect, it } from 'vitest';
import type { ApiEvent, SecurityEvent } from '../../core/records.js';
import { parseStixPattern } from '../feeds/stix-pattern.js';
import type { Indicator } from '../model.js';
import { IndicatorDetector, indicatorSeverity, MAX_ALERTS_PER_INDICATOR } from './detector.js';
import { apiEventFacts, securityEventFacts } from './observe.js';

const T = Date.parse('2026-12-01T12:00:00Z');
const ind = (n: number, pattern: string, extra: Partial<Indicator> = {}): Indicator => ({
  id: `indicator--0000000${n}-0000-4000-8000-000000000000`, pattern, patternType: 'stix', parsed: parseStixPattern(pattern),
  labels: [], indicatorTypes: [], killChain: [], indicates: [], vulnerabilities: [], source: { kind: 'stix', document: 'test' }, ...extra,
});
const api = (i: number, over: Partial<ApiEvent> = {}): ApiEvent => ({
  id: `log-${i}`, tenant: 'acme', time: T + i * 1000, service: 'telematics', endpoint: '/v1/auth/login', source: 'test', ...over,
});
const sec = (context: Record<string, unknown>): SecurityEvent => ({
  id: 'sec-1', tenant: 'acme', vehicle: 'v1', time: T, eventId: 0x8903, name: 'TLS_PINNING_FAILED', sensor: 'TcuIds', count: 1, severity: 'high', context, source: 'test',
});

describe('facts of records', () => {
  it('reads the caller, an e-mail actor, a host-named service, and URLs, hosts, addresses and hashes in detail', () => {
    const facts = apiEventFacts(api(0, {
      sourceIp: '203.0.113.7', actor: 'Mallory@example.com', service: 'api.telematics.example.com',
      detail: { referer: 'https://evil.example.net:8443/x?y=1', sha256: 'AB'.repeat(32), imageHash: 'cd'.repeat(20), host: '[2001:db8::5]:443', chargePoint: 'CP-1', note: 'http://ignored.example/' },
    }));
    expect(facts.map((f) => [f.kind, f.field, f.value])).toEqual([
      ['ip', 'sourceIp', '203.0.113.7'],
      ['email', 'actor', 'Mallory@example.com'],
      ['domain', 'service', 'api.telematics.example.com'],
      ['url', 'detail.referer', 'https://evil.example.net:8443/x?y=1'],
      ['domain', 'detail.referer#host', 'evil.example.net'],
      ['hash', 'detail.sha256', `SHA-256:${'AB'.repeat(32)}`],
      ['hash', 'detail.imageHash', `SHA-1:${'cd'.repeat(20)}`],
      ['ip', 'detail.host', '2001:db8::5'],
    ]);
    expect(apiEventFacts(api(0, { service: 'telematics', actor: 'acct-7' }))).toEqual([]);
  });

  it('reads the remote end of connection events: host with port, domain, an address under a host key, a Bluetooth address', () => {
    expect(securityEventFacts(sec({ port: 443, host: 'api.c2.example.net' })).map((f) => [f.kind, f.value])).toEqual([['domain', 'api.c2.example.net']]);
    expect(securityEventFacts(sec({ domain: '198.51.100.4' })).map((f) => [f.kind, f.value])).toEqual([['ip', '198.51.100.4']]);
    expect(securityEventFacts(sec({ address: 'a4c1381f22e0' })).map((f) => [f.kind, f.value])).toEqual([['mac', 'a4c1381f22e0']]);
  });
});

describe('indicator alerts', () => {
  it('takes the severity from a label, the indicator types or the confidence; high by default', () => {
    expect(indicatorSeverity(ind(1, "[ipv4-addr:value = '192.0.2.1']"))).toBe('high');
    expect(indicatorSeverity(ind(1, "[ipv4-addr:value = '192.0.2.1']", { labels: ['severity:critical'] }))).toBe('critical');
    expect(indicatorSeverity(ind(1, "[ipv4-addr:value = '192.0.2.1']", { indicatorTypes: ['anomalous-activity'] }))).toBe('medium');
    expect(indicatorSeverity(ind(1, "[ipv4-addr:value = '192.0.2.1']", { indicatorTypes: ['benign'] }))).toBe('info');
    expect(indicatorSeverity(ind(1, "[ipv4-addr:value = '192.0.2.1']", { confidence: 30 }))).toBe('medium');
    expect(indicatorSeverity(ind(1, "[ipv4-addr:value = '192.0.2.1']", { confidence: 85, indicatorTypes: ['malicious-activity'] }))).toBe('high');
  });

  it('raises one alert per account and indicator in the window, and at most the cap per indicator across accounts', () => {
    const det = new IndicatorDetector([
      ind(1, "[ipv4-addr:value = '203.0.113.0/24']", { killChain: [{ killChainName: 'auto-isac-atm', phaseName: 'ATM-T0053' }], vulnerabilities: ['CVE-2024-0001'] }),
    ]);
    const one = det.process([api(0, { actor: 'acct-1', sourceIp: '203.0.113.9' }), api(1, { actor: 'acct-1', sourceIp: '203.0.113.10' })], [], T + 5000);
    expect(one).toMatchObject({ hits: 2, suppressed: 1 });
    expect(one.alerts).toEqual([expect.objectContaining({
      id: 'intel.indicator-match:log-0:indicator--00000001-0000-4000-8000-000000000000', rule: 'intel.indicator-match', time: T, detectedAt: T + 5000,
      severity: 'high', tags: ['ATM-T0053'],
      details: expect.objectContaining({ intel: 'indicator--00000001-0000-4000-8000-000000000000', cve: 'CVE-2024-0001', field: 'sourceIp', value: '203.0.113.9', account: 'acct-1' }),
    })]);
    expect(one.alerts[0]).not.toHaveProperty('vehicle');
    const many = det.process(Array.from({ length: 100 }, (_, i) => api(10 + i, { actor: `acct-x${i}`, sourceIp: '203.0.113.9' })), [], T);
    expect(many.alerts).toHaveLength(MAX_ALERTS_PER_INDICATOR - 1);
    expect(many.suppressed).toBe(100 - (MAX_ALERTS_PER_INDICATOR - 1));
    // After the window, the first account alerts again.
    expect(det.process([api(700, { actor: 'acct-1', sourceIp: '203.0.113.9' })], [], T).alerts).toHaveLength(1);
  });

  it('matches nothing with an empty set, and a new set replaces the old one', () => {
    const det = new IndicatorDetector();
    expect(det.process([api(0, { sourceIp: '192.0.2.1' })], [], T)).toEqual({ alerts: [], hits: 0, suppressed: 0 });
    det.setIndicators([ind(2, "[domain-name:value = 'c2.example.net']")]);
    expect(det.process([], [sec({ host: 'C2.example.net' })], T).alerts.map((a) => [a.vehicle, a.details['field']])).toEqual([['v1', 'context.host']]);
    det.setIndicators([]);
    expect(det.process([], [sec({ host: 'c2.example.net' })], T + 3_600_000).hits).toBe(0);
  });
});
