/**
 * The CAN IDS of one worker's vehicles: a CanDetector per (vehicle, bus), made from the
 * first profile whose group matches (config `can.ids`), whose findings become Alert records
 * with a rule id per model (`can.timing`, `can.unknown_id`, ...), ATM and R155 tags and the
 * evidence of the first finding. A detector rate-limits per (CAN id, model); here a vehicle
 * raises at most one alert per model per CAN_IDS_VEHICLE_COOLDOWN_MS, so a flooded bus does
 * not flood the store: the rest are counted as suppressed.
 *
 * State: one detector per (vehicle, bus), bounded by its profile (MAX_PROFILE_IDS); at most
 * MAX_CAN_IDS_VEHICLES of them per worker, the least recently active evicted (counted). An
 * evicted vehicle starts again without a schedule: its first frame per id passes.
 */
import type { CanFrameBatch } from '../../core/can.js';
import type { Alert, Severity } from '../../core/records.js';
import { CanDetector, hexId, type CanAlert } from './detector.js';
import { MODEL, MODEL_NAMES, type CanProfile, type ModelName } from './profile.js';

/** Vehicles (per bus) with CAN IDS state in one worker. */
export const MAX_CAN_IDS_VEHICLES = 4096;
/** One alert per vehicle and model in this window; later findings are counted as suppressed. */
export const CAN_IDS_VEHICLE_COOLDOWN_MS = 60_000;

/** Which frame batches a profile scores: all given conditions hold. */
export interface VehicleMatch {
  readonly tenant?: string;
  /** VIN prefix. */
  readonly vin?: string;
  readonly bus?: string;
}

/** A learnt profile (plain JSON, so it crosses to worker threads) and the vehicles it watches. */
export interface CanIdsEntry {
  /** Where the profile came from (its file), for the alert's evidence. */
  readonly name: string;
  readonly profile: CanProfile;
  readonly match?: VehicleMatch;
}

export interface CanIdsResult {
  readonly alerts: Alert[];
  /** Frames any model flagged. */
  readonly flagged: number;
  /** Findings not raised as alerts because of the per-vehicle cooldown. */
  readonly suppressed: number;
}

interface RuleDef {
  readonly rule: string;
  readonly title: string;
  readonly severity: Severity;
  readonly tags: readonly string[];
}

const BUS_MESSAGE = ['ATM-T0070', 'R155-A5:4.1', 'R155-A5:11.1'];
/** What each model's finding means as a detection; tags follow the pack's CAN rules (rules/detections). */
export const CAN_IDS_RULES: Readonly<Record<ModelName, RuleDef>> = {
  allowList: { rule: 'can.unknown_id', title: 'CAN id never seen on this bus', severity: 'high', tags: ['ATM-T0071', 'ATM-T0051', 'R155-A5:11.1', 'R155-A5:29.2'] },
  timing: { rule: 'can.timing', title: 'CAN frames ahead of their schedule (injection or flooding)', severity: 'high', tags: ['ATM-T0071', 'ATM-T0068', 'R155-A5:8.1', 'R155-A5:11.1'] },
  suspension: { rule: 'can.suspension', title: 'CAN id silent longer than ever learnt', severity: 'medium', tags: ['ATM-T0072', 'R155-A5:8.1'] },
  dlc: { rule: 'can.dlc', title: 'CAN frame with a data length never learnt', severity: 'medium', tags: BUS_MESSAGE },
  payload: { rule: 'can.payload', title: 'CAN payload off its learnt bits and ranges', severity: 'high', tags: BUS_MESSAGE },
  step: { rule: 'can.step', title: 'CAN payload byte jumped further than learnt', severity: 'medium', tags: BUS_MESSAGE },
  ngram: { rule: 'can.sequence', title: 'CAN id sequence never seen in training', severity: 'medium', tags: ['ATM-T0071', 'R155-A5:6.3'] },
  signal: { rule: 'can.signal_range', title: 'CAN signal outside its learnt range', severity: 'medium', tags: BUS_MESSAGE },
};

interface VehicleState {
  readonly detector: CanDetector;
  readonly entry: CanIdsEntry;
  /** Last alert time per model bit position. */
  readonly lastAlert: Float64Array;
}

export class CanIdsVehicles {
  private readonly vehicles = new Map<string, VehicleState>();
  private flags = new Uint8Array(0);
  /** Vehicles whose state was dropped for MAX_CAN_IDS_VEHICLES (intentional, counted). */
  evicted = 0;

  constructor(
    private readonly entries: readonly CanIdsEntry[],
    private readonly maxVehicles = MAX_CAN_IDS_VEHICLES,
    private readonly cooldownMs = CAN_IDS_VEHICLE_COOLDOWN_MS,
  ) {}

  get size(): number {
    return this.vehicles.size;
  }

  /** Score one vehicle's batch (frames in time order); undefined when no profile matches it. */
  score(batch: CanFrameBatch, vehicle: string, now: number): CanIdsResult | undefined {
    const key = `${batch.tenant}/${vehicle}/${batch.bus ?? ''}`;
    let v = this.vehicles.get(key);
    if (v) this.vehicles.delete(key);
    else {
      const entry = this.entries.find((e) => matches(e.match, batch));
      if (!entry) return undefined;
      if (this.vehicles.size >= this.maxVehicles) {
        this.vehicles.delete(this.vehicles.keys().next().value!);
        this.evicted++;
      }
      v = { detector: new CanDetector(entry.profile), entry, lastAlert: new Float64Array(MODEL_NAMES.length).fill(-Infinity) };
    }
    this.vehicles.set(key, v);
    if (this.flags.length < batch.size) this.flags = new Uint8Array(Math.max(batch.size, this.flags.length * 2));
    const r = v.detector.score(batch, this.flags);
    if (!r.alerts.length) return { alerts: [], flagged: r.flagged, suppressed: 0 };
    const alerts: Alert[] = [];
    let suppressed = 0;
    for (const a of r.alerts) {
      const m = MODEL_NAMES.indexOf(a.model);
      if (a.time - v.lastAlert[m]! < this.cooldownMs && a.time >= v.lastAlert[m]!) {
        suppressed++;
        continue;
      }
      v.lastAlert[m] = a.time;
      alerts.push(toAlert(a, batch, vehicle, now, v.entry.name, countFlagged(r.flags, MODEL[a.model])));
    }
    return { alerts, flagged: r.flagged, suppressed };
  }
}

export function matches(m: VehicleMatch | undefined, batch: CanFrameBatch): boolean {
  return !m || ((m.tenant === undefined || m.tenant === batch.tenant) && (m.vin === undefined || batch.vin.startsWith(m.vin)) && (m.bus === undefined || m.bus === batch.bus));
}

function countFlagged(flags: Uint8Array, bit: number): number {
  let n = 0;
  for (let i = 0; i < flags.length; i++) if (flags[i]! & bit) n++;
  return n;
}

function toAlert(a: CanAlert, batch: CanFrameBatch, vehicle: string, now: number, profile: string, framesInBatch: number): Alert {
  const d = CAN_IDS_RULES[a.model];
  return {
    // Deterministic: a replay of the same frames yields the same alert id (idempotent store write).
    id: `${d.rule}:${batch.tenant}:${vehicle}:${a.time}`,
    tenant: batch.tenant,
    vehicle,
    time: a.time,
    detectedAt: now,
    rule: d.rule,
    title: d.title,
    severity: d.severity,
    tags: d.tags,
    details: {
      canId: hexId(a.id), model: a.model, reason: a.reason, observed: a.observed, expected: a.expected,
      framesInBatch, profile, ...(batch.bus !== undefined ? { bus: batch.bus } : {}),
    },
  };
}
