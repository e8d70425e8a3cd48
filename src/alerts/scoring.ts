/**
 * The risk score of an incident, 0..100:
 *
 *   x    = severity x criticality x exposure x spread
 *   risk = round(100 * (1 - e^-x))
 *
 * - severity: info 0.1, low 0.25, medium 0.5, high 0.75, critical 1 (the incident's highest);
 * - criticality: of the asset the rule watches (ASSET_CRITICALITY, by the rule's domain: the
 *   first part of its id, or a `domain:` tag); the highest among the incident's rules;
 * - exposure: 1 + 0.2 if the vehicle was moving + 0.2 if the surface is remote-reachable
 *   (REMOTE_DOMAINS) + 0.1 x log2(alerts), that last part capped at 0.3; so 1..1.7;
 * - spread: 1 + log10(1 + 99 x vehicles / fleet) / 2; 1 for one car in a large fleet, 2 for
 *   the whole fleet.
 *
 * The saturating curve keeps the score in 0..100 without clipping: x = 1 (a critical alert on
 * a safety asset of one parked car) scores 63, and every factor still moves the score.
 * Worked examples are in README.md.
 */
import type { Severity } from '../core/records.js';

export const SEVERITY_WEIGHT: Readonly<Record<Severity, number>> = { info: 0.1, low: 0.25, medium: 0.5, high: 0.75, critical: 1 };

/**
 * Asset criticality by domain (the first part of a rule id, e.g. `uds` in
 * `uds.session-while-moving`). Safety-relevant motion control scores 1, what can move or open
 * the car or change its software 0.8, back-end and connectivity 0.6, comfort and infotainment
 * 0.4. Domains not listed score DEFAULT_CRITICALITY.
 */
export const ASSET_CRITICALITY: Readonly<Record<string, number>> = {
  // Powertrain, brakes, steering, chassis, driver assistance, restraint systems.
  can: 1, adas: 1, chassis: 1, speed: 1, gear: 1, airbag: 1, bms: 1, power: 1, signals: 1,
  // ECU software and access to the car.
  uds: 0.8, diag: 0.8, boot: 0.8, ota: 0.8, debug: 0.8, immo: 0.8, keyless: 0.8, theft: 0.8, body: 0.8,
  remote: 0.8, tcu: 0.8, pki: 0.8, ids: 0.8, fleet: 0.8, dtc: 0.8, odometer: 0.8, tow: 0.8, tpms: 0.8,
  // Back end, connectivity, positioning.
  api: 0.6, admin: 0.6, charging: 0.6, connectivity: 0.6, gnss: 0.6, v2x: 0.6, exfil: 0.6, wifi: 0.6, bluetooth: 0.6,
  // Comfort and infotainment.
  ivi: 0.4, infotainment: 0.4,
};
export const DEFAULT_CRITICALITY = 0.6;

/** Domains reachable from outside the car (radio, internet, back end). */
export const REMOTE_DOMAINS: ReadonlySet<string> = new Set([
  'api', 'admin', 'remote', 'tcu', 'connectivity', 'ota', 'wifi', 'bluetooth', 'v2x', 'charging', 'keyless', 'exfil', 'ivi',
]);

export interface RiskInput {
  readonly severity: Severity;
  readonly rules: readonly string[];
  /** Tags of the incident's alerts; a `domain:<name>` tag overrides the rule id's domain. */
  readonly tags?: readonly string[];
  readonly moving: boolean;
  readonly alertCount: number;
  readonly vehicles: number;
  /** Vehicles of the tenant; 0 when unknown (spread then counts as 1 of 1000). */
  readonly fleet: number;
}

export interface RiskFactors {
  readonly severity: number;
  readonly criticality: number;
  readonly exposure: number;
  readonly spread: number;
  readonly risk: number;
}

/** The domain of a rule id (`uds` of `uds.session-while-moving`). */
export function domainOf(rule: string): string {
  const dot = rule.indexOf('.');
  return (dot < 0 ? rule : rule.slice(0, dot)).toLowerCase();
}

/** The score and the factors behind it (stored in the incident's context, so analysts see why). */
export function scoreRisk(input: RiskInput): RiskFactors {
  const tagged = (input.tags ?? []).filter((t) => t.startsWith('domain:')).map((t) => t.slice('domain:'.length).toLowerCase());
  const domains = tagged.length ? tagged : input.rules.map(domainOf);
  const criticality = domains.length ? Math.max(...domains.map((d) => ASSET_CRITICALITY[d] ?? DEFAULT_CRITICALITY)) : DEFAULT_CRITICALITY;
  const remote = domains.some((d) => REMOTE_DOMAINS.has(d));
  const volume = Math.min(0.3, 0.1 * Math.log2(Math.max(1, input.alertCount)));
  const exposure = 1 + (input.moving ? 0.2 : 0) + (remote ? 0.2 : 0) + volume;
  const fleet = input.fleet > 0 ? Math.max(input.fleet, input.vehicles) : 1000;
  const spread = 1 + Math.log10(1 + (99 * Math.max(1, input.vehicles)) / fleet) / 2;
  const severity = SEVERITY_WEIGHT[input.severity];
  const x = severity * criticality * exposure * spread;
  return { severity, criticality, exposure: round3(exposure), spread: round3(spread), risk: Math.round(100 * (1 - Math.exp(-x))) };
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
