/**
 * Enrichment: what the alert pipeline needs to know beyond the alerts, gathered once per batch
 * before the (synchronous, pure) pipeline runs: the vehicles' identity (make, model, year, trim,
 * region, ECU software) from the store and the live twin, whether they were moving, each
 * tenant's fleet size (for the spread factor of the score), and intel matches from a hook (the
 * vulnerabilities the alert's vehicle is exposed to: `relevantIntel`, wired in src/api/alert-pipeline.ts).
 */
import type { Alert, VehicleRecord } from '../core/records.js';
import type { VehicleVulnerability } from '../intel/ports.js';
import type { TwinView } from '../twin/twins.js';
import type { VehicleFacts } from './suppress.js';

/** A threat-intel item an alert matches (a CVE, an advisory, a campaign report). */
export interface IntelMatch {
  readonly id: string;
  readonly title?: string;
  readonly source?: string;
  /** A vulnerability the alert's vehicle is exposed to (source `exposure`): its result there. */
  readonly result?: 'affected' | 'needs_review';
  /** ... the vehicle's ECUs it is matched on. */
  readonly ecus?: readonly string[];
  /** ... `ecu` when the alert names one of those ECUs (rule, title or a tag), else `vehicle`. */
  readonly relevance?: 'ecu' | 'vehicle';
}

/** Exposures an alert carries at most. */
export const MAX_INTEL_PER_ALERT = 5;

/** What `relevantIntel` reads of a vehicle's vulnerability. */
export type VehicleExposure = Pick<VehicleVulnerability, 'id' | 'title' | 'result' | 'cvss' | 'epss' | 'kev' | 'withdrawn' | 'ecus'>;

/**
 * The vulnerabilities of an alert's vehicle that the alert carries: first those matched on an ECU
 * the alert names (a word of its rule id, title or tags equals the ECU name, case-insensitively:
 * rule `tcu-exploit` names ECU `TCU`), then the others; within each, `affected` before
 * `needs_review`, then KEV, CVSS, EPSS (highest first) and id. At most `max`; withdrawn ones never.
 */
export function relevantIntel(alert: Alert, exposures: readonly VehicleExposure[], max = MAX_INTEL_PER_ALERT): IntelMatch[] {
  const words = new Set(wordsOf([alert.rule, alert.title, ...alert.tags].join(' ')));
  const named = (ecu: string): boolean => {
    const w = wordsOf(ecu);
    return w.length > 0 && w.every((x) => words.has(x));
  };
  return exposures
    .filter((v) => !v.withdrawn)
    .map((v) => ({ v, ecu: v.ecus.some((e) => named(e.ecu)) }))
    .sort((a, b) => Number(b.ecu) - Number(a.ecu) || Number(b.v.result === 'affected') - Number(a.v.result === 'affected')
      || Number(b.v.kev) - Number(a.v.kev) || (b.v.cvss ?? -1) - (a.v.cvss ?? -1) || (b.v.epss ?? -1) - (a.v.epss ?? -1) || a.v.id.localeCompare(b.v.id))
    .slice(0, max)
    .map(({ v, ecu }) => ({
      id: v.id, title: v.title, source: 'exposure', result: v.result, ecus: [...new Set(v.ecus.map((e) => e.ecu))].sort(), relevance: ecu ? 'ecu' : 'vehicle',
    }));
}

function wordsOf(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length > 0);
}

export interface EnrichmentSources {
  /** The stored vehicle record. */
  storedVehicle(tenant: string, vehicle: string): Promise<VehicleRecord | undefined>;
  /** The live twin (Pipeline.vehicleTwin). */
  liveTwin?(tenant: string, vehicle: string): Promise<TwinView | undefined>;
  fleetSize(tenant: string): Promise<number>;
  /** Intel matches of the batch's alerts, by alert id (one call a batch); absent: none. */
  intel?(alerts: readonly Alert[]): Promise<ReadonlyMap<string, readonly IntelMatch[]>>;
}

export interface Enrichment {
  /** By `tenant/vehicle`. */
  readonly vehicles: ReadonlyMap<string, VehicleFacts>;
  readonly fleet: ReadonlyMap<string, number>;
  /** By alert id; only alerts with matches. */
  readonly intel: ReadonlyMap<string, readonly IntelMatch[]>;
}

export const NO_ENRICHMENT: Enrichment = { vehicles: new Map(), fleet: new Map(), intel: new Map() };

/** Vehicles looked up at once. */
export const ENRICH_CONCURRENCY = 4;

/** The VSS path whose last value says whether a vehicle moves. */
export const SPEED_PATH = 'Vehicle.Speed';

export function vehicleKey(tenant: string, vehicle: string): string {
  return `${tenant}/${vehicle}`;
}

/** What the store and the live twin say of a vehicle; the live twin wins where both know. */
export function vehicleFacts(stored: VehicleRecord | undefined, live: TwinView | undefined): VehicleFacts | undefined {
  if (!stored && !live) return undefined;
  const id = { ...stored, ...defined(live?.identity ?? {}) };
  const software = { ...stored?.software, ...live?.identity.software };
  const speed = live?.signals.find((s) => s.path === SPEED_PATH)?.value;
  return defined({
    make: id.make,
    model: id.model,
    year: id.year,
    trim: id.trim,
    region: id.region,
    software: Object.keys(software).length ? software : undefined,
    moving: typeof speed === 'number' ? speed > 0 : undefined,
  });
}

/** Vehicle facts and fleet sizes remembered across batches. */
export const ENRICH_CACHE_TTL_MS = 60_000;
export const MAX_ENRICH_CACHE = 10_000;

/**
 * What gatherEnrichment looked up, kept for ENRICH_CACHE_TTL_MS (by `now`) and at most
 * MAX_ENRICH_CACHE vehicles (the oldest entry leaves first): a vehicle alerting again within a
 * minute costs no store read and no worker round trip.
 */
export class EnrichmentCache {
  private readonly vehicles = new Map<string, { facts: VehicleFacts | undefined; at: number }>();
  private readonly fleet = new Map<string, { size: number; at: number }>();

  constructor(private readonly ttlMs = ENRICH_CACHE_TTL_MS, private readonly max = MAX_ENRICH_CACHE) {}

  get size(): number {
    return this.vehicles.size;
  }

  vehicle(key: string, now: number): { facts: VehicleFacts | undefined } | undefined {
    const hit = this.vehicles.get(key);
    if (!hit || now - hit.at >= this.ttlMs || now < hit.at) return undefined;
    return hit;
  }

  setVehicle(key: string, facts: VehicleFacts | undefined, now: number): void {
    this.vehicles.delete(key);
    if (this.vehicles.size >= this.max) this.vehicles.delete(this.vehicles.keys().next().value!);
    this.vehicles.set(key, { facts, at: now });
  }

  fleetSize(tenant: string, now: number): number | undefined {
    const hit = this.fleet.get(tenant);
    return hit && now - hit.at < this.ttlMs && now >= hit.at ? hit.size : undefined;
  }

  setFleetSize(tenant: string, size: number, now: number): void {
    if (this.fleet.size >= this.max) this.fleet.delete(this.fleet.keys().next().value!);
    this.fleet.set(tenant, { size, at: now });
  }
}

/** Gather the enrichment of a batch: each distinct vehicle and tenant once (or from `cache`). */
export async function gatherEnrichment(alerts: readonly Alert[], sources: EnrichmentSources, cache?: { readonly store: EnrichmentCache; readonly now: number }): Promise<Enrichment> {
  const vehicles = new Map<string, VehicleFacts>();
  const fleet = new Map<string, number>();
  const intel = new Map<string, readonly IntelMatch[]>();
  const pairs = new Map<string, [string, string]>();
  for (const a of alerts) {
    if (a.vehicle === undefined) continue;
    const key = vehicleKey(a.tenant, a.vehicle);
    const hit = cache?.store.vehicle(key, cache.now);
    if (hit) {
      if (hit.facts) vehicles.set(key, hit.facts);
    } else pairs.set(key, [a.tenant, a.vehicle]);
  }
  // A few at a time: each asks the store and a worker, and a burst must not flood either.
  const list = [...pairs];
  for (let i = 0; i < list.length; i += ENRICH_CONCURRENCY) {
    await Promise.all(list.slice(i, i + ENRICH_CONCURRENCY).map(async ([key, [tenant, vehicle]]) => {
      const [stored, live] = await Promise.all([sources.storedVehicle(tenant, vehicle), sources.liveTwin?.(tenant, vehicle)]);
      const facts = vehicleFacts(stored, live);
      if (facts) vehicles.set(key, facts);
      cache?.store.setVehicle(key, facts, cache.now);
    }));
  }
  for (const tenant of new Set(alerts.map((a) => a.tenant))) {
    let size = cache?.store.fleetSize(tenant, cache.now);
    if (size === undefined) {
      size = await sources.fleetSize(tenant);
      cache?.store.setFleetSize(tenant, size, cache.now);
    }
    fleet.set(tenant, size);
  }
  if (sources.intel) {
    for (const [id, m] of await sources.intel(alerts)) if (m.length) intel.set(id, m);
  }
  return { vehicles, fleet, intel };
}

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
