/**
 * Regression samples: each rule carries `tests`, event streams with the outcome expected
 * (`alert` or `none`). `runRuleTests` runs every sample of every rule on a fresh copy of that
 * rule alone, with a manual clock set to each event's time, through the same runner the
 * pipeline uses. A rule without both a matching and a non-matching sample is reported.
 */
import { SignalBatchBuilder } from '../../core/batch.js';
import { ManualClock } from '../../core/clock.js';
import type { Alert, ApiEvent, SecurityEvent } from '../../core/records.js';
import { compileRules, type CompiledPack, type CompiledRule } from './compile.js';
import { RuleRunner } from './runner.js';
import type { Sample, SampleEvent } from './schema.js';

/** Time 0 of every sample: 2026-01-01T00:00:00Z. */
export const SAMPLE_EPOCH = Date.UTC(2026, 0, 1);

export interface SampleResult {
  readonly rule: string;
  readonly file: string;
  readonly name: string;
  readonly expect: 'alert' | 'none';
  readonly ok: boolean;
  readonly alerts: number;
  /** Why it failed. */
  readonly reason?: string;
  /** The first alert, for a look at its evidence. */
  readonly first?: Alert;
}

export interface RuleTestReport {
  readonly results: readonly SampleResult[];
  readonly passed: number;
  readonly failed: number;
  /** Rules lacking a matching (`alert`) or a non-matching (`none`) sample. */
  readonly uncovered: readonly { rule: string; file: string; missing: string }[];
}

export function runRuleTests(pack: CompiledPack, opts: { only?: (id: string) => boolean } = {}): RuleTestReport {
  const results: SampleResult[] = [];
  const uncovered: { rule: string; file: string; missing: string }[] = [];
  for (const rule of pack.rules) {
    if (opts.only && !opts.only(rule.meta.id)) continue;
    const tests = rule.spec.tests ?? [];
    const missing = (['alert', 'none'] as const).filter((e) => !tests.some((t) => t.expect === e));
    if (missing.length) uncovered.push({ rule: rule.meta.id, file: rule.meta.file, missing: missing.map((m) => `expect: ${m}`).join(', ') });
    for (const t of tests) results.push(runSample(pack, rule, t));
  }
  const passed = results.filter((r) => r.ok).length;
  return { results, passed, failed: results.length - passed, uncovered };
}

function runSample(pack: CompiledPack, rule: CompiledRule, t: Sample): SampleResult {
  const base = { rule: rule.meta.id, file: rule.meta.file, name: t.name, expect: t.expect };
  // A fresh plan per sample: no state carries over between samples.
  const single = compileRules({ rules: [rule.source], problems: [] }, pack.catalog, { unknownSignals: 'disable' });
  if (!single.rules.length) {
    const why = single.problems[0] ?? `disabled, the catalog lacks ${single.disabled[0]?.missing.join(', ')}`;
    return { ...base, ok: false, alerts: 0, reason: why };
  }
  const clock = new ManualClock(SAMPLE_EPOCH);
  const runner = new RuleRunner(single, { clock, latenessMs: Number.POSITIVE_INFINITY, includeDisabled: true });
  const alerts: Alert[] = [];
  let events: { e: SampleEvent; at: number; n: number }[];
  try {
    events = expand(t.events);
    for (const { e, at, n } of events) alerts.push(...feed(runner, pack, e, SAMPLE_EPOCH + at, clock, n));
  } catch (err) {
    return { ...base, ok: false, alerts: 0, reason: (err as Error).message };
  }
  const mine = alerts.filter((a) => a.rule === rule.meta.id);
  const n = mine.length;
  let reason: string | undefined;
  if (t.expect === 'none' && n > 0) reason = `expected no alert, got ${n}: ${JSON.stringify(mine[0]!.details)}`;
  else if (t.expect === 'alert' && n === 0) reason = 'expected an alert, got none';
  else if (t.expect === 'alert' && t.count !== undefined && n !== t.count) reason = `expected ${t.count} alerts, got ${n}`;
  return { ...base, ok: reason === undefined, alerts: n, ...(reason ? { reason } : {}), ...(mine[0] ? { first: mine[0] } : {}) };
}

/** Repeats unrolled, then ordered by time (stable: equal times keep their written order). */
function expand(events: readonly SampleEvent[]): { e: SampleEvent; at: number; n: number }[] {
  const out: { e: SampleEvent; at: number; n: number }[] = [];
  let n = 0;
  for (const e of events) {
    const times = e.repeat ? Array.from({ length: e.repeat.count }, (_, i) => e.at + i * e.repeat!.every) : [e.at];
    for (const at of times) out.push({ e, at, n: n++ });
  }
  return out.sort((a, b) => a.at - b.at || a.n - b.n);
}

function feed(runner: RuleRunner, pack: CompiledPack, e: SampleEvent, time: number, clock: ManualClock, n: number): Alert[] {
  clock.set(time);
  const tenant = e.tenant ?? 'sample';
  const vehicle = e.vehicle ?? 'V1';
  if (e.tick) return runner.tick();
  if (e.signals) {
    const b = new SignalBatchBuilder(tenant, 16, time);
    const vi = b.vehicleIndex(vehicle);
    for (const [path, v] of Object.entries(e.signals)) {
      const def = pack.catalog.get(path);
      if (!def) throw new Error(`sample signal ${path} is not in the catalog`);
      if (typeof v === 'string') b.push(vi, time, def.id, Number.NaN, v);
      else b.push(vi, time, def.id, Number(v));
    }
    return runner.signals(b.build());
  }
  if (e.security) {
    const s = e.security;
    const ev: SecurityEvent = {
      id: `sample:${n}`, tenant, vehicle, time, eventId: s.eventId ?? 0, name: s.name, sensor: s.sensor ?? 'IdsM',
      count: s.count ?? 1, severity: s.severity ?? 'medium', ...(s.context ? { context: s.context } : {}), source: 'sample',
    };
    return runner.security([ev]);
  }
  if (e.api) {
    const a = e.api;
    const ev: ApiEvent = {
      id: `sample:${n}`, tenant, time, service: a.service ?? 'telematics', endpoint: a.endpoint, source: 'sample',
      ...(e.vehicle !== undefined ? { vehicle: e.vehicle } : {}),
      ...(a.method !== undefined ? { method: a.method } : {}),
      ...(a.status !== undefined ? { status: a.status } : {}),
      ...(a.actor !== undefined ? { actor: a.actor } : {}),
      ...(a.ip !== undefined ? { sourceIp: a.ip } : {}),
      ...(a.ua !== undefined ? { userAgent: a.ua } : {}),
      ...(a.detail !== undefined ? { detail: a.detail } : {}),
    };
    return runner.api([ev]);
  }
  const a = e.alert!;
  return runner.alerts([{
    id: `sample:${n}`, tenant, vehicle, time, detectedAt: time, rule: a.rule, title: a.title ?? a.rule,
    severity: a.severity ?? 'medium', tags: a.tags ?? [], details: {},
  }]);
}
