/**
 * Response: what Vigil did about an incident, and the port where it is kept. Every action run
 * (from a playbook step or ad hoc) is an `ActionRun`; every delivery attempt of a webhook or
 * syslog message a `DeliveryRecord`; every request to another system (an OTA campaign, raised
 * data collection) a `ResponseRequest` that vehicles and back ends can read. The DuckDB
 * adapter is src/adapters/duckdb/response-store.ts. Every method is scoped to one tenant.
 */
import type { AttemptStatus } from './notifier.js';

export const ACTION_KINDS = ['webhook', 'ota_campaign', 'revoke_token', 'raise_collection', 'notify'] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

export const RUN_STATUSES = ['running', 'succeeded', 'failed', 'skipped'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** One action, run from a playbook step or on its own. */
export interface ActionRun {
  readonly tenant: string;
  readonly id: string;
  readonly incident?: string;
  readonly playbook?: string;
  /** Index of the step in its playbook (0-based). */
  readonly step?: number;
  readonly action: ActionKind;
  readonly status: RunStatus;
  /** The parameters as run (templates filled in). */
  readonly params: Readonly<Record<string, unknown>>;
  /** What came of it: ids of requests, deliveries, the error. */
  readonly result?: Readonly<Record<string, unknown>>;
  /** Token id of who started it, or `system`. */
  readonly actor: string;
  readonly startedAt: number;
  readonly finishedAt?: number;
}

/** One attempt to deliver one message; a message's attempts share its id. */
export interface DeliveryRecord {
  readonly tenant: string;
  readonly id: string;
  readonly attempt: number;
  readonly channel: string;
  readonly target: string;
  readonly event: string;
  readonly status: AttemptStatus;
  readonly httpStatus?: number;
  readonly error?: string;
  readonly at: number;
}

export const REQUEST_KINDS = ['ota_campaign', 'data_collection'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/**
 * `requested`: recorded (no endpoint to send it to, or not sent yet); `sent`: an OTA back end
 * took it; `failed`: it could not be delivered; `active`: data collection is raised until it expires.
 */
export const REQUEST_STATUSES = ['requested', 'sent', 'failed', 'active'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

export interface ResponseRequest {
  readonly tenant: string;
  readonly id: string;
  readonly kind: RequestKind;
  readonly incident?: string;
  /** Vehicle keys. */
  readonly vehicles: readonly string[];
  readonly params: Readonly<Record<string, unknown>>;
  readonly status: RequestStatus;
  readonly createdBy: string;
  readonly createdAt: number;
  readonly expiresAt?: number;
}

/** A playbook as stored for a tenant: the definition as given (validated by playbooks.ts). */
export interface StoredPlaybook {
  readonly tenant: string;
  readonly id: string;
  readonly definition: Readonly<Record<string, unknown>>;
  readonly updatedBy: string;
  readonly updatedAt: number;
}

export interface Page {
  readonly limit: number;
  readonly offset?: number;
}

export interface ResponseStore {
  /** Insert or replace the tenant's playbook of that id. */
  savePlaybook(p: StoredPlaybook): Promise<void>;
  getPlaybook(tenant: string, id: string): Promise<StoredPlaybook | undefined>;
  /** By id. */
  listPlaybooks(tenant: string): Promise<StoredPlaybook[]>;
  deletePlaybook(tenant: string, id: string): Promise<boolean>;

  insertActionRun(run: ActionRun): Promise<void>;
  /** Settle a running action; false when unknown. */
  finishActionRun(tenant: string, id: string, status: RunStatus, result: Readonly<Record<string, unknown>>, at: number): Promise<boolean>;
  getActionRun(tenant: string, id: string): Promise<ActionRun | undefined>;
  /** Newest first (ties: playbook step order). */
  listActionRuns(q: Page & { tenant: string; incident?: string; playbook?: string; action?: ActionKind; status?: RunStatus }): Promise<{ items: ActionRun[]; total: number }>;

  /** Idempotent by (tenant, id, attempt). */
  recordDeliveries(rows: readonly DeliveryRecord[]): Promise<void>;
  /** Newest first; attempts of one message in order. */
  listDeliveries(q: Page & { tenant: string; id?: string; channel?: string; status?: AttemptStatus; event?: string }): Promise<{ items: DeliveryRecord[]; total: number }>;

  insertResponseRequest(r: ResponseRequest): Promise<void>;
  setRequestStatus(tenant: string, id: string, status: RequestStatus): Promise<boolean>;
  /**
   * Newest first. `activeAt`: only those not failed and not expired at that time (a request
   * without expiry stays active).
   */
  listResponseRequests(q: Page & { tenant: string; kind?: RequestKind; incident?: string; vehicle?: string; activeAt?: number }): Promise<{ items: ResponseRequest[]; total: number }>;

  /** The distinct vehicles of an incident's alerts (`incident_alerts`), in key order. */
  incidentVehicles(tenant: string, incident: string): Promise<string[]>;
}
