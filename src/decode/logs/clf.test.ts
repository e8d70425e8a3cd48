import { describe, expect, it } from 'vitest';
import { decodeLog } from '../json.js';
import { decodeClfLine, unescapeApache } from './clf.js';
import { templateEndpoint } from './endpoint.js';
import { parseClfTime } from './time.js';

/** Decode a line all the way to the shape-checked log message, as the lane does. */
function decode(line: string, service?: string) {
  const wire = decodeClfLine(line, service ? { service } : {});
  if (!wire.ok) return wire;
  return decodeLog(wire.value);
}

describe('Apache/NCSA combined log format', () => {
  it('decodes the classic example line from the Apache documentation', () => {
    const r = decode('127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"');
    expect(r).toEqual({
      ok: true,
      value: {
        ts: Date.UTC(2000, 9, 10, 20, 55, 36), service: 'http', method: 'GET', endpoint: '/apache_pb.gif', status: 200,
        ip: '127.0.0.1', actor: 'frank', ua: 'Mozilla/4.08 [en] (Win98; I ;Nav)', detail: { referer: 'http://www.example.com/start.html' },
      },
    });
  });

  it('links a VIN in the path to the vehicle and templates the endpoint', () => {
    const r = decode('2001:db8:85a3::8a2e:370:7334 - acct-1842 [25/Nov/2026:09:00:00 +0100] "POST /v1/vehicles/1HGCM82633A004352/unlock?source=app HTTP/2.0" 200 48 "-" "VigilApp/4.2.1 (iOS 18.1)"', 'telematics');
    expect(r.ok && r.value).toMatchObject({
      ts: Date.UTC(2026, 10, 25, 8, 0, 0), service: 'telematics', method: 'POST', endpoint: '/v1/vehicles/{vin}/unlock',
      vin: '1HGCM82633A004352', vinFrom: 'path', status: 200, ip: '2001:db8:85a3::8a2e:370:7334', actor: 'acct-1842',
    });
  });

  it('reads a VIN from the query string, and ids, UUIDs and tokens become placeholders', () => {
    const r = decode('203.0.113.7 - - [25/Nov/2026:08:00:00 +0000] "GET /v2/fleet/42/trips/3f2b8c1e-9a4d-4e5f-8b6a-1c2d3e4f5a6b/export?vin=5yj3e1ea7kf317001&token=abc HTTP/1.1" 200 10');
    expect(r.ok && r.value).toMatchObject({ endpoint: '/v2/fleet/{id}/trips/{uuid}/export', vin: '5YJ3E1EA7KF317001', vinFrom: 'query' });
    expect(r.ok && r.value).not.toHaveProperty('actor');
    expect(r.ok && r.value).not.toHaveProperty('ua'); // common log format: no referer, no agent
  });

  it('unescapes quotes and bytes in the request and the user agent', () => {
    const line = String.raw`198.51.100.23 - - [25/Nov/2026:08:00:01 +0000] "GET /search?q=\"or 1=1--\" HTTP/1.1" 400 0 "-" "sqlmap/1.7 \"evil\" \\x\xe2\x9c\x93"`;
    const r = decode(line);
    expect(r.ok && r.value).toMatchObject({ method: 'GET', endpoint: '/search', status: 400, ua: 'sqlmap/1.7 "evil" \\x✓' });
  });

  it('survives an unescaped quote inside the user agent (a closing quote ends at a space or the line end)', () => {
    const r = decode('192.0.2.1 - - [25/Nov/2026:08:00:02 +0000] "GET / HTTP/1.1" 200 5 "-" "Mozilla/5.0 "compatible" bot" 0.003');
    expect(r.ok && r.value).toMatchObject({ endpoint: '/', ua: 'Mozilla/5.0 "compatible" bot' });
  });

  it('keeps requests that are not HTTP, with a marker endpoint, as security evidence', () => {
    const tls = decode(String.raw`192.0.2.9 - - [25/Nov/2026:08:00:03 +0000] "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" 400 226 "-" "-"`);
    expect(tls.ok && tls.value).toMatchObject({ endpoint: '(malformed)', status: 400 });
    expect(tls.ok && tls.value).not.toHaveProperty('method');
    expect(tls.ok && tls.value).not.toHaveProperty('ua');
    const none = decode('192.0.2.9 - - [25/Nov/2026:08:00:03 +0000] "-" 408 - "-" "-"');
    expect(none.ok && none.value).toMatchObject({ endpoint: '(none)', status: 408 });
  });

  it('accepts absolute-form targets, HTTP/0.9 lines, an empty quoted user and a hostname', () => {
    const abs = decode('proxy.example.net - "" [25/Nov/2026:08:00:04 -0000] "CONNECT api.example.com:443 HTTP/1.1" 200 0 "-" "curl/8.5.0"');
    expect(abs.ok && abs.value).toMatchObject({ method: 'CONNECT', endpoint: 'api.example.com:443', ip: 'proxy.example.net' });
    expect(abs.ok && abs.value).not.toHaveProperty('actor');
    const full = decode('10.0.0.1 - - [25/Nov/2026:08:00:04 +0000] "GET http://api.example.com/v1/vehicles/1HGCM82633A004352 HTTP/1.1" 200 1');
    expect(full.ok && full.value).toMatchObject({ endpoint: '/v1/vehicles/{vin}', vin: '1HGCM82633A004352' });
    const old = decode('10.0.0.1 - - [25/Nov/2026:08:00:04 +0000] "GET /" 200 1');
    expect(old.ok && old.value).toMatchObject({ method: 'GET', endpoint: '/' });
  });

  it('refuses lines it cannot read, with a specific reason', () => {
    const codes = [
      'not an access log line',
      '10.0.0.1 - - 25/Nov/2026:08:00:04 "GET / HTTP/1.1" 200 1',
      '10.0.0.1 - - [31/Feb/2026:08:00:04 +0000] "GET / HTTP/1.1" 200 1',
      '10.0.0.1 - - [25/Nov/2026:08:00:04 +0000] "GET / HTTP/1.1 200 1',
      '10.0.0.1 - - [25/Nov/2026:08:00:04 +0000] "GET / HTTP/1.1" OK 1',
      '10.0.0.1 - - [25/Nov/2026:08:00:04 +0000] "GET / HTTP/1.1" 999 1',
    ].map((l) => {
      const r = decode(l);
      return r.ok ? 'ok' : r.reject.code;
    });
    expect(codes).toEqual(['clf.shape', 'clf.shape', 'time.invalid', 'clf.shape', 'log.status', 'log.status']);
  });
});

describe('endpoint templates', () => {
  it('leaves static paths alone and does not take a 17-digit number or a word for a VIN', () => {
    expect(templateEndpoint('/v1/auth/login')).toEqual({ template: '/v1/auth/login' });
    expect(templateEndpoint('/v1/orders/12345678901234567').template).toBe('/v1/orders/{id}');
    expect(templateEndpoint('/v1/ABCDEFGHJKLMNPRST').template).toBe('/v1/ABCDEFGHJKLMNPRST');
    // I, O and Q never occur in a VIN.
    expect(templateEndpoint('/v1/vehicles/1HGCM82633O004352').vin).toBeUndefined();
  });

  it('templates JWT-like tokens and percent-encoded VINs', () => {
    expect(templateEndpoint('/v1/share/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl5').template).toBe('/v1/share/{token}');
    expect(templateEndpoint('/v1/vehicles/%31HGCM82633A004352/lock')).toEqual({ template: '/v1/vehicles/{vin}/lock', vin: '1HGCM82633A004352', vinFrom: 'path' });
  });
});

describe('access-log time', () => {
  it('parses zones and fractions and refuses impossible dates', () => {
    expect(parseClfTime('10/Oct/2000:13:55:36 -0700')).toBe(Date.UTC(2000, 9, 10, 20, 55, 36));
    expect(parseClfTime('01/Jan/2026:00:00:00.250 +0530')).toBe(Date.UTC(2025, 11, 31, 18, 30, 0, 250));
    expect(parseClfTime('10/Foo/2000:13:55:36 -0700')).toBeUndefined();
    expect(parseClfTime('29/Feb/2025:00:00:00 +0000')).toBeUndefined();
  });

  it('unescapes what Apache escapes and nothing else', () => {
    expect(unescapeApache(String.raw`a\"b\\c\td\x41`)).toBe('a"b\\c\tdA');
    expect(unescapeApache('plain')).toBe('plain');
  });
});
