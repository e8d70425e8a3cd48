import { describe, expect, it } from 'vitest';
import { decodeLog } from '../json.js';
import { decodeAccessJson } from './access-json.js';

function decode(o: unknown, service?: string) {
  const wire = decodeAccessJson(typeof o === 'string' ? o : JSON.stringify(o), service ? { service } : {});
  return wire.ok ? decodeLog(wire.value) : wire;
}

describe('JSON access logs', () => {
  it('maps an nginx escape=json log_format line', () => {
    const r = decode({
      time_local: '25/Nov/2026:09:00:00 +0100', remote_addr: '203.0.113.7', remote_user: '', request: 'POST /v1/vehicles/1HGCM82633A004352/unlock HTTP/1.1',
      status: '403', body_bytes_sent: '0', http_referer: '', http_user_agent: 'python-requests/2.32.3', request_time: '0.004', upstream: '10.1.2.3:8080',
    }, 'telematics');
    expect(r).toEqual({
      ok: true,
      value: {
        ts: Date.UTC(2026, 10, 25, 8, 0, 0), service: 'telematics', method: 'POST', endpoint: '/v1/vehicles/{vin}/unlock',
        vin: '1HGCM82633A004352', vinFrom: 'path', status: 403, ip: '203.0.113.7', ua: 'python-requests/2.32.3',
      },
    });
  });

  it('maps an Envoy JSON access log, with the service from the upstream cluster and the port stripped', () => {
    const r = decode({
      start_time: '2026-11-25T08:00:00.123456Z', method: 'GET', path: '/v1/vehicles/5YJ3E1EA7KF317001/location', protocol: 'HTTP/2',
      response_code: 200, response_flags: '-', downstream_remote_address: '[2001:db8::7]:51234', user_agent: 'VigilApp/4.2.1 (Android 15)',
      upstream_cluster: 'telematics-api', duration: 12,
    });
    expect(r.ok && r.value).toMatchObject({
      ts: Date.UTC(2026, 10, 25, 8, 0, 0, 123), service: 'telematics-api', method: 'GET', endpoint: '/v1/vehicles/{vin}/location',
      status: 200, ip: '2001:db8::7', ua: 'VigilApp/4.2.1 (Android 15)',
    });
  });

  it('maps an ALB-style record and an ECS document', () => {
    const alb = decode({
      time: '2026-11-25T08:00:00.000000Z', client: '198.51.100.4:40211', elb_status_code: '502',
      request: 'GET https://api.example.com:443/v1/vehicles?page=2 HTTP/1.1', user_agent: 'curl/8.5.0',
    }, 'app');
    expect(alb.ok && alb.value).toMatchObject({ service: 'app', method: 'GET', endpoint: '/v1/vehicles', status: 502, ip: '198.51.100.4' });
    const ecs = decode({
      '@timestamp': '2026-11-25T08:00:00Z', service: { name: 'charging-portal' }, source: { ip: '192.0.2.44' },
      http: { request: { method: 'delete' }, response: { status_code: 204 } }, url: { original: '/v1/cards/4711' },
      user_agent: { original: 'Mozilla/5.0' }, user: { name: 'ops-7' },
    });
    expect(ecs.ok && ecs.value).toMatchObject({
      service: 'charging-portal', method: 'DELETE', endpoint: '/v1/cards/{id}', status: 204, ip: '192.0.2.44', ua: 'Mozilla/5.0', actor: 'ops-7',
    });
  });

  it('keeps the host asked for and the referer in detail, for threat indicators', () => {
    const nginx = decode({ time_iso8601: '2026-11-25T08:00:00+00:00', remote_addr: '203.0.113.7', http_host: 'api.example.com', request: 'GET /v1/vehicles HTTP/1.1', status: 200, http_referer: 'https://evil.example.net/x' });
    expect(nginx.ok && nginx.value.detail).toEqual({ host: 'api.example.com', referer: 'https://evil.example.net/x' });
    const alb = decode({ time: '2026-11-25T08:00:00Z', client: '198.51.100.4:40211', request: 'GET https://user@api.example.com:443/v1/x HTTP/1.1', elb_status_code: 200 }, 'app');
    expect(alb.ok && alb.value.detail).toEqual({ host: 'api.example.com:443' });
    expect(decode({ '@timestamp': '2026-11-25T08:00:00Z', uri: '/', status: 200 })).not.toHaveProperty('value.detail');
  });

  it('accepts the wire form unchanged, and nginx $msec seconds', () => {
    const wire = { ts: 1764057600000, service: 'telematics', actor: 'acct-1', method: 'POST', endpoint: '/v1/vehicles/{vin}/unlock', status: 200, vin: '1HGCM82633A004352' };
    expect(decode(wire)).toEqual({ ok: true, value: wire });
    expect(decode({ msec: '1764057600.250', request: 'GET / HTTP/1.1', status: 200 }).ok && decode({ msec: 1764057600.25, uri: '/', status: 200 })).toMatchObject({ ok: true, value: { ts: 1764057600250 } });
  });

  it('does not trust X-Forwarded-For and refuses a record with no time', () => {
    const r = decode({ '@timestamp': '2026-11-25T08:00:00Z', http_x_forwarded_for: '1.2.3.4', uri: '/', status: 200 });
    expect(r.ok && r.value).not.toHaveProperty('ip');
    const noTime = decode({ uri: '/', status: 200 });
    expect(noTime.ok ? 'ok' : noTime.reject.code).toBe('time.invalid');
    const badJson = decode('{"uri":');
    expect(badJson.ok ? 'ok' : badJson.reject.code).toBe('json.malformed');
  });
});
