/**
 * Scoring alerts against the simulator's ground truth (`ScenarioLabel`s): per scenario,
 * recall (labels with an alert), precision (of the rules that caught it, how many of their
 * alerts were this attack), time to detect, plus the false-alarm rate on vehicles that were
 * never attacked. Pure: the caller runs the fleet and hands over labels and stored alerts.
 */
import type { Alert } from '../core/records.js';

/** What scoring needs of a label: the simulator's `ScenarioLabel` fits. */
export interface FleetLabel {
  readonly id: string;
  readonly scenario: string;
  readonly tenant: string;
  readonly vin?: string;
  readonly start: number;
  readonly end: number;
}

export interface FleetScoreOptions {
  /** The pseudonym the pipeline gives a VIN (alerts carry pseudonyms, labels VINs). */
  readonly vehicleKey: (tenant: string, vin: string) => string;
  /** Vehicles in the fleet, for the per-vehicle-hour rate. */
  readonly vehicles: number;
  readonly durationMs: number;
  /** How long after a label's end an alert still counts as detecting it (default 2 min). */
  readonly graceMs?: number;
}

export interface ScenarioScore {
  readonly scenario: string;
  readonly labels: number;
  readonly detected: number;
  readonly recall: number;
  /** Alerts of `rules` explained by a label of this scenario / all alerts of `rules`; NaN when none fired. */
  readonly precision: number;
  /** Seconds from the label's start to its first alert (processing time): median and worst. */
  readonly ttdMedianS: number;
  readonly ttdMaxS: number;
  /** Rules that fired inside this scenario's labels, most alerts first. */
  readonly rules: readonly string[];
}

export interface FleetScore {
  readonly scenarios: readonly ScenarioScore[];
  readonly alerts: number;
  /** Alerts explained by no label. */
  readonly unexplained: number;
  /** Unexplained alerts on vehicles no label names, per vehicle-hour of those vehicles. */
  readonly falsePerVehicleHour: number;
  readonly falseAlerts: number;
  /** Unexplained alerts with no vehicle (back-end rules), per hour. */
  readonly falseFleetPerHour: number;
  /** Unexplained alerts by rule, most first. */
  readonly falseByRule: readonly { rule: string; alerts: number }[];
}

const median = (xs: number[]): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};

export function scoreFleet(labels: readonly FleetLabel[], alerts: readonly Alert[], opts: FleetScoreOptions): FleetScore {
  const grace = opts.graceMs ?? 120_000;
  const hours = opts.durationMs / 3_600_000;
  /** Which labels explain each alert: same vehicle (or, for back-end attacks, no vehicle), inside the window. */
  const explains = alerts.map(() => [] as number[]);
  const keyOf = labels.map((l) => (l.vin === undefined ? undefined : opts.vehicleKey(l.tenant, l.vin)));
  const byVehicle = new Map<string | undefined, number[]>();
  alerts.forEach((a, i) => {
    const k = a.vehicle;
    let list = byVehicle.get(k);
    if (!list) byVehicle.set(k, (list = []));
    list.push(i);
  });
  const firstOf = labels.map(() => Number.POSITIVE_INFINITY);
  labels.forEach((l, li) => {
    for (const i of byVehicle.get(keyOf[li]) ?? []) {
      const a = alerts[i]!;
      if (a.tenant !== l.tenant || a.time < l.start || a.time > l.end + grace) continue;
      explains[i]!.push(li);
      firstOf[li] = Math.min(firstOf[li]!, Math.max(a.detectedAt, a.time));
    }
  });

  const scenarios = [...new Set(labels.map((l) => l.scenario))].sort();
  const scored = scenarios.map((scenario): ScenarioScore => {
    const mine = labels.map((l, i) => (l.scenario === scenario ? i : -1)).filter((i) => i >= 0);
    const mineSet = new Set(mine);
    const ttd = mine.filter((i) => firstOf[i]! < Infinity).map((i) => (firstOf[i]! - labels[i]!.start) / 1000);
    const ruleHits = new Map<string, number>();
    alerts.forEach((a, i) => {
      if (explains[i]!.some((li) => mineSet.has(li))) ruleHits.set(a.rule, (ruleHits.get(a.rule) ?? 0) + 1);
    });
    const rules = [...ruleHits].sort((a, b) => b[1] - a[1]).map(([r]) => r);
    let ofRules = 0;
    for (const a of alerts) if (ruleHits.has(a.rule)) ofRules++;
    const hits = [...ruleHits.values()].reduce((s, n) => s + n, 0);
    return {
      scenario, labels: mine.length, detected: ttd.length, recall: mine.length ? ttd.length / mine.length : NaN,
      precision: ofRules ? hits / ofRules : NaN, ttdMedianS: median(ttd), ttdMaxS: ttd.length ? Math.max(...ttd) : NaN, rules,
    };
  });

  const attacked = new Set(keyOf.filter((k): k is string => k !== undefined));
  const falseByRule = new Map<string, number>();
  let unexplained = 0;
  let falseVehicle = 0;
  let falseFleet = 0;
  alerts.forEach((a, i) => {
    if (explains[i]!.length) return;
    unexplained++;
    falseByRule.set(a.rule, (falseByRule.get(a.rule) ?? 0) + 1);
    if (a.vehicle === undefined) falseFleet++;
    else if (!attacked.has(a.vehicle)) falseVehicle++;
  });
  const clean = Math.max(0, opts.vehicles - attacked.size);
  return {
    scenarios: scored, alerts: alerts.length, unexplained, falseAlerts: falseVehicle,
    falsePerVehicleHour: clean && hours ? falseVehicle / (clean * hours) : NaN,
    falseFleetPerHour: hours ? falseFleet / hours : NaN,
    falseByRule: [...falseByRule].sort((a, b) => b[1] - a[1]).map(([rule, n]) => ({ rule, alerts: n })),
  };
}
