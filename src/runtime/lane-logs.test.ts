/** Back-end access logs and OCPP charging logs through the lane's front door. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { DEFAULT_POLICY } from '../normalize/policy.js';
import { defaultCatalog } from '../sim/default-catalog.js';
import { Lane, type InputItem } from './lane.js';

const T0 = Date.UTC(2026, 10, 25, 8, 0, 0);
/** A real country database (ip-location-db, CC BY 4.0), a dev dependency used only by tests. */
const GEOIP_TEST_DATABASE = new URL('../../node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb', import.meta.url);
const catalog = defaultCatalog();
const lane = (): Lane =>
  new Lane({ catalog: catalog.specs(), catalogIds: catalog.idMap(), policy: DEFAULT_POLICY, secret: 'test-secret-0123456789' }, new ManualClock(T0 + 60_000));
const log = (payload: string, encoding: InputItem['encoding'], context?: InputItem['context']): InputItem => ({
  kind: 'log', tenant: 'acme', source: 'test', payload, encoding, receivedAt: T0 + 1, ...(context ? { context } : {}),
});

describe('lane: back-end logs', () => {
  it('links a CLF request to the vehicle by the VIN in its path, pseudonymized, with the endpoint templated', () => {
    const out = lane().process([
      log('203.0.113.7 - acct-1842 [25/Nov/2026:08:00:00 +0000] "POST /v1/vehicles/1HGCM82633A004352/unlock HTTP/1.1" 200 48 "-" "VigilApp/4.2.1 (iOS 18.1)"', 'clf', { service: 'telematics' }),
      log('{"@timestamp":"2026-11-25T08:00:01Z","remote_addr":"203.0.113.7","request":"GET /v1/vehicles/1HGCM82633A004352/status HTTP/1.1","status":"200"}', 'accesslog-json', { service: 'telematics' }),
    ]);
    expect(out.deadLetters).toEqual([]);
    expect(out.logs).toHaveLength(2);
    const [unlock, status] = out.logs;
    expect(unlock).toMatchObject({ service: 'telematics', endpoint: '/v1/vehicles/{vin}/unlock', method: 'POST', status: 200, actor: 'acct-1842', sourceIp: '203.0.113.7', userAgent: 'VigilApp/4.2.1 (iOS 18.1)' });
    expect(unlock!.vehicle).toMatch(/^[0-9a-f]{16}$/);
    expect(status!.vehicle).toBe(unlock!.vehicle);
    expect(JSON.stringify(out.logs)).not.toContain('1HGCM82633A004352');
  });

  it('keeps a request naming an invalid VIN (enumeration evidence), unlinked and marked, and dead-letters unreadable lines', () => {
    const out = lane().process([
      log('198.51.100.9 - - [25/Nov/2026:08:00:00 +0000] "POST /v1/vehicles/1HGCM82633A004353/unlock HTTP/1.1" 404 0 "-" "python-requests/2.32"', 'clf'),
      log('garbage', 'clf'),
      log('{"remote_addr":"1.2.3.4"}', 'accesslog-json'),
    ]);
    expect(out.logs).toHaveLength(1);
    expect(out.logs[0]).toMatchObject({ service: 'http', endpoint: '/v1/vehicles/{vin}/unlock', status: 404, detail: { vinInvalid: true } });
    expect(out.logs[0]).not.toHaveProperty('vehicle');
    expect(out.deadLetters.map((d) => d.code)).toEqual(['clf.shape', 'time.invalid']);
    expect(out.stats.messagesRejected).toBe(2);
  });

  it('resolves OCPP results to their call across hand-overs, within one lane', () => {
    const l = lane();
    const frame = (f: unknown[], direction: 'in' | 'out') => JSON.stringify({ ts: T0, chargePoint: 'CP-0042', direction, ip: '198.51.100.7', frame: f });
    const first = l.process([log(frame([2, 'a-1', 'Authorize', { idTag: 'DEADBEEF' }], 'in'), 'ocpp')]);
    expect(first.logs[0]).toMatchObject({ service: 'charging', endpoint: 'ocpp/1.6/Authorize', method: 'CALL', actor: 'DEADBEEF', detail: { chargePoint: 'CP-0042' } });
    const second = l.process([
      log(frame([3, 'a-1', { idTagInfo: { status: 'Invalid' } }], 'out'), 'ocpp'),
      log('[2,"s-1","SecurityEventNotification",{"type":"FirmwareUpdated","timestamp":"2026-11-25T08:00:00Z"}]', 'ocpp', { chargePoint: 'CP-0042', direction: 'in' }),
    ]);
    expect(second.logs.map((e) => [e.endpoint, e.status, e.actor])).toEqual([
      ['ocpp/1.6/Authorize', 401, 'DEADBEEF'],
      ['ocpp/1.6/SecurityEventNotification', undefined, 'CP-0042'],
    ]);
    expect(second.logs[1]!.time).toBe(T0 + 1); // a plain frame takes the receive time
    expect(second.logs[1]!.detail).toMatchObject({ securityEvent: 'FirmwareUpdated' });
  });
});

describe('lane: API callers located by a geo-IP database', () => {
  const database = readFileSync(GEOIP_TEST_DATABASE);
  const access = (ip: string, minute: number): InputItem =>
    log(`{"@timestamp":"2026-11-25T08:${String(minute).padStart(2, '0')}:00Z","remote_addr":"${ip}","remote_user":"acct-5","request":"GET /v1/vehicles/1HGCM82633A004352/status HTTP/1.1","status":"200"}`, 'accesslog-json', { service: 'telematics' });
  const rules = [{ file: 'api-session-abuse.yaml', text: readFileSync(new URL('../../rules/detections/api-session-abuse.yaml', import.meta.url), 'utf8') }];

  it('adds the country of routable addresses and none for private ones', () => {
    const l = new Lane({ catalog: catalog.specs(), catalogIds: catalog.idMap(), policy: DEFAULT_POLICY, secret: 'test-secret-0123456789', geoip: database }, new ManualClock(T0 + 3_600_000));
    const out = l.process([access('193.99.144.80', 0), access('200.160.2.3', 1), access('10.1.2.3', 2), access('2001:12ff::1', 3)]);
    expect(out.logs.map((e) => e.detail?.['geoCountry'])).toEqual(['DE', 'BR', undefined, 'BR']);
  });

  it('raises api.token-used-from-two-countries for one account in Germany then Brazil, not for one country', () => {
    const run = (ips: string[]): string[] => {
      const l = new Lane({ catalog: catalog.specs(), catalogIds: catalog.idMap(), policy: DEFAULT_POLICY, secret: 'test-secret-0123456789', geoip: database, rules }, new ManualClock(T0 + 3_600_000));
      return l.process(ips.map((ip, i) => access(ip, i * 10))).alerts.map((a) => a.rule);
    };
    expect(run(['193.99.144.80', '193.99.144.80', '200.160.2.3'])).toContain('api.token-used-from-two-countries');
    expect(run(['193.99.144.80', '193.99.144.85', '193.99.144.80'])).not.toContain('api.token-used-from-two-countries');
  });
});

describe('lane: OCPP meter readings reach the charging rules', () => {
  it('a register running backwards and a session ending below its start raise the meter-fraud rules', () => {
    const rules = [{ file: 'charging-meter.yaml', text: readFileSync(new URL('../../rules/detections/charging-meter.yaml', import.meta.url), 'utf8') }];
    const l = new Lane({ catalog: catalog.specs(), catalogIds: catalog.idMap(), policy: DEFAULT_POLICY, secret: 'test-secret-0123456789', rules }, new ManualClock(T0 + 3_600_000));
    const frame = (f: unknown[], direction: 'in' | 'out', at: number) => log(JSON.stringify({ ts: T0 + at, chargePoint: 'CP-0042', direction, ip: '198.51.100.7', frame: f }), 'ocpp');
    const meter = (id: string, wh: number, at: number) =>
      frame([2, id, 'MeterValues', { connectorId: 1, transactionId: 7, meterValue: [{ timestamp: new Date(T0 + at).toISOString(), sampledValue: [{ value: String(wh), unit: 'Wh' }] }] }], 'in', at);
    const out = l.process([
      frame([2, 's-1', 'StartTransaction', { connectorId: 1, idTag: '04A2B3C4D5E6F7', meterStart: 120_000, timestamp: new Date(T0).toISOString() }], 'in', 0),
      frame([3, 's-1', { transactionId: 7, idTagInfo: { status: 'Accepted' } }], 'out', 100),
      meter('m-1', 125_500, 60_000),
      meter('m-2', 126_900, 120_000),
    ]);
    expect(out.alerts).toEqual([]);
    const fraud = l.process([
      meter('m-3', 119_000, 180_000),
      frame([2, 's-2', 'StopTransaction', { transactionId: 7, meterStop: 118_000, timestamp: new Date(T0 + 240_000).toISOString() }], 'in', 240_000),
    ]);
    expect(fraud.alerts.map((a) => a.rule).sort()).toEqual(['charging.meter-register-backwards', 'charging.session-energy-implausible']);
  });
});
