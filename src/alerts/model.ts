/**
 * Incidents: what analysts work. Raw alerts from the detectors go through the alert pipeline
 * (deduplication, suppression, grouping, scoring: pipeline.ts) and end in exactly one outcome
 * each; alerts that survive are grouped into incidents, which move through the workflow states
 * of workflow.ts.
 */
import type { Severity } from '../core/records.js';

export const INCIDENT_STATES = ['new', 'triaged', 'investigating', 'contained', 'resolved', 'false_positive'] as const;
export type IncidentState = (typeof INCIDENT_STATES)[number];

/**
 * How alerts were grouped: one vehicle's alerts (`vehicle`), one detection across the fleet
 * (`campaign`, from fleet correlation), or everything touching one intel item (`intel`).
 */
export const INCIDENT_KINDS = ['vehicle', 'campaign', 'intel'] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

export interface Incident {
  readonly tenant: string;
  readonly id: string;
  readonly kind: IncidentKind;
  /** What alerts join this incident while it is open: the vehicle key, campaign rule + group, or intel id. */
  readonly groupKey: string;
  readonly title: string;
  readonly state: IncidentState;
  /** The highest severity among its alerts. */
  readonly severity: Severity;
  /** Risk score 0..100 (scoring.ts). */
  readonly risk: number;
  readonly assignee?: string;
  readonly tags: readonly string[];
  /** The vehicle of a `vehicle` incident. */
  readonly vehicle?: string;
  /** Distinct rules and vehicles among its alerts. */
  readonly rules: readonly string[];
  readonly vehicleCount: number;
  readonly alertCount: number;
  readonly firstAlertAt: number;
  readonly lastAlertAt: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** When the SLA for the current state runs out (workflow.ts); absent once closed. */
  readonly slaDueAt?: number;
  readonly closedAt?: number;
  /** Enrichment: twin identity (make, model, year, software), fleet spread, intel matches. */
  readonly context: Readonly<Record<string, unknown>>;
}

/** What became of one raw alert in the alert pipeline. */
export const ALERT_OUTCOMES = ['incident', 'duplicate', 'suppressed'] as const;
export type AlertOutcomeKind = (typeof ALERT_OUTCOMES)[number];

export interface AlertOutcome {
  readonly tenant: string;
  readonly alert: string;
  readonly rule: string;
  readonly outcome: AlertOutcomeKind;
  /** The incident it joined, the alert it duplicates, or the suppression that hid it. */
  readonly ref: string;
  readonly at: number;
}

/** An analyst-defined suppression: alerts matching it are kept but raise nothing, until it expires. */
export interface Suppression {
  readonly tenant: string;
  readonly id: string;
  /** Rule id; absent matches every rule. */
  readonly rule?: string;
  /** Vehicle key; absent matches every vehicle. */
  readonly vehicle?: string;
  /** Further equality conditions on alert details or vehicle attributes (`details.can_id`, `model`, ...). */
  readonly match: Readonly<Record<string, string | number | boolean>>;
  readonly reason: string;
  readonly createdBy: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Alerts it has hidden so far. */
  readonly hits: number;
}
