/**
 * The analyst workflow of an incident, pure: which state changes are allowed, and the SLA
 * timer of each state.
 *
 * States and allowed transitions (`TRANSITIONS`):
 *
 * | from           | to                                                  |
 * |----------------|-----------------------------------------------------|
 * | new            | triaged, investigating, false_positive, resolved    |
 * | triaged        | investigating, false_positive, resolved             |
 * | investigating  | contained, resolved, false_positive                 |
 * | contained      | resolved, investigating                             |
 * | resolved       | investigating (reopen)                              |
 * | false_positive | triaged (reopen)                                    |
 *
 * SLA: every open incident has one timer, `slaDueAt`. While `new` it is the time to triage
 * (from `createdAt`); once triaged or further it is the time to resolve (from `createdAt`, or
 * from the last reopen); closed (resolved, false positive) it is cleared. The times per
 * severity come from config `incidents.sla` (default `DEFAULT_SLA`). An incident is breached
 * when the clock has passed its `slaDueAt`.
 */
import type { Severity } from '../core/records.js';
import type { Incident, IncidentState } from './model.js';
import type { IncidentPatch } from './ports.js';

export const TRANSITIONS: Readonly<Record<IncidentState, readonly IncidentState[]>> = {
  new: ['triaged', 'investigating', 'false_positive', 'resolved'],
  triaged: ['investigating', 'false_positive', 'resolved'],
  investigating: ['contained', 'resolved', 'false_positive'],
  contained: ['resolved', 'investigating'],
  resolved: ['investigating'],
  false_positive: ['triaged'],
};

/** States in which an incident is done with; its SLA timer is cleared. */
export const CLOSED_STATES: readonly IncidentState[] = ['resolved', 'false_positive'];
/** States in which an incident is being worked (its SLA runs). */
export const OPEN_STATES: readonly IncidentState[] = ['new', 'triaged', 'investigating', 'contained'];

export function isClosed(state: IncidentState): boolean {
  return CLOSED_STATES.includes(state);
}

/** Time to triage and time to resolve of one severity, in ms. */
export interface SlaTimes {
  readonly triageMs: number;
  readonly resolveMs: number;
}
export type SlaPolicy = Readonly<Record<Severity, SlaTimes>>;

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** The default SLA per severity (config `incidents.sla` overrides it). */
export const DEFAULT_SLA: SlaPolicy = {
  critical: { triageMs: 15 * MIN, resolveMs: 4 * HOUR },
  high: { triageMs: HOUR, resolveMs: DAY },
  medium: { triageMs: 8 * HOUR, resolveMs: 7 * DAY },
  low: { triageMs: 3 * DAY, resolveMs: 30 * DAY },
  info: { triageMs: 7 * DAY, resolveMs: 90 * DAY },
};

/** Context key holding the time of the last reopen: the resolve timer restarts there. */
export const REOPENED_AT = 'reopenedAt';

/**
 * When the SLA of an incident in `state` runs out: the triage time for `new`, the resolve
 * time for the other open states (both counted from `clockStart`), undefined once closed.
 */
export function slaDueAt(state: IncidentState, severity: Severity, clockStart: number, policy: SlaPolicy = DEFAULT_SLA): number | undefined {
  if (isClosed(state)) return undefined;
  const t = policy[severity];
  return clockStart + (state === 'new' ? t.triageMs : t.resolveMs);
}

/** Where the incident's SLA timer counts from: its creation, or its last reopen. */
export function slaClockStart(incident: Pick<Incident, 'createdAt' | 'context'>): number {
  const r = incident.context[REOPENED_AT];
  return typeof r === 'number' ? r : incident.createdAt;
}

/** True when the incident's SLA has run out at `now` (never for a closed incident). */
export function slaBreached(incident: Pick<Incident, 'slaDueAt'>, now: number): boolean {
  return incident.slaDueAt !== undefined && now > incident.slaDueAt;
}

export type TransitionResult =
  | {
      readonly ok: true;
      /** What to write to the incident. */
      readonly patch: IncidentPatch;
      /** The history entry's body: from, to, reason, and whether the SLA that ended was met. */
      readonly event: Readonly<Record<string, unknown>>;
    }
  | { readonly ok: false; readonly allowed: readonly IncidentState[] };

/**
 * Move `incident` to `to` at `now`. An illegal move is `{ ok: false, allowed }` (HTTP 409).
 * The SLA timer is recomputed for the new state; closing sets `closedAt`, reopening clears
 * it and restarts the resolve timer.
 */
export function transition(incident: Incident, to: IncidentState, now: number, policy: SlaPolicy = DEFAULT_SLA, reason?: string): TransitionResult {
  const from = incident.state;
  const allowed = TRANSITIONS[from];
  if (!allowed.includes(to)) return { ok: false, allowed };
  const reopen = isClosed(from) && !isClosed(to);
  const context = reopen ? { ...incident.context, [REOPENED_AT]: now } : incident.context;
  const due = slaDueAt(to, incident.severity, reopen ? now : slaClockStart(incident), policy);
  const patch: IncidentPatch = {
    state: to,
    slaDueAt: due ?? null,
    ...(isClosed(to) ? { closedAt: now } : reopen ? { closedAt: null } : {}),
    ...(reopen ? { context } : {}),
  };
  // The timer that was running ends here when the move leaves `new` (triage) or closes (resolve).
  const endsTimer = incident.slaDueAt !== undefined && (from === 'new' || isClosed(to));
  const event = {
    from, to,
    ...(reason !== undefined ? { reason } : {}),
    ...(endsTimer ? { sla: { dueAt: incident.slaDueAt, met: now <= incident.slaDueAt! } } : {}),
    ...(due !== undefined ? { slaDueAt: due } : {}),
    ...(reopen ? { reopened: true } : {}),
  };
  return { ok: true, patch, event };
}
