/**
 * Incidents out, for other tools: JSON (the incidents as the API shows them), CSV (a stable
 * column set for spreadsheets and SIEM lookups) and a STIX 2.1 bundle (for threat-intel
 * platforms and ISAC sharing). Pure: incidents in, text or objects out.
 *
 * STIX 2.1: each incident is an `incident` SDO whose Vigil facts (state, severity, risk,
 * rules, counts, times) travel in a property extension defined in the bundle; each detection
 * rule is an `indicator` (pattern `[x-vigil-alert:rule = '<rule>']`, `x_vigil_rule`); each
 * (incident, rule) is a `sighting` of that indicator with first_seen/last_seen, sighted
 * where the vehicle is: an `identity` named by its pseudonym, never its VIN. Ids are UUIDv5
 * of the tenant and the Vigil id, so exporting the same incidents again gives the same ids.
 */
import { createHash } from 'node:crypto';
import { stringify } from 'csv-stringify/sync';
import type { Incident } from './model.js';

export const EXPORT_FORMATS = ['json', 'csv', 'stix'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Namespace of every UUIDv5 Vigil derives for STIX ids. Never change it: ids of earlier exports would change. */
export const VIGIL_STIX_NAMESPACE = '47d65eb7-8e3d-4ad8-8d98-50d9a1fd3860';

/**
 * Created/modified time of the objects that describe definitions rather than events (the
 * Vigil identity, the extension definition, indicators, vehicle identities): fixed, so every
 * export names the same version of them.
 */
export const DEFINITION_TIME = '2026-01-01T00:00:00.000Z';

/** Largest `count` STIX allows on a sighting. */
const MAX_SIGHTING_COUNT = 999_999_999;

// ---- JSON and CSV ------------------------------------------------------------------------

/** The JSON export: the tenant and its incidents, times in epoch ms as the API gives them. */
export function incidentsToJson(tenant: string, incidents: readonly Incident[]): { tenant: string; count: number; incidents: Incident[] } {
  return { tenant, count: incidents.length, incidents: [...incidents] };
}

/** CSV columns, in order. Lists (rules, tags) are joined with `;`; times are RFC 3339 UTC. */
export const CSV_COLUMNS = [
  'id', 'kind', 'state', 'severity', 'risk', 'title', 'vehicle', 'group_key', 'rules', 'tags', 'assignee',
  'vehicle_count', 'alert_count', 'first_alert_at', 'last_alert_at', 'created_at', 'updated_at', 'sla_due_at', 'closed_at',
] as const;

/**
 * The CSV export: a header and one row per incident. A cell starting with `=`, `+`, `-`, `@`
 * gets a leading `'` (csv-stringify `escape_formulas`), so a spreadsheet never runs a title as
 * a formula. The enrichment context is in the JSON and STIX exports only.
 */
export function incidentsToCsv(incidents: readonly Incident[]): string {
  const time = (ms: number | undefined): string => (ms === undefined ? '' : iso(ms));
  const rows = incidents.map((i) => [
    i.id, i.kind, i.state, i.severity, String(i.risk), i.title, i.vehicle ?? '', i.groupKey, i.rules.join(';'), i.tags.join(';'),
    i.assignee ?? '', String(i.vehicleCount), String(i.alertCount), time(i.firstAlertAt), time(i.lastAlertAt),
    time(i.createdAt), time(i.updatedAt), time(i.slaDueAt), time(i.closedAt),
  ]);
  return stringify([[...CSV_COLUMNS], ...rows], { escape_formulas: true, record_delimiter: 'unix' });
}

// ---- STIX 2.1 ----------------------------------------------------------------------------

/** A STIX object as exported: the common properties and whatever its type adds. */
export type StixObject = { readonly type: string; readonly id: string; readonly spec_version?: string } & Readonly<Record<string, unknown>>;

export interface StixBundle {
  readonly type: 'bundle';
  readonly id: string;
  readonly objects: readonly StixObject[];
}

const VIGIL_IDENTITY = `identity--${uuidv5('vigil/identity')}`;
/** The property extension carrying Vigil's incident facts (defined in every bundle). */
export const INCIDENT_EXTENSION = `extension-definition--${uuidv5('vigil/extension/incident/1')}`;

const producer: StixObject = {
  type: 'identity', spec_version: '2.1', id: VIGIL_IDENTITY, created: DEFINITION_TIME, modified: DEFINITION_TIME,
  name: 'Vigil', identity_class: 'system', description: 'Vigil, an open-source vehicle security operations center',
};

const extensionDefinition: StixObject = {
  type: 'extension-definition', spec_version: '2.1', id: INCIDENT_EXTENSION, created: DEFINITION_TIME, modified: DEFINITION_TIME,
  created_by_ref: VIGIL_IDENTITY, name: 'Vigil incident', version: '1.0.0', extension_types: ['property-extension'],
  description: 'Facts of a Vigil incident the STIX 2.1 incident object has no property for.',
  schema: [
    'Properties (all from the Vigil incident): vigil_id (string), kind (vehicle | campaign | intel), state (new | triaged |',
    'investigating | contained | resolved | false_positive), severity (info | low | medium | high | critical), risk (0-100),',
    'group_key (string), rules (list of detection rule ids), alert_count, vehicle_count (integers), first_alert, last_alert,',
    'sla_due, closed (timestamps), assignee (string), vehicle_ref (identity id of the vehicle), sighting_refs (sighting ids).',
  ].join(' '),
};

/**
 * A STIX 2.1 bundle of `incidents` of `tenant`. Deterministic: the same incidents give the
 * same bundle, byte for byte.
 */
export function incidentsToStix(tenant: string, incidents: readonly Incident[]): StixBundle {
  const objects = new Map<string, StixObject>([[producer.id, producer], [extensionDefinition.id, extensionDefinition]]);
  const add = (o: StixObject): void => {
    if (!objects.has(o.id)) objects.set(o.id, o);
  };
  for (const inc of incidents) {
    const vehicle = inc.vehicle !== undefined ? vehicleIdentity(tenant, inc.vehicle) : undefined;
    if (vehicle) add(vehicle);
    const sightings = inc.rules.map((rule) => {
      const indicator = ruleIndicator(tenant, rule);
      add(indicator);
      return sighting(tenant, inc, rule, indicator.id, vehicle?.id);
    });
    add(incidentObject(tenant, inc, sightings.map((s) => s.id), vehicle?.id));
    for (const s of sightings) add(s);
  }
  const name = `bundle/${tenant}/${incidents.map((i) => i.id).sort().join('\u0000')}`;
  return { type: 'bundle', id: `bundle--${uuidv5(name)}`, objects: [...objects.values()] };
}

function incidentObject(tenant: string, inc: Incident, sightingRefs: readonly string[], vehicleRef: string | undefined): StixObject {
  const ext: Record<string, unknown> = {
    extension_type: 'property-extension',
    vigil_id: inc.id, kind: inc.kind, state: inc.state, severity: inc.severity, risk: inc.risk, group_key: inc.groupKey,
    rules: [...inc.rules], alert_count: inc.alertCount, vehicle_count: inc.vehicleCount,
    first_alert: iso(inc.firstAlertAt), last_alert: iso(inc.lastAlertAt),
    ...(inc.slaDueAt !== undefined ? { sla_due: iso(inc.slaDueAt) } : {}),
    ...(inc.closedAt !== undefined ? { closed: iso(inc.closedAt) } : {}),
    ...(inc.assignee !== undefined ? { assignee: inc.assignee } : {}),
    ...(vehicleRef ? { vehicle_ref: vehicleRef } : {}),
    ...(sightingRefs.length ? { sighting_refs: [...sightingRefs] } : {}),
  };
  const vehicles = inc.vehicleCount === 1 ? '1 vehicle' : `${inc.vehicleCount} vehicles`;
  return {
    type: 'incident', spec_version: '2.1', id: `incident--${uuidv5(`incident/${tenant}/${inc.id}`)}`,
    created: iso(inc.createdAt), modified: iso(Math.max(inc.createdAt, inc.updatedAt)), created_by_ref: VIGIL_IDENTITY,
    name: inc.title,
    description: `${inc.severity} ${inc.kind} incident, ${inc.state}: ${inc.alertCount} alert${inc.alertCount === 1 ? '' : 's'} from ${vehicles} (${inc.rules.join(', ')}), risk ${inc.risk}`,
    ...(inc.tags.length ? { labels: [...inc.tags] } : {}),
    external_references: [{ source_name: 'vigil', external_id: inc.id }],
    extensions: { [INCIDENT_EXTENSION]: ext },
  };
}

function ruleIndicator(tenant: string, rule: string): StixObject {
  return {
    type: 'indicator', spec_version: '2.1', id: `indicator--${uuidv5(`indicator/${tenant}/${rule}`)}`,
    created: DEFINITION_TIME, modified: DEFINITION_TIME, created_by_ref: VIGIL_IDENTITY,
    name: `Vigil detection ${rule}`, indicator_types: ['anomalous-activity'],
    pattern: `[x-vigil-alert:rule = '${rule.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`, pattern_type: 'stix', valid_from: DEFINITION_TIME,
    x_vigil_rule: rule,
  };
}

function vehicleIdentity(tenant: string, key: string): StixObject {
  return {
    type: 'identity', spec_version: '2.1', id: `identity--${uuidv5(`vehicle/${tenant}/${key}`)}`,
    created: DEFINITION_TIME, modified: DEFINITION_TIME, created_by_ref: VIGIL_IDENTITY,
    name: `vehicle ${key}`, description: 'A vehicle, named by its Vigil pseudonym (keyed HMAC of the VIN per tenant)',
    identity_class: 'system', sectors: ['automotive'], x_vigil_vehicle: key,
  };
}

/**
 * One sighting per (incident, rule). Its times are the incident's; `count` is the incident's
 * alert count when it has a single rule (the incident does not keep counts per rule).
 */
function sighting(tenant: string, inc: Incident, rule: string, indicator: string, vehicleRef: string | undefined): StixObject {
  return {
    type: 'sighting', spec_version: '2.1', id: `sighting--${uuidv5(`sighting/${tenant}/${inc.id}/${rule}`)}`,
    created: iso(inc.createdAt), modified: iso(Math.max(inc.createdAt, inc.updatedAt)), created_by_ref: VIGIL_IDENTITY,
    sighting_of_ref: indicator,
    first_seen: iso(inc.firstAlertAt), last_seen: iso(Math.max(inc.firstAlertAt, inc.lastAlertAt)),
    ...(inc.rules.length === 1 ? { count: Math.min(MAX_SIGHTING_COUNT, inc.alertCount) } : {}),
    ...(vehicleRef ? { where_sighted_refs: [vehicleRef] } : {}),
  };
}

/** RFC 3339 UTC with milliseconds (`2026-10-02T08:15:00.000Z`), as STIX timestamps require. */
function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A name-based UUID (RFC 4122 version 5, SHA-1) in `namespace`. */
export function uuidv5(name: string, namespace: string = VIGIL_STIX_NAMESPACE): string {
  const h = createHash('sha1').update(Buffer.from(namespace.replace(/-/g, ''), 'hex')).update(name, 'utf8').digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
