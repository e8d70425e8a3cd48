/**
 * The indicator detector a lane runs: each API/log event and security event is matched
 * against the current IndicatorSet; a hit raises an `intel.indicator-match` alert, once per
 * (tenant, vehicle or account, indicator) in a window of event time, so a chatty address
 * does not flood. Stateful (the dedup window), bounded by MAX_DEDUP_KEYS and
 * MAX_ALERTS_PER_INDICATOR.
 */
import type { Alert, ApiEvent, SecurityEvent, Severity } from '../../core/records.js';
import type { Indicator } from '../model.js';
import { IndicatorSet, type Fact, type IndicatorHit } from './compile.js';
import { apiEventFacts, securityEventFacts } from './observe.js';

export const INDICATOR_RULE = 'intel.indicator-match';
/** One alert per (tenant, subject, indicator) in this much event time. */
export const DEFAULT_INDICATOR_DEDUP_MS = 10 * 60_000;
/** Dedup keys remembered at most; past it, expired keys are swept, then the oldest forgotten. */
export const MAX_DEDUP_KEYS = 100_000;
/**
 * Alerts per (tenant, indicator) in one dedup window at most, whatever the subjects: one
 * address trying a thousand accounts raises this many alerts, not a thousand. The rest are
 * counted as suppressed.
 */
export const MAX_ALERTS_PER_INDICATOR = 20;

export interface IndicatorDetectorResult {
  readonly alerts: Alert[];
  /** Record-indicator matches, before deduplication. */
  readonly hits: number;
  /** Matches that raised no alert (same subject and indicator in the window, or the per-indicator cap). */
  readonly suppressed: number;
}

const SEVERITY_WORDS = new Set<Severity>(['info', 'low', 'medium', 'high', 'critical']);

/**
 * The alert severity an indicator asks for: a label naming one (`critical`, `severity:high`)
 * wins; else `benign` indicators are info and `anomalous-activity` ones medium; else a stated
 * confidence below 50 gives medium; else high.
 */
export function indicatorSeverity(ind: Indicator): Severity {
  for (const l of ind.labels) {
    const w = l.toLowerCase().replace(/^severity[:=]/, '') as Severity;
    if (SEVERITY_WORDS.has(w)) return w;
  }
  const types = new Set([...ind.indicatorTypes, ...ind.labels].map((t) => t.toLowerCase()));
  if (types.has('benign')) return 'info';
  if (types.size && [...types].every((t) => t === 'anomalous-activity')) return 'medium';
  if (ind.confidence !== undefined && ind.confidence < 50) return 'medium';
  return 'high';
}

const ATM = /\bATM-T\d{4}\b/g;

/** Auto-ISAC ATM technique ids the indicator names: in kill chain phases, labels, or what it indicates. */
export function indicatorTags(ind: Indicator): string[] {
  const text = [...ind.killChain.map((k) => k.phaseName), ...ind.labels, ...ind.indicates.map((x) => x.name ?? '')].join(' ');
  return [...new Set(text.match(ATM) ?? [])];
}

export class IndicatorDetector {
  private set: IndicatorSet;
  /** (tenant, subject, indicator) -> end of its window (event time). */
  private readonly windows = new Map<string, number>();
  /** (tenant, indicator) -> alerts in the current window, and when that window ends. */
  private readonly perIndicator = new Map<string, { n: number; until: number }>();

  constructor(
    indicators: readonly Indicator[] = [],
    private readonly dedupMs: number = DEFAULT_INDICATOR_DEDUP_MS,
  ) {
    this.set = new IndicatorSet(indicators);
  }

  /** Replace the indicator set (the dedup memory is kept: the same indicator id stays deduplicated). */
  setIndicators(indicators: readonly Indicator[]): IndicatorSet {
    this.set = new IndicatorSet(indicators);
    return this.set;
  }

  get indicators(): IndicatorSet {
    return this.set;
  }

  /** Match API events and security events; `now` is the processing time for `detectedAt`. */
  process(logs: readonly ApiEvent[], security: readonly SecurityEvent[], now: number): IndicatorDetectorResult {
    const out = { alerts: [] as Alert[], hits: 0, suppressed: 0 };
    if (this.set.size === 0) return out;
    for (const e of logs) this.record(e.tenant, e.vehicle, e.actor, e.id, e.time, `${e.service} ${e.method ?? ''} ${e.endpoint}`, apiEventFacts(e), now, out);
    for (const e of security) this.record(e.tenant, e.vehicle, undefined, e.id, e.time, `${e.name} (${e.sensor})`, securityEventFacts(e), now, out);
    return out;
  }

  private record(
    tenant: string, vehicle: string | undefined, account: string | undefined, recordId: string, time: number, what: string,
    facts: readonly Fact[], now: number, out: { alerts: Alert[]; hits: number; suppressed: number },
  ): void {
    if (!facts.length) return;
    for (const hit of this.set.match(facts, time)) {
      out.hits++;
      const subject = vehicle !== undefined ? `vehicle:${vehicle}` : account !== undefined ? `account:${account}` : `value:${hit.matched[0]!.value}`;
      if (!this.admit(tenant, subject, hit.indicator.id, time)) {
        out.suppressed++;
        continue;
      }
      out.alerts.push(this.alert(tenant, vehicle, account, subject, recordId, time, what, hit, now));
    }
  }

  /** True when this (tenant, subject, indicator) has no alert in the window and the indicator is under its cap. */
  private admit(tenant: string, subject: string, indicator: string, time: number): boolean {
    const key = `${tenant}\u0000${subject}\u0000${indicator}`;
    const until = this.windows.get(key);
    if (until !== undefined && time < until && time > until - 2 * this.dedupMs) return false;
    const capKey = `${tenant}\u0000${indicator}`;
    let cap = this.perIndicator.get(capKey);
    if (!cap || time >= cap.until) this.perIndicator.set(capKey, (cap = { n: 0, until: time + this.dedupMs }));
    if (cap.n >= MAX_ALERTS_PER_INDICATOR) return false;
    cap.n++;
    this.windows.delete(key);
    if (this.windows.size >= MAX_DEDUP_KEYS) this.makeRoom(time);
    this.windows.set(key, time + this.dedupMs);
    return true;
  }

  private makeRoom(now: number): void {
    for (const [k, until] of this.windows) if (until <= now) this.windows.delete(k);
    for (const [k, c] of this.perIndicator) if (c.until <= now) this.perIndicator.delete(k);
    let n = Math.max(1, Math.floor(MAX_DEDUP_KEYS / 10));
    if (this.windows.size < MAX_DEDUP_KEYS) return;
    for (const k of this.windows.keys()) {
      if (n-- <= 0) break;
      this.windows.delete(k);
    }
  }

  private alert(
    tenant: string, vehicle: string | undefined, account: string | undefined, subject: string, recordId: string, time: number, what: string,
    hit: IndicatorHit, now: number,
  ): Alert {
    const ind = hit.indicator;
    const first = hit.matched.find((m) => !m.observable.negated) ?? hit.matched[0]!;
    const label = ind.name ?? ind.id;
    return {
      id: `${INDICATOR_RULE}:${recordId}:${ind.id}`,
      tenant,
      ...(vehicle !== undefined ? { vehicle } : {}),
      time,
      detectedAt: now,
      rule: INDICATOR_RULE,
      title: `${what} matched threat indicator ${label}`,
      severity: indicatorSeverity(ind),
      tags: indicatorTags(ind),
      details: {
        intel: ind.id,
        ...(ind.vulnerabilities.length ? { cve: ind.vulnerabilities.length === 1 ? ind.vulnerabilities[0] : ind.vulnerabilities } : {}),
        ...(ind.name ? { indicatorName: ind.name } : {}),
        pattern: ind.pattern,
        observable: `${first.observable.path} ${first.observable.negated ? 'NOT ' : ''}${first.observable.operator} '${first.observable.value}'`,
        field: first.field,
        value: first.value,
        matched: hit.matched.map((m) => ({ observable: `${m.observable.path} ${m.observable.negated ? 'NOT ' : ''}${m.observable.operator} '${m.observable.value}'`, field: m.field, value: m.value })),
        record: recordId,
        ...(account !== undefined ? { account } : {}),
        ...(ind.indicates.length ? { indicates: ind.indicates.map((x) => x.name ?? x.id) } : {}),
        ...(ind.confidence !== undefined ? { confidence: ind.confidence } : {}),
        ...(ind.validUntil !== undefined ? { validUntil: ind.validUntil } : {}),
        group: { indicator: ind.id, subject },
      },
    };
  }
}
