import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, incidentsToCsv, incidentsToJson, incidentsToStix, INCIDENT_EXTENSION, uuidv5, type StixObject } from './export.js';
import type { Incident } from './model.js';

const T = Date.UTC(2026, 10, 20, 8, 0, 0);

const incident = (over: Partial<Incident> & Pick<Incident, 'id'>): Incident => ({
  tenant: 'acme', kind: 'vehicle', groupKey: 'k', title: 'Unknown CAN id on the powertrain bus', state: 'new', severity: 'high',
  risk: 72, tags: [], rules: ['can.unknown_id'], vehicleCount: 1, alertCount: 4, firstAlertAt: T, lastAlertAt: T + 90_000,
  createdAt: T + 1000, updatedAt: T + 120_000, context: { make: 'Volvo' }, ...over,
});

const incidents: Incident[] = [
  incident({ id: 'inc-1', vehicle: '0123456789abcdef', groupKey: '0123456789abcdef', tags: ['atm:T0001', 'can'], assignee: 'ana', slaDueAt: T + 3_600_000 }),
  incident({
    id: 'inc-2', kind: 'campaign', groupKey: 'uds.security_access_bruteforce', title: '=HYPERLINK("x") SecurityAccess brute force across the fleet',
    state: 'resolved', severity: 'critical', risk: 95, rules: ['uds.security_access_bruteforce', "odd'rule\\id"], vehicleCount: 12, alertCount: 40,
    closedAt: T + 7_200_000,
  }),
  incident({ id: 'inc-3', vehicle: 'fedcba9876543210', groupKey: 'fedcba9876543210', rules: ['can.unknown_id'], severity: 'low', risk: 10 }),
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[45][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
/** Required properties per object type (STIX 2.1 sections 4-7: common, then the type's own). */
const REQUIRED: Record<string, readonly string[]> = {
  incident: ['name'],
  indicator: ['pattern', 'pattern_type', 'valid_from'],
  identity: ['name'],
  sighting: ['sighting_of_ref'],
  'extension-definition': ['created_by_ref', 'name', 'schema', 'version', 'extension_types'],
};
const TIME_PROPERTIES = ['created', 'modified', 'valid_from', 'first_seen', 'last_seen'];

/** Every object: required properties, `type--UUID` ids, spec 2.1, RFC 3339 UTC times, references resolving inside the bundle. */
function validateBundle(bundle: { type: string; id: string; objects: readonly StixObject[] }): void {
  expect(bundle.type).toBe('bundle');
  expect(bundle.id).toMatch(/^bundle--/);
  expect(bundle.id.slice('bundle--'.length)).toMatch(UUID);
  const ids = new Set(bundle.objects.map((o) => o.id));
  expect(ids.size).toBe(bundle.objects.length);
  for (const o of bundle.objects) {
    const where = `${o.type} ${o.id}`;
    expect(Object.keys(REQUIRED), where).toContain(o.type);
    for (const p of ['type', 'spec_version', 'id', 'created', 'modified', ...REQUIRED[o.type]!]) expect(o, `${where} lacks ${p}`).toHaveProperty(p);
    expect(o.spec_version, where).toBe('2.1');
    const [prefix, uuid] = o.id.split('--');
    expect(prefix, where).toBe(o.type);
    expect(uuid, where).toMatch(UUID);
    for (const p of TIME_PROPERTIES) if (p in o) expect(o[p], `${where} ${p}`).toMatch(TIMESTAMP);
    expect(Date.parse(o['modified'] as string) >= Date.parse(o['created'] as string), where).toBe(true);
    // Property names: lowercase a-z, 0-9, _ (3-250 chars), custom ones x_.
    for (const k of Object.keys(o)) expect(k, where).toMatch(/^[a-z0-9_]{2,250}$/);
    const refs = Object.entries(o).flatMap(([k, v]) => (k.endsWith('_ref') ? [v] : k.endsWith('_refs') ? (v as unknown[]) : []));
    for (const r of refs) expect(ids.has(r as string), `${where} refers to ${String(r)} outside the bundle`).toBe(true);
    for (const [extId, ext] of Object.entries((o['extensions'] ?? {}) as Record<string, Record<string, unknown>>)) {
      expect(ids.has(extId), `${where}: extension ${extId} is defined in the bundle`).toBe(true);
      expect(ext['extension_type']).toBe('property-extension');
      for (const k of Object.keys(ext)) expect(k, `${where} extension property`).toMatch(/^[a-z0-9_]{3,250}$/);
      for (const [k, v] of Object.entries(ext)) if (k.endsWith('_ref') || k.endsWith('_refs')) for (const r of [v].flat()) expect(ids.has(r as string), `${where} ${k}`).toBe(true);
    }
  }
}

describe('incident export', () => {
  it('UUIDv5 matches RFC 4122 (the DNS namespace example)', () => {
    expect(uuidv5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('STIX 2.1: incidents, indicators per rule, sightings where the vehicle identity is, all valid and resolvable', () => {
    const bundle = incidentsToStix('acme', incidents);
    validateBundle(bundle);
    const of = (type: string) => bundle.objects.filter((o) => o.type === type);
    expect(of('incident')).toHaveLength(3);
    // One indicator per distinct rule; the quote and backslash in a rule id are escaped in the pattern.
    expect(of('indicator').map((o) => o['x_vigil_rule']).sort()).toEqual(['can.unknown_id', "odd'rule\\id", 'uds.security_access_bruteforce']);
    expect(of('indicator').find((o) => o['x_vigil_rule'] === "odd'rule\\id")!['pattern']).toBe("[x-vigil-alert:rule = 'odd\\'rule\\\\id']");
    // Sightings: one per (incident, rule) = 1 + 2 + 1.
    const sightings = of('sighting');
    expect(sightings).toHaveLength(4);
    const inc1 = of('incident').find((o) => (o['external_references'] as { external_id: string }[])[0]!.external_id === 'inc-1')!;
    const ext1 = (inc1['extensions'] as Record<string, Record<string, unknown>>)[INCIDENT_EXTENSION]!;
    expect(ext1).toMatchObject({ vigil_id: 'inc-1', state: 'new', severity: 'high', risk: 72, alert_count: 4, assignee: 'ana', first_alert: '2026-11-20T08:00:00.000Z', sla_due: '2026-11-20T09:00:00.000Z' });
    expect(inc1['labels']).toEqual(['atm:T0001', 'can']);
    const s1 = sightings.find((s) => s.id === (ext1['sighting_refs'] as string[])[0])!;
    expect(s1).toMatchObject({ first_seen: '2026-11-20T08:00:00.000Z', last_seen: '2026-11-20T08:01:30.000Z', count: 4 });
    const vehicle = bundle.objects.find((o) => o.id === (s1['where_sighted_refs'] as string[])[0])!;
    expect(vehicle).toMatchObject({ type: 'identity', identity_class: 'system', name: 'vehicle 0123456789abcdef' });
    // A campaign incident has no single vehicle, and no per-rule count for its two rules.
    const campaignSightings = sightings.filter((s) => s['sighting_of_ref'] !== s1['sighting_of_ref'] && !('where_sighted_refs' in s));
    expect(campaignSightings).toHaveLength(2);
    for (const s of campaignSightings) expect(s).not.toHaveProperty('count');
    // Two incidents on one rule share its indicator.
    expect(new Set(sightings.map((s) => s['sighting_of_ref'])).size).toBe(3);
  });

  it('STIX ids are stable across exports and differ between tenants', () => {
    const a = incidentsToStix('acme', incidents);
    expect(JSON.stringify(incidentsToStix('acme', incidents))).toBe(JSON.stringify(a));
    // Exporting a subset names the same objects the same.
    const sub = incidentsToStix('acme', [incidents[0]!]);
    const idsOf = (b: typeof a) => new Set(b.objects.map((o) => o.id));
    for (const id of idsOf(sub)) expect(idsOf(a).has(id)).toBe(true);
    expect(sub.id).not.toBe(a.id);
    const other = incidentsToStix('globex', incidents);
    const shared = [...idsOf(other)].filter((id) => idsOf(a).has(id));
    // Only the Vigil identity and the extension definition are the same in every tenant.
    expect(shared.sort()).toEqual([INCIDENT_EXTENSION, a.objects[0]!.id].sort());
  });

  it('CSV has the stable header and parses back to the same incidents', () => {
    const csv = incidentsToCsv(incidents);
    const rows = parse(csv, { columns: true }) as Record<string, string>[];
    expect(csv.split('\n')[0]).toBe(CSV_COLUMNS.join(','));
    expect(rows).toHaveLength(3);
    const time = (s: string): number | undefined => (s === '' ? undefined : Date.parse(s));
    const back = rows.map((r) => ({
      id: r['id'], kind: r['kind'], state: r['state'], severity: r['severity'], risk: Number(r['risk']),
      title: r['title']!.replace(/^'(?=[=+\-@])/, ''), vehicle: r['vehicle'] || undefined, groupKey: r['group_key'],
      rules: r['rules']!.split(';'), tags: r['tags'] ? r['tags'].split(';') : [], assignee: r['assignee'] || undefined,
      vehicleCount: Number(r['vehicle_count']), alertCount: Number(r['alert_count']),
      firstAlertAt: time(r['first_alert_at']!), lastAlertAt: time(r['last_alert_at']!), createdAt: time(r['created_at']!),
      updatedAt: time(r['updated_at']!), slaDueAt: time(r['sla_due_at']!), closedAt: time(r['closed_at']!),
    }));
    const strip = (o: object) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
    expect(back.map(strip)).toEqual(incidents.map(({ tenant: _t, context: _c, ...rest }) => strip(rest)));
    // A title that starts like a formula is neutralized for spreadsheets.
    expect(rows[1]!['title']).toMatch(/^'=HYPERLINK/);
  });

  it('JSON keeps every field, context included', () => {
    const json = JSON.parse(JSON.stringify(incidentsToJson('acme', incidents))) as { tenant: string; count: number; incidents: Incident[] };
    expect(json).toEqual({ tenant: 'acme', count: 3, incidents });
  });
});
