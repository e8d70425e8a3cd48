/**
 * Simulator options: one schema, parsed once; unknown keys are rejected and every problem
 * is reported at once.
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { MAX_VEHICLES } from './fleet.js';
import { ATTACK_SCENARIOS } from './scenarios.js';

/** 2025-11-25T10:00:00Z: the default start, so a run without options is reproducible. */
export const DEFAULT_START = 1_764_064_800_000;

const planSchema = z.strictObject({
  scenario: z.enum(ATTACK_SCENARIOS),
  atS: z.number().min(0),
  durationS: z.number().positive().max(86_400).optional(),
  vehicle: z.number().int().min(0).optional(),
});

export const simOptionsSchema = z.strictObject({
  /** Same seed, same options -> the same bytes. */
  seed: z.number().int().default(42),
  vehicles: z.number().int().min(1).max(MAX_VEHICLES).default(1000),
  /** Vehicles are spread over these tenants (by a hash of the vehicle). */
  tenants: z.array(z.string().min(1).max(63)).min(1).default(['demo']),
  /** Simulated start time, epoch ms. */
  start: z.number().int().min(0).default(DEFAULT_START),
  /** Seconds between two reports of one vehicle (each gap jittered by ±10%). */
  reportIntervalS: z.number().positive().max(3600).default(1),
  /** Entries per signals message: the snapshot first, the rest filled with samples of high-rate signals. */
  signalsPerMessage: z.number().int().min(1).max(1000).default(80),
  /** Seconds between IDS heartbeats of one vehicle. */
  heartbeatIntervalS: z.number().positive().max(86_400).default(60),
  /** Mean seconds between benign low-severity IDS events of one vehicle. */
  benignSecurityEventMeanS: z.number().positive().default(4 * 3600),
  /** Benign back-end requests (owner app) per vehicle and hour. */
  apiRequestsPerVehicleHour: z.number().min(0).max(3600).default(2),
  /** Fraction of signals messages deliberately malformed (bad VIN, unknown signal, out of range, broken JSON). */
  malformedRate: z.number().min(0).max(1).default(0.001),
  /** `true`: the default rotation of every scenario; `false`: none; or an explicit script. */
  attacks: z.union([z.boolean(), z.array(planSchema)]).default(true),
  /** Seconds between two scenarios of the default rotation (the first starts at a quarter of it). */
  attackEveryS: z.number().min(10).max(86_400).default(120),
});

export type SimOptions = z.input<typeof simOptionsSchema>;
export type ResolvedSimOptions = z.output<typeof simOptionsSchema>;

/** Parse and default options; throws ConfigError listing every problem. */
export function resolveSimOptions(opts: SimOptions = {}): ResolvedSimOptions {
  const parsed = simOptionsSchema.safeParse(opts);
  if (!parsed.success) {
    throw new ConfigError(
      'invalid simulator options',
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const o = parsed.data;
  if (Array.isArray(o.attacks)) {
    const bad = o.attacks.filter((p) => p.vehicle !== undefined && p.vehicle >= o.vehicles);
    if (bad.length > 0) {
      throw new ConfigError('invalid simulator options', bad.map((p) => `attacks: ${p.scenario} names vehicle ${p.vehicle}, the fleet has ${o.vehicles}`));
    }
  }
  return o;
}
