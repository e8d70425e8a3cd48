/**
 * Grouping: which incident an alert belongs to.
 *
 * - An alert whose details name an intel item (`details.intel`, `details.cve`, `details.intelId`)
 *   goes to the `intel` incident of that item (the first one it names).
 * - An alert of a fleet-correlation rule (`source: alert`; the pipeline is told which rules
 *   those are), or an alert without a vehicle, goes to the `campaign` incident of its rule and
 *   group (`details.group`). A campaign alert names the vehicles it counted
 *   (`details.values` when it counted distinct vehicles, or `details.vehicles`): their open
 *   vehicle incidents are tagged `campaign:<id>` and linked to it.
 * - Every other alert goes to the open `vehicle` incident of its vehicle.
 *
 * An open incident takes the alert when its last alert is within the grouping window of the
 * alert's time (vehicle: 1 h; campaign and intel: 24 h); otherwise a new incident opens.
 *
 * The index of open incidents is bounded (`maxOpen`): past it, the incident that saw an alert
 * longest ago leaves the index (it stays open in the store; a later alert of its key opens a new
 * one), counted in `evicted`.
 */
import { createHash } from 'node:crypto';
import type { Alert } from '../core/records.js';
import { groupOf } from './dedup.js';
import type { Incident, IncidentKind } from './model.js';

/** Open incidents indexed at most by default. */
export const MAX_OPEN_INCIDENTS = 10_000;
/** Distinct vehicles remembered per incident; past it `vehicleCount` counts no further. */
export const MAX_VEHICLES_PER_INCIDENT = 10_000;
export const DEFAULT_GROUP_WINDOW_MS = 60 * 60_000;
export const DEFAULT_CAMPAIGN_WINDOW_MS = 24 * 60 * 60_000;

/** Where an alert goes: the kind of incident and its group key. */
export interface Route {
  readonly kind: IncidentKind;
  readonly groupKey: string;
  /** The intel item's id, for an `intel` route. */
  readonly intel?: string;
}

/** The intel or CVE ids an alert's details carry, in order. */
export function intelIds(details: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  for (const field of ['intel', 'intelId', 'cve']) {
    const v = details[field];
    for (const x of Array.isArray(v) ? v : [v]) if (typeof x === 'string' && x !== '' && !out.includes(x)) out.push(x);
  }
  return out;
}

/** The vehicles a campaign alert counted. */
export function campaignVehicles(details: Readonly<Record<string, unknown>>): string[] {
  const list = details['distinct'] === 'vehicle' ? details['values'] : details['vehicles'];
  return Array.isArray(list) ? list.filter((v): v is string => typeof v === 'string') : [];
}

export function routeOf(alert: Alert, campaignRules: ReadonlySet<string>): Route {
  const [intel] = intelIds(alert.details);
  if (intel !== undefined) return { kind: 'intel', groupKey: intel, intel };
  if (campaignRules.has(alert.rule) || alert.vehicle === undefined) {
    const group = groupOf(alert.details);
    return { kind: 'campaign', groupKey: group === undefined ? alert.rule : `${alert.rule} ${group}` };
  }
  return { kind: 'vehicle', groupKey: alert.vehicle };
}

/** A deterministic incident id: the same first alert always opens the same incident. */
export function incidentId(tenant: string, route: Route, firstAlert: string): string {
  const h = createHash('sha256').update(`${tenant}\u0000${route.kind}\u0000${route.groupKey}\u0000${firstAlert}`).digest('hex');
  return `inc_${h.slice(0, 20)}`;
}

/** An open incident as the pipeline tracks it. */
export interface OpenIncident {
  incident: Incident;
  readonly vehicles: Set<string>;
  /** `vehicleCount` of the stored incident before this process saw it (restored incidents). */
  readonly baseVehicles: number;
  moving: boolean;
}

export class IncidentIndex {
  private readonly byKey = new Map<string, OpenIncident>();
  private readonly keyOfId = new Map<string, string>();
  /** Incidents dropped from the index for the cap (intentional, counted). */
  evicted = 0;

  constructor(private readonly maxOpen: number = MAX_OPEN_INCIDENTS) {}

  get size(): number {
    return this.byKey.size;
  }

  /** The open incident of `route` that an alert at `time` joins, if any (and marks it recently used). */
  find(tenant: string, route: Route, time: number, windowMs: number): OpenIncident | undefined {
    const key = indexKey(tenant, route.kind, route.groupKey);
    const open = this.byKey.get(key);
    if (!open) return undefined;
    const i = open.incident;
    if (time > i.lastAlertAt + windowMs || time < i.firstAlertAt - windowMs) return undefined;
    this.byKey.delete(key);
    this.byKey.set(key, open);
    return open;
  }

  /** The open vehicle incident of a vehicle, whatever its age (campaign linking). */
  vehicleIncident(tenant: string, vehicle: string): OpenIncident | undefined {
    return this.byKey.get(indexKey(tenant, 'vehicle', vehicle));
  }

  /** Track an incident (replacing an older one of the same key); evicts the least recently used past the cap. */
  add(incident: Incident): OpenIncident {
    const key = indexKey(incident.tenant, incident.kind, incident.groupKey);
    const old = this.byKey.get(key);
    if (old) this.keyOfId.delete(idKey(old.incident.tenant, old.incident.id));
    this.byKey.delete(key);
    while (this.byKey.size >= this.maxOpen) {
      const [oldestKey, oldest] = this.byKey.entries().next().value!;
      this.byKey.delete(oldestKey);
      this.keyOfId.delete(idKey(oldest.incident.tenant, oldest.incident.id));
      this.evicted++;
    }
    const open: OpenIncident = {
      incident,
      vehicles: new Set(incident.vehicle !== undefined ? [incident.vehicle] : []),
      baseVehicles: incident.vehicle !== undefined ? 0 : incident.vehicleCount,
      moving: false,
    };
    this.byKey.set(key, open);
    this.keyOfId.set(idKey(incident.tenant, incident.id), key);
    return open;
  }

  /** The tracked incident with this id, if indexed. */
  byId(tenant: string, id: string): OpenIncident | undefined {
    const key = this.keyOfId.get(idKey(tenant, id));
    return key === undefined ? undefined : this.byKey.get(key);
  }

  /** Stop tracking an incident (closed by an analyst); true when it was indexed. */
  remove(tenant: string, id: string): boolean {
    const key = this.keyOfId.get(idKey(tenant, id));
    if (key === undefined) return false;
    this.keyOfId.delete(idKey(tenant, id));
    this.byKey.delete(key);
    return true;
  }

  /** Tracked incidents, least recently used first. */
  all(): IterableIterator<OpenIncident> {
    return this.byKey.values();
  }
}

/** Remember a vehicle of an incident; returns the incident's vehicle count. */
export function addVehicle(open: OpenIncident, vehicle: string | undefined): number {
  if (vehicle !== undefined && open.vehicles.size < MAX_VEHICLES_PER_INCIDENT) open.vehicles.add(vehicle);
  return Math.max(open.incident.vehicleCount, open.baseVehicles + open.vehicles.size);
}

function indexKey(tenant: string, kind: IncidentKind, groupKey: string): string {
  return `${tenant}\u0000${kind}\u0000${groupKey}`;
}

function idKey(tenant: string, id: string): string {
  return `${tenant}\u0000${id}`;
}
