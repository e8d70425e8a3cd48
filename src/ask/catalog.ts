/**
 * The entity catalog: what a typed query may name. Every entity, every field with its type,
 * label, synonyms (seed words for the vocabulary; the language engine adds values from the data),
 * and whether it can be filtered on, grouped by or aggregated. The compiler maps exactly these
 * names to SQL (compile.ts); a name not here never reaches a store.
 *
 * Joined fields are dotted: an alert's `vehicle.make` is the make of the alert's vehicle; an
 * exposure's `vulnerability.cvss` the CVSS score of its vulnerability. One field family is open:
 * `software.<ECU>` (on vehicles) and `vehicle.software.<ECU>` (elsewhere) is the software version
 * the vehicle's ECU runs, for any ECU name matching ECU_NAME.
 */
import { ECU_NAME, VEHICLE_ATTRIBUTES } from '../alerts/fleet.js';
import { SEVERITIES } from '../core/records.js';
import type { Operator } from './query.js';

/**
 * Field types. `enum`: one of `values` (ordered when `ordered`, so gt/gte/lt/lte compare ranks);
 * `list`: a list of strings (tags, rules); `vehicle`: a vehicle key (16 lowercase hex digits);
 * `time`: epoch ms.
 */
export const FIELD_TYPES = ['string', 'enum', 'integer', 'number', 'time', 'boolean', 'list', 'vehicle'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** The operators each field type accepts. */
export const OPERATORS_BY_TYPE: Readonly<Record<FieldType, readonly Operator[]>> = {
  string: ['eq', 'ne', 'in', 'not_in', 'contains', 'starts_with', 'is_null', 'not_null'],
  enum: ['eq', 'ne', 'in', 'not_in', 'is_null', 'not_null'], // plus gt/gte/lt/lte/between when ordered
  integer: ['eq', 'ne', 'in', 'not_in', 'gt', 'gte', 'lt', 'lte', 'between', 'is_null', 'not_null'],
  number: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'between', 'is_null', 'not_null'],
  time: ['gt', 'gte', 'lt', 'lte', 'between', 'is_null', 'not_null'],
  boolean: ['eq', 'ne'],
  list: ['has', 'has_any'],
  vehicle: ['eq', 'ne', 'in', 'not_in', 'is_null', 'not_null'],
};

/** Operators on ordered enums beyond OPERATORS_BY_TYPE.enum. */
export const ORDERED_ENUM_OPERATORS: readonly Operator[] = ['gt', 'gte', 'lt', 'lte', 'between'];

export interface FieldSpec {
  readonly name: string;
  readonly type: FieldType;
  /** Display name, e.g. "vehicle make". */
  readonly label: string;
  /** Other words for it ("manufacturer", "brand"); the vocabulary's seed. */
  readonly synonyms: readonly string[];
  /** The allowed values of an enum, lowest rank first when ordered. */
  readonly values?: readonly string[];
  readonly ordered?: boolean;
  readonly filterable: boolean;
  readonly groupable: boolean;
  /** count_distinct/min/max accept it; avg and sum also need a number or integer type. */
  readonly aggregatable: boolean;
  readonly description?: string;
}

export const ENTITY_NAMES = ['vehicles', 'alerts', 'incidents', 'alert_outcomes', 'vulnerabilities', 'exposures'] as const;
export type EntityName = (typeof ENTITY_NAMES)[number];

export interface EntitySpec {
  readonly name: EntityName;
  readonly label: string;
  readonly synonyms: readonly string[];
  readonly description: string;
  /** The time field a query's time range applies to by default; a trend buckets it. */
  readonly timeField: string;
  /** The field holding the row's vehicle (commonality and `vehicle.*` joins), if any. */
  readonly vehicleField?: string;
  /** False for global feed content (vulnerabilities): the same for every tenant. */
  readonly tenantScoped: boolean;
  /** Fields of a listing (a query without measures and group-by), in order. */
  readonly listFields: readonly string[];
  readonly fields: readonly FieldSpec[];
  /** Dotted prefixes of open field families on this entity: `software.` or `vehicle.software.`. */
  readonly softwarePrefix?: string;
}

type F = Omit<FieldSpec, 'filterable' | 'groupable' | 'aggregatable' | 'synonyms'> &
  Partial<Pick<FieldSpec, 'filterable' | 'groupable' | 'aggregatable' | 'synonyms'>>;

/** Defaults by type: everything filterable; groupable unless a time, number or list (bucket times with a trend). */
function field(f: F): FieldSpec {
  return {
    synonyms: [],
    filterable: true,
    groupable: !['time', 'number', 'list'].includes(f.type),
    aggregatable: f.type !== 'list' && f.type !== 'boolean',
    ...f,
  };
}

const SEVERITY_VALUES = [...SEVERITIES];
const INCIDENT_STATES = ['new', 'triaged', 'investigating', 'contained', 'resolved', 'false_positive'];
const OUTCOMES = ['incident', 'duplicate', 'suppressed'];
const CVSS_SEVERITIES = ['NONE', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];
const MATCH_RESULTS = ['affected', 'not_affected', 'fixed', 'needs_review', 'unknown'];

const VEHICLE_SYNONYMS: Readonly<Record<(typeof VEHICLE_ATTRIBUTES)[number], readonly string[]>> = {
  make: ['manufacturer', 'brand', 'oem'],
  model: ['vehicle model', 'car model'],
  year: ['model year', 'my'],
  trim: ['trim level', 'variant', 'edition'],
  region: ['market', 'country', 'area'],
};

/** The vehicle's own attributes, named with `prefix` ('' on vehicles, 'vehicle.' elsewhere). */
function vehicleAttributes(prefix: string): FieldSpec[] {
  return VEHICLE_ATTRIBUTES.map((a) => field({
    name: `${prefix}${a}`, type: a === 'year' ? 'integer' : 'string', label: `vehicle ${a}`, synonyms: VEHICLE_SYNONYMS[a],
  }));
}

const vehicleKey = (name: string): FieldSpec =>
  field({ name, type: 'vehicle', label: 'vehicle', synonyms: ['car', 'vin', 'vehicle id'], description: 'pseudonymized vehicle key (16 hex digits)' });

export const CATALOG: readonly EntitySpec[] = [
  {
    name: 'vehicles', label: 'vehicles', synonyms: ['vehicle', 'cars', 'car', 'fleet'],
    description: "the tenant's registered and seen vehicles, with their ECU software versions",
    timeField: 'last_seen', vehicleField: 'vehicle', tenantScoped: true, softwarePrefix: 'software.',
    listFields: ['vehicle', 'make', 'model', 'year', 'trim', 'region', 'last_seen'],
    fields: [
      vehicleKey('vehicle'),
      ...vehicleAttributes(''),
      field({ name: 'first_seen', type: 'time', label: 'first seen', synonyms: ['onboarded', 'registered', 'enrolled'] }),
      field({ name: 'last_seen', type: 'time', label: 'last seen', synonyms: ['last contact', 'last active'] }),
      field({ name: 'signal_count', type: 'integer', label: 'signals received', groupable: false }),
    ],
  },
  {
    name: 'alerts', label: 'alerts', synonyms: ['alert', 'detections', 'alarms', 'alerted'],
    description: 'detections raised by rules and models, with the alerting vehicle',
    timeField: 'ts', vehicleField: 'vehicle', tenantScoped: true, softwarePrefix: 'vehicle.software.',
    listFields: ['id', 'ts', 'vehicle', 'rule', 'severity', 'title'],
    fields: [
      field({ name: 'id', type: 'string', label: 'alert id', groupable: false }),
      vehicleKey('vehicle'),
      field({ name: 'ts', type: 'time', label: 'alert time', synonyms: ['time', 'when', 'date'] }),
      field({ name: 'detected_at', type: 'time', label: 'detection time' }),
      field({ name: 'rule', type: 'string', label: 'rule', synonyms: ['detection rule', 'detector', 'rule id'] }),
      field({ name: 'title', type: 'string', label: 'alert title', synonyms: ['name'] }),
      field({ name: 'severity', type: 'enum', label: 'severity', values: SEVERITY_VALUES, ordered: true, synonyms: ['priority', 'level'] }),
      field({ name: 'tags', type: 'list', label: 'tags', synonyms: ['technique', 'threat'] }),
      field({
        name: 'outcome', type: 'enum', label: 'alert outcome', values: OUTCOMES, synonyms: ['decision', 'suppressed', 'duplicate'],
        description: 'what the alert service decided: grouped into an incident, a duplicate, or suppressed (absent while undecided)',
      }),
      ...vehicleAttributes('vehicle.'),
    ],
  },
  {
    name: 'incidents', label: 'incidents', synonyms: ['incident', 'cases', 'case', 'tickets'],
    description: 'incidents analysts work (vehicle, campaign or intel), with the incident vehicle',
    timeField: 'first_alert_at', vehicleField: 'vehicle', tenantScoped: true, softwarePrefix: 'vehicle.software.',
    listFields: ['id', 'first_alert_at', 'kind', 'state', 'severity', 'risk', 'assignee', 'title'],
    fields: [
      field({ name: 'id', type: 'string', label: 'incident id', groupable: false }),
      field({ name: 'kind', type: 'enum', label: 'incident kind', values: ['vehicle', 'campaign', 'intel'], synonyms: ['type'] }),
      field({ name: 'state', type: 'enum', label: 'state', values: INCIDENT_STATES, synonyms: ['status'] }),
      field({ name: 'severity', type: 'enum', label: 'severity', values: SEVERITY_VALUES, ordered: true, synonyms: ['priority', 'level'] }),
      field({ name: 'risk', type: 'number', label: 'risk score', synonyms: ['risk', 'score'] }),
      field({ name: 'assignee', type: 'string', label: 'assignee', synonyms: ['owner', 'assigned to', 'analyst'] }),
      field({ name: 'title', type: 'string', label: 'incident title', groupable: false }),
      field({ name: 'tags', type: 'list', label: 'tags' }),
      field({ name: 'rules', type: 'list', label: 'rules', synonyms: ['rule'] }),
      vehicleKey('vehicle'),
      field({ name: 'vehicle_count', type: 'integer', label: 'vehicles involved', groupable: false }),
      field({ name: 'alert_count', type: 'integer', label: 'alerts in the incident', groupable: false }),
      field({ name: 'first_alert_at', type: 'time', label: 'first alert time', synonyms: ['time', 'when', 'opened', 'date'] }),
      field({ name: 'last_alert_at', type: 'time', label: 'last alert time' }),
      field({ name: 'created_at', type: 'time', label: 'created' }),
      field({ name: 'updated_at', type: 'time', label: 'updated' }),
      field({ name: 'closed_at', type: 'time', label: 'closed', synonyms: ['resolved at'] }),
      field({ name: 'sla_due_at', type: 'time', label: 'SLA due', synonyms: ['deadline'] }),
      ...vehicleAttributes('vehicle.'),
    ],
  },
  {
    name: 'alert_outcomes', label: 'alert outcomes', synonyms: ['outcomes', 'decisions'],
    description: "the alert service's decision per alert: into an incident, duplicate or suppressed",
    timeField: 'decided_at', tenantScoped: true,
    listFields: ['alert', 'rule', 'outcome', 'ref', 'decided_at'],
    fields: [
      field({ name: 'alert', type: 'string', label: 'alert id', groupable: false }),
      field({ name: 'rule', type: 'string', label: 'rule' }),
      field({ name: 'outcome', type: 'enum', label: 'outcome', values: OUTCOMES, synonyms: ['decision'] }),
      field({ name: 'ref', type: 'string', label: 'incident or suppression', groupable: false }),
      field({ name: 'decided_at', type: 'time', label: 'decision time', synonyms: ['time', 'when'] }),
    ],
  },
  {
    name: 'vulnerabilities', label: 'vulnerabilities', synonyms: ['vulnerability', 'cves', 'cve', 'vulns', 'advisories'],
    description: 'vulnerabilities known from the intel feeds (global, the same for every tenant)',
    timeField: 'published', tenantScoped: false,
    listFields: ['id', 'published', 'cvss', 'severity', 'epss', 'kev', 'title'],
    fields: [
      field({ name: 'id', type: 'string', label: 'vulnerability id', synonyms: ['cve id'], groupable: false }),
      field({ name: 'title', type: 'string', label: 'title', groupable: false }),
      field({ name: 'published', type: 'time', label: 'published', synonyms: ['disclosed', 'time', 'when'] }),
      field({ name: 'modified', type: 'time', label: 'modified' }),
      field({ name: 'cvss', type: 'number', label: 'CVSS base score', synonyms: ['score', 'cvss score'] }),
      field({ name: 'severity', type: 'enum', label: 'CVSS severity', values: CVSS_SEVERITIES, ordered: true }),
      field({ name: 'epss', type: 'number', label: 'EPSS probability', synonyms: ['exploit probability'] }),
      field({ name: 'kev', type: 'boolean', label: 'known exploited (KEV)', synonyms: ['exploited', 'known exploited'] }),
      field({ name: 'withdrawn', type: 'boolean', label: 'withdrawn', synonyms: ['rejected'] }),
    ],
  },
  {
    name: 'exposures', label: 'exposures', synonyms: ['exposure', 'exposed vehicles', 'vulnerable vehicles', 'affected vehicles'],
    description:
      "(vehicle, vulnerability) pairs: a vulnerability matched to a component of an SBOM bound to an ECU and software version the vehicle runs (and its model, when the SBOM names one)",
    timeField: 'matched_at', vehicleField: 'vehicle', tenantScoped: true, softwarePrefix: 'vehicle.software.',
    listFields: ['vehicle', 'vulnerability', 'ecu', 'software_version', 'component', 'result', 'confidence'],
    fields: [
      vehicleKey('vehicle'),
      field({ name: 'vulnerability', type: 'string', label: 'vulnerability', synonyms: ['cve', 'vuln'] }),
      field({ name: 'ecu', type: 'string', label: 'ECU', synonyms: ['ecu', 'controller'] }),
      field({ name: 'software_version', type: 'string', label: 'software version', synonyms: ['firmware', 'version'] }),
      field({ name: 'component', type: 'string', label: 'component', synonyms: ['library', 'package'] }),
      field({ name: 'result', type: 'enum', label: 'match result', values: MATCH_RESULTS, synonyms: ['status', 'affected'] }),
      field({ name: 'basis', type: 'string', label: 'match basis' }),
      field({ name: 'confidence', type: 'number', label: 'match confidence' }),
      field({ name: 'matched_at', type: 'time', label: 'matched', synonyms: ['time', 'when'] }),
      field({ name: 'vulnerability.cvss', type: 'number', label: 'CVSS base score', synonyms: ['cvss', 'score'] }),
      field({ name: 'vulnerability.severity', type: 'enum', label: 'CVSS severity', values: CVSS_SEVERITIES, ordered: true, synonyms: ['severity'] }),
      field({ name: 'vulnerability.epss', type: 'number', label: 'EPSS probability', synonyms: ['epss'] }),
      field({ name: 'vulnerability.kev', type: 'boolean', label: 'known exploited (KEV)', synonyms: ['kev', 'exploited'] }),
      ...vehicleAttributes('vehicle.'),
    ],
  },
];

const BY_NAME: ReadonlyMap<string, EntitySpec> = new Map(CATALOG.map((e) => [e.name, e]));

/** The entity named `name`, or undefined. */
export function entityOf(name: string): EntitySpec | undefined {
  return BY_NAME.get(name);
}

/**
 * The field `name` of `entity`, including the open `software.<ECU>` family, or undefined.
 * A software field is a string, filterable and groupable.
 */
export function fieldOf(entity: EntitySpec, name: string): FieldSpec | undefined {
  const known = entity.fields.find((f) => f.name === name);
  if (known) return known;
  const prefix = entity.softwarePrefix;
  if (prefix !== undefined && name.startsWith(prefix) && ECU_NAME.test(name.slice(prefix.length))) {
    const ecu = name.slice(prefix.length);
    return field({ name, type: 'string', label: `${ecu} software version`, synonyms: [`${ecu} firmware`, `${ecu} version`] });
  }
  return undefined;
}

/** The ECU of a software field (`software.TCU`, `vehicle.software.TCU`), else undefined. */
export function softwareEcu(entity: EntitySpec, name: string): string | undefined {
  const prefix = entity.softwarePrefix;
  if (prefix === undefined || !name.startsWith(prefix) || entity.fields.some((f) => f.name === name)) return undefined;
  const ecu = name.slice(prefix.length);
  return ECU_NAME.test(ecu) ? ecu : undefined;
}

/** The operators field `f` accepts. */
export function operatorsOf(f: FieldSpec): readonly Operator[] {
  const base = OPERATORS_BY_TYPE[f.type];
  return f.type === 'enum' && f.ordered ? [...base, ...ORDERED_ENUM_OPERATORS] : base;
}
