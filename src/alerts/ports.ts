/**
 * Ports of the incident side: where incidents, alert outcomes, evidence, suppressions and the
 * incident history are kept. The DuckDB adapters live in src/adapters/duckdb
 * (incident-store.ts, workflow-store.ts); PostgreSQL follows with scale-out. Every method is
 * scoped to one tenant: a row of another tenant is never read, changed or counted.
 */
import type { Alert, ApiEvent, SecurityEvent, Severity } from '../core/records.js';
import type { AlertOutcome, AlertOutcomeKind, Incident, IncidentKind, IncidentState, Suppression } from './model.js';

export interface IncidentQuery {
  readonly tenant: string;
  readonly state?: readonly IncidentState[];
  readonly severity?: readonly Severity[];
  readonly kind?: IncidentKind;
  readonly vehicle?: string;
  readonly rule?: string;
  readonly assignee?: string;
  readonly tag?: string;
  /** Incidents whose last alert is at or after / before these times (epoch ms). */
  readonly since?: number;
  readonly until?: number;
  /** breached: `slaDueAt` set and before `at`; not breached: `slaDueAt` absent or at/after `at`. */
  readonly slaBreached?: { readonly breached: boolean; readonly at: number };
  /** Field to sort by and direction; default newest `lastAlertAt` first. */
  readonly sort?: { field: 'createdAt' | 'updatedAt' | 'lastAlertAt' | 'risk' | 'severity' | 'alertCount' | 'slaDueAt'; desc: boolean };
  readonly limit: number;
  readonly offset?: number;
}

/** Fields an update may change; the store bumps `updatedAt`. */
export type IncidentPatch = Partial<Pick<Incident,
  'title' | 'state' | 'severity' | 'risk' | 'tags' | 'rules' | 'vehicleCount' | 'alertCount' | 'lastAlertAt' | 'context'>> & {
  /** `null` clears the field. */
  readonly assignee?: string | null;
  readonly slaDueAt?: number | null;
  readonly closedAt?: number | null;
};

export interface IncidentStore {
  /** An id already stored is skipped (the first write wins): a retried write is safe. */
  insertIncidents(incidents: readonly Incident[]): Promise<void>;
  updateIncident(tenant: string, id: string, patch: IncidentPatch, at: number): Promise<Incident | undefined>;
  /**
   * Read each incident that exists, apply the patch `merge` returns for it (none: unchanged),
   * with no other change between read and write; returns the changed incidents as stored.
   */
  updateIncidents(keys: readonly { tenant: string; id: string }[], merge: (stored: Incident) => IncidentPatch | undefined, at: number): Promise<Incident[]>;
  getIncident(tenant: string, id: string): Promise<Incident | undefined>;
  listIncidents(q: IncidentQuery): Promise<{ items: Incident[]; total: number }>;
  /** Open (not resolved, not false positive) incidents, for the alert pipeline to rebuild its index at start. */
  openIncidents(tenant?: string): Promise<Incident[]>;
  /** Link alerts to an incident; returns links actually added (an alert already linked is skipped). */
  attachAlerts(tenant: string, incident: string, alerts: readonly { id: string; vehicle?: string }[], at: number): Promise<number>;
  /** attachAlerts for several incidents in one write. */
  attachAlertsMany(links: readonly { tenant: string; incident: string; alerts: readonly { id: string; vehicle?: string }[] }[], at: number): Promise<number>;
  /** Ids of the alerts of an incident, newest first. */
  incidentAlertIds(tenant: string, incident: string, page: { limit: number; offset?: number }): Promise<string[]>;

  recordOutcomes(outcomes: readonly AlertOutcome[]): Promise<void>;
  /** Per rule: alerts in, duplicates, suppressed, incidents they opened or joined, since `since`. */
  noise(tenant: string, since?: number): Promise<NoiseRow[]>;

  saveEvidence(tenant: string, alert: string, evidence: Readonly<Record<string, unknown>>, at: number): Promise<void>;
  getEvidence(tenant: string, alert: string): Promise<{ capturedAt: number; evidence: Record<string, unknown> } | undefined>;

  insertSuppression(s: Suppression): Promise<void>;
  listSuppressions(q: { tenant: string; activeAt?: number; limit: number; offset?: number }): Promise<{ items: Suppression[]; total: number }>;
  /** Every suppression not expired at `now`, of every tenant (the alert pipeline's matcher). */
  activeSuppressions(now: number): Promise<Suppression[]>;
  /** End a suppression now (sets expiresAt); false when unknown. */
  expireSuppression(tenant: string, id: string, at: number): Promise<boolean>;
  addSuppressionHits(tenant: string, hits: ReadonlyMap<string, number>): Promise<void>;
}

export interface NoiseRow {
  readonly rule: string;
  readonly alerts: number;
  readonly duplicates: number;
  readonly suppressed: number;
  readonly incidentAlerts: number;
  /** Distinct incidents this rule's alerts opened or joined. */
  readonly incidents: number;
}

/** One entry of an incident's history. */
export interface IncidentEvent {
  readonly tenant: string;
  readonly incident: string;
  readonly id: string;
  readonly time: number;
  /** Token id of who did it, or `system`. */
  readonly actor: string;
  /** `created`, `alerts`, `state`, `assign`, `comment`, `tag`, `link`, `verdict`, `action`, ... */
  readonly kind: string;
  readonly body: Readonly<Record<string, unknown>>;
}

export interface IncidentLink {
  readonly tenant: string;
  readonly a: string;
  readonly b: string;
  /** `related`, `duplicate_of`, `caused_by`, ... */
  readonly relation: string;
  readonly createdBy: string;
  readonly createdAt: number;
}

export interface RuleTuning {
  readonly tenant: string;
  readonly rule: string;
  /** Parameter overrides of the rule (e.g. `{ threshold: 20 }`). */
  readonly params: Readonly<Record<string, unknown>>;
  readonly reason: string;
  readonly createdBy: string;
  readonly createdAt: number;
}

export interface WorkflowStore {
  appendEvents(events: readonly IncidentEvent[]): Promise<void>;
  /** Oldest first. */
  events(tenant: string, incident: string): Promise<IncidentEvent[]>;
  insertLink(link: IncidentLink): Promise<boolean>;
  links(tenant: string, incident: string): Promise<IncidentLink[]>;
  saveTuning(t: RuleTuning): Promise<void>;
  listTuning(tenant?: string): Promise<RuleTuning[]>;
}

/** What `GET /v1/alerts` filters on; `outcome: 'pending'` is an alert the alert pipeline has not decided yet. */
export interface AlertQuery {
  readonly tenant: string;
  readonly rule?: string;
  readonly vehicle?: string;
  readonly severity?: readonly Severity[];
  /** Alert (event) time, epoch ms: `since` inclusive, `until` exclusive. */
  readonly since?: number;
  readonly until?: number;
  readonly outcome?: AlertOutcomeKind | 'pending';
  /** Field to sort by and direction; default newest `time` first. Ties: newest time, then id (a stable order for paging). */
  readonly sort?: { field: AlertSortField; desc: boolean };
  readonly limit: number;
  readonly offset?: number;
}

/** What `GET /v1/alerts` sorts by: `severity` by rank (low < critical), `outcome` by kind, pending last. */
export const ALERT_SORT_FIELDS = ['time', 'detectedAt', 'severity', 'rule', 'vehicle', 'outcome'] as const;
export type AlertSortField = (typeof ALERT_SORT_FIELDS)[number];

/** A stored alert with what the alert pipeline made of it (absent while undecided). */
export interface AlertWithOutcome extends Alert {
  readonly outcome?: { readonly kind: AlertOutcomeKind; readonly ref: string; readonly at: number };
}

/** The store's records of one vehicle in a time window, for evidence (`from` inclusive, `to` exclusive). */
export interface VehicleWindowQuery {
  readonly tenant: string;
  readonly vehicle: string;
  readonly from: number;
  readonly to: number;
  readonly limit: number;
}

/** Counts per time bucket for the console's overview: `[from, to)` cut into buckets of `bucketMs` from `from`. */
export interface TimelineQuery {
  readonly tenant: string;
  readonly from: number;
  readonly to: number;
  readonly bucketMs: number;
}

/** One bucket: alerts by severity (by alert time) and incidents opened (by creation time). */
export interface TimelineBucket {
  readonly start: number;
  readonly alerts: Readonly<Record<Severity, number>>;
  readonly incidents: number;
}

/** Aggregates over every stored alert and incident of a tenant (not a sample of the latest). */
export interface AlertTimeline {
  /** Every bucket of the range, empty ones included. */
  timeline(q: TimelineQuery): Promise<TimelineBucket[]>;
  /** Stored alerts by severity, all time. */
  alertsBySeverity(tenant: string): Promise<Record<Severity, number>>;
  /** The time of the tenant's earliest alert at or after `since`, if any. */
  firstAlertSince(tenant: string, since: number): Promise<number | undefined>;
}

/**
 * Reads across the raw-record tables and the alert pipeline's decisions: the alert list of the
 * API, the vehicle records an evidence capture collects, the fleet size for scoring.
 */
export interface AlertQueries {
  /** In `q.sort` order (default newest first; ties newest first, then by id), with the total count of matches. */
  listAlerts(q: AlertQuery): Promise<{ items: AlertWithOutcome[]; total: number }>;
  getAlert(tenant: string, id: string): Promise<AlertWithOutcome | undefined>;
  /** Security events of a vehicle in the window, oldest first. */
  securityEventsIn(q: VehicleWindowQuery): Promise<SecurityEvent[]>;
  /** API / log events of a vehicle in the window, oldest first. */
  apiEventsIn(q: VehicleWindowQuery): Promise<ApiEvent[]>;
  /** Vehicles the store knows of the tenant (registered or seen). */
  fleetSize(tenant: string): Promise<number>;
  /** Distinct incidents that alerts decided since `since` opened or joined (the "incidents out" of the noise figure). */
  noiseIncidents(tenant: string, since?: number): Promise<number>;
  /** Which of `ids` already have an outcome (a replayed alert is not decided twice). */
  decidedAlerts(tenant: string, ids: readonly string[]): Promise<Set<string>>;
  /** Incidents of every tenant closed (resolved, false positive) and updated at or after `since`. */
  closedSince(since: number): Promise<{ tenant: string; id: string }[]>;
}
