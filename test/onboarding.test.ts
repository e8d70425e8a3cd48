/**
 * Onboarding and exchange through the front doors: vehicle and alert files through
 * `vigil import vehicles|alerts` and `POST /v1/{vehicles,alerts}/import` (real pipeline, DuckDB
 * file, tokens), the twins and dead letters they leave, and incidents out again through
 * `GET /v1/incidents/export` as JSON, CSV and STIX 2.1.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSecret } from '../src/api/secret.js';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import { ManualClock } from '../src/core/clock.js';
import type { Role } from '../src/core/access.js';
import { INCIDENT_EXTENSION } from '../src/alerts/export.js';
import { Pseudonymizer } from '../src/normalize/pseudonym.js';
import { parseConfig } from '../src/runtime/config.js';
import { sql, vigilFiles as runVigil } from './import-helpers.js';
import { tempDir, writeText } from './trace-files.js';

const EXAMPLES = join(import.meta.dirname, '..', 'examples', 'onboarding');
const example = (name: string): string => readFileSync(join(EXAMPLES, name), 'utf8');
const VOLVO = 'YV1MV39H1HG000101';
const TESLA = '5YJ3E1EA2MF004242';
const dirs: string[] = [];
/** `vigil <args>` in-process, lanes on this thread (starting worker threads per command is slow). */
const vigilFiles = (args: readonly string[]) => runVigil(args, { inline: true });
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The vehicle key the running system gives `vin` in `tenant` (the data directory's secret). */
function keyOf(dataDir: string, tenant: string, vin: string): string {
  return new Pseudonymizer(loadSecret('VIGIL_PSEUDONYM_SECRET', dataDir).secret).key(tenant, vin);
}

async function start(dataDir: string, clock = new ManualClock(Date.UTC(2026, 11, 1))): Promise<Vigil> {
  const config = parseConfig({ tenant: 'acme', dataDir, http: { port: 0, auth: { enabled: true, adminTokenEnv: 'VIGIL_TEST_UNSET_ADMIN_TOKEN' } }, runtime: { workers: 1 } });
  // The bootstrap admin token notice goes to stderr; keep the test output clean.
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return await startVigil(config, { inline: true, clock });
  } finally {
    process.stderr.write = write;
  }
}

async function token(vigil: Vigil, role: Role, tenant: string): Promise<string> {
  return (await vigil.tokens.create({ name: `${role}@${tenant}`, role, tenant, createdBy: 'test' })).secret;
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: Record<string, unknown>;
}

async function call(vigil: Vigil, secret: string, method: string, path: string, body?: string, type?: string): Promise<Answer> {
  const res = await fetch(`${vigil.url}${path}`, {
    method, headers: { authorization: `Bearer ${secret}`, ...(type ? { 'content-type': type } : {}) }, ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // CSV
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

describe('vigil import vehicles|alerts', () => {
  it('registers the example vehicles; bad rows are printed as FILE:LINE, dead-lettered with their raw line, and exit 1; the twin shows make, model and ECUs', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const dataDir = join(dir, 'data');
    const csv = await vigilFiles(['import', 'vehicles', join(EXAMPLES, 'vehicles.csv'), '--data-dir', dataDir, '--tenant', 'acme']);
    expect(csv).toMatchObject({ code: 0, stderr: '' });
    expect(csv.stdout).toBe(`imported 2 vehicles from ${join(EXAMPLES, 'vehicles.csv')} (tenant acme)\n`);
    const jsonl = await vigilFiles(['import', 'vehicles', '--data-dir', dataDir, '--tenant', 'acme', join(EXAMPLES, 'vehicles.jsonl')]);
    expect(jsonl.stdout).toMatch(/^imported 2 vehicles/);

    const bad = writeText(dir, 'more.csv', [
      'vin,make,model,year,ecus',
      'WVWZZZAU7KW000078,VW,Golf,2019,TCU=1', // wrong check digit
      `${VOLVO},Volvo,V40,20x7,`,
      `${TESLA},Tesla,Model 3,2021,TCU=2021.44.25;MCU`,
      `${TESLA},Tesla`,
      '',
      `${TESLA},Tesla,Model 3,2022,TCU=2022.8.1`,
    ].join('\n'));
    const r = await vigilFiles(['import', 'vehicles', bad, '--data-dir', dataDir, '--tenant', 'acme']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`imported 1 vehicles from ${bad} (tenant acme), 4 rejected (vigil dlq list --code import.vehicle_invalid)\n`);
    expect(r.stderr.trim().split('\n')).toEqual([
      `${bad}:2: vin "WVWZZZAU7KW000078" has a wrong check digit (ISO 3779; normalize.vinCheckDigit)`,
      `${bad}:3: year "20x7" is not a year 1900-2100`,
      `${bad}:4: ecus: "MCU" is not NAME=VERSION`,
      `${bad}:5: 2 fields, the header has 5`,
    ]);
    const dead = await sql(dataDir, "SELECT code, kind, reason, decode(raw) AS raw FROM dead_letters ORDER BY reason");
    expect(dead.map((d) => [d.code, d.kind])).toEqual(Array(4).fill(['import.vehicle_invalid', 'unknown']));
    expect(dead.map((d) => d.raw)).toEqual(['WVWZZZAU7KW000078,VW,Golf,2019,TCU=1', `${VOLVO},Volvo,V40,20x7,`, `${TESLA},Tesla,Model 3,2021,TCU=2021.44.25;MCU`, `${TESLA},Tesla`]);
    expect(dead[0]!.reason).toMatch(/^line 2: vin/);
    // Importing the same bad file again keeps one dead letter per row.
    await vigilFiles(['import', 'vehicles', bad, '--data-dir', dataDir, '--tenant', 'acme']);
    expect(await sql(dataDir, 'SELECT count(*)::INTEGER AS n FROM dead_letters')).toEqual([{ n: 4 }]);

    const alerts = await vigilFiles(['import', 'alerts', join(EXAMPLES, 'alerts.jsonl'), '--data-dir', dataDir, '--tenant', 'acme']);
    expect(alerts).toMatchObject({ code: 0, stderr: '' });
    expect(alerts.stdout).toMatch(/^imported 3 alerts/);
    // Stored before, now run through the alert pipeline: they form incidents.
    const triage = await vigilFiles(['import', 'alerts', '--triage', join(EXAMPLES, 'alerts.jsonl'), '--data-dir', dataDir, '--tenant', 'acme']);
    expect(triage).toMatchObject({ code: 0, stderr: '' });
    expect(triage.stdout).toMatch(/^imported 0 alerts from .* \(tenant acme\), 3 already stored; triage: [23] incidents opened or joined, 0 duplicates, 0 suppressed\n$/);

    // The vehicles are the twins live data lands on: same pseudonym, identity and ECUs over the API.
    const vigil = await start(dataDir);
    try {
      const admin = await token(vigil, 'viewer', 'acme');
      const tesla = await call(vigil, admin, 'GET', `/v1/vehicles/${keyOf(dataDir, 'acme', TESLA)}`);
      expect(tesla.status).toBe(200);
      expect(tesla.body).toMatchObject({
        identity: { make: 'Tesla', model: 'Model 3', year: 2022, trim: 'Long Range', region: 'US' },
        ecus: [{ name: 'TCU', software: '2022.8.1' }],
        firstSeen: null,
      });
      const volvo = await call(vigil, admin, 'GET', `/v1/vehicles/${keyOf(dataDir, 'acme', VOLVO)}`);
      expect(volvo.body).toMatchObject({
        identity: { make: 'Volvo', model: 'V40', year: 2017, trim: 'R-Design', region: 'EU' },
        ecus: [{ name: 'BCM', software: '2.3.1' }, { name: 'GW', software: '2.0.3' }, { name: 'TCU', software: '4.1.0' }],
      });
      const stored = await vigil.store.listAlerts({ tenant: 'acme', vehicle: keyOf(dataDir, 'acme', VOLVO), limit: 10 });
      expect(stored.map((a) => [a.id, a.rule, a.time])).toEqual([['legacy-2026-0001', 'can.unknown_id', Date.parse('2026-10-02T08:15:00Z')]]);
      const incidents = await call(vigil, admin, 'GET', '/v1/incidents?limit=10');
      expect((incidents.body.items as { rules: string[] }[]).flatMap((i) => i.rules).sort()).toEqual(['can.unknown_id', 'fleet.api_token_reuse', 'uds.security_access_bruteforce']);
    } finally {
      await vigil.stop();
    }
  }, 180_000);
});

describe('onboarding and export over HTTP', () => {
  it('imports vehicles and alerts (admin, audited, bad rows by line and dead-lettered), triages, and exports the incidents as JSON, CSV and STIX', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const vigil = await start(dir);
    try {
      const admin = await token(vigil, 'admin', 'acme');
      const viewer = await token(vigil, 'viewer', 'acme');
      const other = await token(vigil, 'admin', 'globex');

      const csv = await call(vigil, admin, 'POST', '/v1/vehicles/import', example('vehicles.csv'), 'text/csv');
      expect(csv).toMatchObject({ status: 200, body: { imported: 2, rejected: 0, duplicates: 0, errors: [] } });
      const jsonl = await call(vigil, admin, 'POST', '/v1/vehicles/import', `${example('vehicles.jsonl')}{"vin":"BAD","make":"x"}\nnot json\n`, 'application/x-ndjson');
      expect(jsonl.status).toBe(200);
      expect(jsonl.body).toMatchObject({ imported: 2, rejected: 2 });
      expect(jsonl.body.errors).toEqual([
        { line: 3, reason: 'vin "BAD" is not a VIN: 17 characters 0-9 and A-Z without I, O, Q' },
        { line: 4, reason: expect.stringMatching(/^not JSON/) },
      ]);
      const golf = await call(vigil, viewer, 'GET', `/v1/vehicles/${keyOf(dir, 'acme', 'WVWZZZAU7KW000077')}`);
      expect(golf.body).toMatchObject({ live: true, identity: { make: 'Volkswagen', model: 'Golf', year: 2019 }, ecus: [{ name: 'GW', software: '1.9.0' }, { name: 'TCU', software: '7.2.1' }] });
      // The other tenant's key space does not hold them.
      expect((await call(vigil, other, 'GET', `/v1/vehicles/${keyOf(dir, 'acme', 'WVWZZZAU7KW000077')}`)).status).toBe(404);

      const dead = await call(vigil, admin, 'GET', '/v1/dead-letters?code=import.vehicle_invalid');
      expect((dead.body.items as { raw: string; source: string; tenant: string }[]).map((d) => [d.raw, d.source, d.tenant]).sort()).toEqual([['not json', 'http:import', 'acme'], ['{"vin":"BAD","make":"x"}', 'http:import', 'acme']]);

      // Refused: a viewer, a header that cannot be read (every problem listed), a media type of no format.
      expect((await call(vigil, viewer, 'POST', '/v1/vehicles/import', example('vehicles.csv'), 'text/csv')).status).toBe(403);
      const header = await call(vigil, admin, 'POST', '/v1/vehicles/import', 'VIN,colour,ecu.bad name\nx,y,z\n', 'text/csv');
      expect(header.status).toBe(400);
      expect(header.body).toMatchObject({ error: 'ValidationError' });
      expect((header.body.fields as { message: string }[]).map((f) => f.message)).toEqual([
        'column 2: unknown column "colour" (expected vin, make, model, year, trim, region, ecus or ecu.<NAME>)',
        'column 3: "ecu.bad name": ECU name must be letters, digits, _ - . (at most 64)',
      ]);
      expect((await call(vigil, admin, 'POST', '/v1/vehicles/import', 'vin\n', 'text/plain')).status).toBe(415);
      expect((await call(vigil, admin, 'POST', '/v1/alerts/import', example('alerts.jsonl'), 'text/csv')).status).toBe(415);

      // Alerts: stored idempotently; with triage they form incidents.
      const first = await call(vigil, admin, 'POST', '/v1/alerts/import', example('alerts.jsonl'), 'application/x-ndjson');
      expect(first.body).toMatchObject({ imported: 3, rejected: 0, duplicates: 0 });
      const again = await call(vigil, admin, 'POST', '/v1/alerts/import', `${example('alerts.jsonl')}{"id":"x","time":"yesterday","rule":"r","severity":"high"}\n`, 'application/x-ndjson');
      expect(again.body).toMatchObject({ imported: 0, rejected: 1, duplicates: 3, errors: [{ line: 4, reason: expect.stringMatching(/^time: expected an RFC 3339 time/) }] });
      const triaged = await call(vigil, admin, 'POST', '/v1/alerts/import?triage=true', example('alerts.jsonl'), 'application/x-ndjson');
      expect(triaged.status).toBe(200);
      expect(triaged.body).toMatchObject({ imported: 0, duplicates: 3, triage: { pending: 0 } });
      expect((triaged.body.triage as { incidents: number }).incidents).toBeGreaterThanOrEqual(2);

      const audit = await vigil.audit.list({ tenant: 'acme', limit: 20 });
      const imports = audit.filter((e) => e.action.endsWith('.import')).reverse();
      expect(imports.map((e) => [e.action, e.details['imported'], e.details['rejected']])).toEqual([
        ['vehicle.import', 2, 0], ['vehicle.import', 2, 2], ['alert.import', 3, 0], ['alert.import', 0, 1], ['alert.import', 0, 0],
      ]);
      expect(imports[4]!.details).toMatchObject({ triage: true });

      // Export: JSON is the incident list; CSV parses back to it; STIX carries them as incidents and sightings.
      const list = await call(vigil, viewer, 'GET', '/v1/incidents?limit=100');
      const listed = list.body.items as Record<string, unknown>[];
      expect(listed.length).toBe((triaged.body.triage as { incidents: number }).incidents);
      const json = await call(vigil, viewer, 'GET', '/v1/incidents/export?format=json');
      expect(json.status).toBe(200);
      expect(json.headers.get('content-disposition')).toBe('attachment; filename="incidents-acme.json"');
      const exported = json.body.incidents as Record<string, unknown>[];
      expect(exported.map((i) => i['id'])).toEqual(listed.map((i) => i['id']));

      const csvOut = await call(vigil, viewer, 'GET', '/v1/incidents/export?format=csv');
      expect(csvOut.headers.get('content-type')).toMatch(/^text\/csv/);
      const rows = parse(csvOut.text, { columns: true }) as Record<string, string>[];
      expect(rows.map((r) => [r['id'], r['state'], r['severity'], Number(r['alert_count']), r['rules']!.split(';'), Date.parse(r['last_alert_at']!)]))
        .toEqual(exported.map((i) => [i['id'], i['state'], i['severity'], i['alertCount'], i['rules'], i['lastAlertAt']]));

      const stix = await call(vigil, viewer, 'GET', '/v1/incidents/export?format=stix');
      expect(stix.headers.get('content-type')).toMatch(/^application\/stix\+json; ?version="?2\.1"?/);
      const objects = stix.body.objects as { type: string; id: string; [k: string]: unknown }[];
      expect(stix.body.type).toBe('bundle');
      const incidents = objects.filter((o) => o.type === 'incident');
      expect(incidents.map((o) => (o['extensions'] as Record<string, { vigil_id: string }>)[INCIDENT_EXTENSION]!.vigil_id).sort()).toEqual(exported.map((i) => i['id']).sort());
      for (const o of objects) {
        expect(o['spec_version']).toBe('2.1');
        expect(o.id).toMatch(new RegExp(`^${o.type}--[0-9a-f]{8}-[0-9a-f]{4}-[45][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`));
      }
      const ids = new Set(objects.map((o) => o.id));
      for (const s of objects.filter((o) => o.type === 'sighting')) {
        expect(ids.has(s['sighting_of_ref'] as string)).toBe(true);
        for (const ref of (s['where_sighted_refs'] as string[] | undefined) ?? []) expect(ids.has(ref)).toBe(true);
      }
      // Pseudonyms only: no VIN anywhere in the bundle; and a second export is the same bundle.
      for (const vin of [VOLVO, TESLA]) expect(stix.text).not.toContain(vin);
      expect((await call(vigil, viewer, 'GET', '/v1/incidents/export?format=stix')).text).toBe(stix.text);

      // Filters as the list's; another tenant sees none of it; bad filters are field errors.
      const critical = await call(vigil, viewer, 'GET', '/v1/incidents/export?format=json&severity=critical');
      expect((critical.body.incidents as { severity: string }[]).every((i) => i.severity === 'critical')).toBe(true);
      expect((critical.body.incidents as unknown[]).length).toBe(listed.filter((i) => i['severity'] === 'critical').length);
      expect((await call(vigil, other, 'GET', '/v1/incidents/export?format=json')).body).toMatchObject({ tenant: 'globex', count: 0 });
      // The OpenAPI document names the media types of the bodies and of the export.
      type Doc = { paths: Record<string, Record<string, { requestBody?: { content: object }; responses: Record<string, { content?: object }> }>> };
      const doc = (await (await fetch(`${vigil.url}/openapi.json`)).json()) as Doc;
      expect(Object.keys(doc.paths['/v1/vehicles/import']!['post']!.requestBody!.content).sort()).toEqual(['application/x-ndjson', 'text/csv']);
      expect(Object.keys(doc.paths['/v1/alerts/import']!['post']!.requestBody!.content)).toEqual(['application/x-ndjson']);
      expect(Object.keys(doc.paths['/v1/incidents/export']!['get']!.responses['200']!.content!).sort()).toEqual(['application/json', 'application/stix+json', 'text/csv']);
      const badFilter = await call(vigil, viewer, 'GET', '/v1/incidents/export?format=xml&since=soon');
      expect(badFilter.status).toBe(400);
      expect((badFilter.body.fields as { path: string }[]).map((f) => f.path).sort()).toEqual(['/format', '/since']);
    } finally {
      await vigil.stop();
    }
  }, 120_000);
});
