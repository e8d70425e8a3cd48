/**
 * Rule specs to evaluation plans, once, at load. Sources and `state.<path>` fields resolve to
 * catalog ids and state slots; selections and conditions become predicates; each rule type
 * becomes its plan. Problems are collected for every rule, never thrown one at a time.
 */
import type { SignalCatalog } from '../../core/catalog.js';
import { ConditionError, compileCondition, parseCondition, usedSelections } from './condition.js';
import { RECORD_SOURCES, type Pred, type RecordSource, type SourceKind } from './context.js';
import { compileSelection, fieldGetter, type FieldEnv } from './fields.js';
import type { ParsedRule, ParsedRules } from './load.js';
import type { Plan, PlanCounters, Port, RuleMeta } from './plan.js';
import { LEVELS, RULE_TYPES, type Detection, type MatcherSpec, type RuleSpec } from './schema.js';
import { MatchPlan, SequencePlan, ThresholdPlan } from './types/event.js';
import { GeoPlan, type GeoCheck } from './types/geo.js';
import { AbsencePlan, ChangePlan, ConsistencyPlan } from './types/signal.js';

export const DEFAULT_SUPPRESS_MS = 60_000;
export const DEFAULT_STATE_MAX_AGE_MS = 30_000;
export const DEFAULT_CHANGE_MAX_GAP_MS = 60_000;
export const DEFAULT_CONSISTENCY_MAX_AGE_MS = 2_000;

const LAT = 'Vehicle.CurrentLocation.Latitude';
const LON = 'Vehicle.CurrentLocation.Longitude';
const SPEED = 'Vehicle.Speed';

export interface CompiledRule {
  readonly meta: RuleMeta;
  readonly spec: RuleSpec;
  readonly source: ParsedRule;
  readonly plan: Plan;
}

export interface CompiledPack {
  readonly rules: readonly CompiledRule[];
  /** Rules left out because the catalog lacks signals they read (with `unknownSignals: disable`). */
  readonly disabled: readonly { id: string; file: string; missing: string[] }[];
  /** Every problem; a pack with problems should not be run. */
  readonly problems: readonly string[];
  /** Signal paths whose last value each vehicle's state keeps. */
  readonly slotPaths: readonly string[];
  readonly catalog: SignalCatalog;
  readonly counters: PlanCounters;
}

export interface CompileOptions {
  /** A signal the catalog lacks: a problem (`rules check`), or the rule is disabled (runtime, another catalog). */
  readonly unknownSignals?: 'problem' | 'disable';
  /** State slots already taken, in slot order (a tuned rule compiled for a running pack reuses them: tuning.ts). */
  readonly slotPaths?: readonly string[];
  /** Counters to share (a tuned rule counts into its pack's). */
  readonly counters?: PlanCounters;
}

class RuleProblem extends Error {}

const RESERVED = new Set(['and', 'or', 'not', 'of', 'them', 'any', 'all']);

/** Compile parsed rules against a catalog; parse problems are carried over. */
export function compileRules(parsed: ParsedRules, catalog: SignalCatalog, opts: CompileOptions = {}): CompiledPack {
  const problems = [...parsed.problems];
  const slots = new Map<string, number>((opts.slotPaths ?? []).map((p, i) => [p, i]));
  const counters: PlanCounters = opts.counters ?? { evicted: 0 };
  const rules: CompiledRule[] = [];
  const disabled: { id: string; file: string; missing: string[] }[] = [];
  for (const r of parsed.rules) {
    const ruleProblems: string[] = [];
    const missing = new Set<string>();
    // Slots are registered into a scratch map first, so a rule that fails leaves none behind.
    const local = new Map(slots);
    const env: FieldEnv = {
      catalog,
      missing,
      stateMaxAgeMs: r.spec['state-max-age'] ?? DEFAULT_STATE_MAX_AGE_MS,
      slot(path) {
        const def = catalog.get(path);
        if (!def) return undefined;
        if (!def.numeric) throw new RuleProblem(`${path} is not numeric: it cannot be read from state`);
        let s = local.get(path);
        if (s === undefined) local.set(path, (s = local.size));
        return s;
      },
    };
    let plan: Plan | undefined;
    try {
      plan = buildPlan(r, env, counters, (m) => ruleProblems.push(m));
    } catch (e) {
      if (!(e instanceof RuleProblem)) throw e;
      ruleProblems.push(e.message);
    }
    const at = `${r.file}:${r.line}: rule ${r.spec.id}`;
    if (missing.size && opts.unknownSignals !== 'disable') ruleProblems.push(`signals not in the catalog: ${[...missing].join(', ')}`);
    if (ruleProblems.length) {
      problems.push(...ruleProblems.map((p) => `${at}: ${p}`));
      continue;
    }
    if (missing.size) {
      disabled.push({ id: r.spec.id, file: r.file, missing: [...missing] });
      continue;
    }
    for (const [p, s] of local) slots.set(p, s);
    plan!.index = rules.length;
    rules.push({ meta: plan!.meta, spec: r.spec, source: r, plan: plan! });
  }
  const slotPaths: string[] = [];
  for (const [p, s] of slots) slotPaths[s] = p;
  return { rules, disabled, problems, slotPaths, catalog, counters };
}

function buildPlan(r: ParsedRule, env: FieldEnv, counters: PlanCounters, problem: (m: string) => void): Plan | undefined {
  const s = r.spec;
  const meta: RuleMeta = {
    id: s.id, title: s.title, severity: LEVELS[s.level], tags: s.tags, type: s.type, file: r.file,
    suppressMs: s.suppress ?? DEFAULT_SUPPRESS_MS,
    ...(s.details ? { details: s.details } : {}),
  };
  for (const t of RULE_TYPES) if (t !== s.type && (s as Record<string, unknown>)[t] !== undefined) problem(`${t}: only for rules of type ${t}`);
  const { catalog } = env;
  const vehicleOnly = !s['group-by'] || (s['group-by'].length === 1 && s['group-by'][0] === 'vehicle');
  const needSource = (): string => {
    if (!s.source) throw new RuleProblem(`source: a ${s.type} rule needs a source (a VSS path or branch, or ${RECORD_SOURCES.join(', ')})`);
    return s.source;
  };
  const perVehicle = (): void => {
    if (!vehicleOnly) problem(`group-by: a ${s.type} rule keeps state per vehicle; group-by must be [vehicle] or absent`);
  };
  const groupBy = (kind: SourceKind) => {
    if (vehicleOnly) return undefined;
    if (kind === 'signals') {
      problem('group-by: signal rules group by vehicle only');
      return undefined;
    }
    return s['group-by']!.map((name) => ({ name, get: getter(kind, name, env) }));
  };

  switch (s.type) {
    case 'match':
    case 'threshold': {
      const port = matcherPort({ source: needSource(), detection: s.detection }, env, problem, s.type === 'match');
      if (s.type === 'match') return new MatchPlan(meta, [port], groupBy(port.kind), counters, catalog);
      if (!s.threshold) throw new RuleProblem('threshold: a threshold rule needs threshold: { count, window }');
      const { count, window, distinct } = s.threshold;
      const distinctGet = distinct === undefined ? undefined : getter(port.kind, distinct, env);
      return new ThresholdPlan(meta, [port], groupBy(port.kind), counters, catalog, count, window, distinctGet, distinct);
    }
    case 'sequence': {
      if (!s.sequence) throw new RuleProblem('sequence: a sequence rule needs sequence: { timespan, steps }');
      if (s.detection) problem('detection: a sequence rule has its detections in its steps');
      const ports = s.sequence.steps.map((st, i) => matcherPort({ ...st, source: st.source ?? s.source }, env, (m) => problem(`sequence.steps.${i}: ${m}`), true));
      const kinds = new Set(ports.map((p) => p.kind));
      if (!vehicleOnly && kinds.size > 1) problem('group-by: steps of different sources can only be grouped by vehicle');
      const names = s.sequence.steps.map((st, i) => st.name ?? `step${i + 1}`);
      return new SequencePlan(meta, ports, groupBy(ports[0]!.kind), counters, catalog, s.sequence.timespan, s.sequence.steps.map((st) => st.count ?? 1), names, s.sequence.steps.map((st) => st.after ?? 0));
    }
    case 'absence': {
      if (!s.absence) throw new RuleProblem('absence: an absence rule needs absence: { expect, within }');
      perVehicle();
      if (s.detection) problem('detection: an absence rule has its detections in expect and while');
      const ports = [matcherPort({ ...s.absence.expect, source: s.absence.expect.source ?? s.source }, env, (m) => problem(`absence.expect: ${m}`), false)];
      if (s.absence.while) ports.push(matcherPort({ ...s.absence.while, source: s.absence.while.source ?? s.source }, env, (m) => problem(`absence.while: ${m}`), false));
      return new AbsencePlan(meta, ports, counters, catalog, s.absence.within);
    }
    case 'change':
    case 'consistency': {
      perVehicle();
      const path = needSource();
      const def = catalog.get(path);
      if (!def) {
        env.missing.add(path);
        return undefined;
      }
      if (!def.numeric) throw new RuleProblem(`source: ${path} is not numeric`);
      const port = matcherPort({ source: path, detection: s.detection }, env, problem, false);
      if (s.type === 'change') {
        if (!s.change) throw new RuleProblem('change: a change rule needs change: { max-increase | max-decrease | max-rate }');
        const c = s.change;
        return new ChangePlan(meta, [port], counters, path, env.slot(path)!, {
          maxIncrease: c['max-increase'], maxDecrease: c['max-decrease'], maxRate: c['max-rate'], maxGapMs: c['max-gap'] ?? DEFAULT_CHANGE_MAX_GAP_MS,
        });
      }
      if (!s.consistency) throw new RuleProblem('consistency: a consistency rule needs consistency: { with, tolerance }');
      const c = s.consistency;
      const withSlot = env.slot(c.with);
      if (withSlot === undefined) {
        env.missing.add(c.with);
        return undefined;
      }
      return new ConsistencyPlan(meta, [port], counters, {
        path, withPath: c.with, withSlot, scale: c.scale, offset: c.offset, tolerance: c.tolerance, relative: c.relative,
        maxAgeMs: c['max-age'] ?? DEFAULT_CONSISTENCY_MAX_AGE_MS,
      });
    }
    case 'geo': {
      perVehicle();
      if (!s.geo) throw new RuleProblem('geo: a geo rule needs geo: { impossible-travel | fence | speed-mismatch }');
      if (s.source && s.source !== 'Vehicle.CurrentLocation') problem('source: a geo rule reads Vehicle.CurrentLocation; leave source out');
      const latSlot = env.slot(LAT);
      const lonSlot = env.slot(LON);
      if (latSlot === undefined || lonSlot === undefined) {
        env.missing.add(latSlot === undefined ? LAT : LON);
        return undefined;
      }
      const ports = [LAT, LON].map((p) => matcherPort({ source: p, detection: s.detection }, env, problem, false));
      const g = s.geo;
      let check: GeoCheck;
      if (g['impossible-travel']) check = { kind: 'impossible-travel', maxSpeedKmh: g['impossible-travel']['max-speed-kmh'], minDistanceM: g['impossible-travel']['min-distance-m'] };
      else if (g.fence) {
        check = {
          kind: 'fence', alert: g.fence.alert,
          circles: (g.fence.circles ?? []).map((z) => ({ lat: z.lat, lon: z.lon, radiusM: z['radius-m'] })),
          polygons: g.fence.polygons ?? [],
        };
      } else {
        const m = g['speed-mismatch']!;
        const speedSlot = env.slot(SPEED);
        if (speedSlot === undefined) {
          env.missing.add(SPEED);
          return undefined;
        }
        check = { kind: 'speed-mismatch', toleranceKmh: m['tolerance-kmh'], minGapMs: m['min-gap'], maxGapMs: m['max-gap'], speedSlot, maxAgeMs: env.stateMaxAgeMs };
      }
      return new GeoPlan(meta, ports, counters, latSlot, lonSlot, check);
    }
  }
}

function getter(kind: SourceKind, name: string, env: FieldEnv) {
  try {
    return fieldGetter(kind, name, env);
  } catch (e) {
    throw new RuleProblem((e as Error).message);
  }
}

/**
 * A port from a source and its filter (`where` or `detection`). `needsFilter`: match-like
 * rules must say what they match; state rules may watch every event of the source.
 */
function matcherPort(m: MatcherSpec, env: FieldEnv, problem: (m: string) => void, needsFilter: boolean): Port {
  if (!m.source) throw new RuleProblem('source: missing (a VSS path or branch, or security, api, alert)');
  const kind: SourceKind = (RECORD_SOURCES as readonly string[]).includes(m.source) ? (m.source as RecordSource) : 'signals';
  let signals: number[] | undefined;
  if (kind === 'signals') {
    const prefix = `${m.source}.`;
    signals = [];
    for (const def of env.catalog) if (def.path === m.source || def.path.startsWith(prefix)) signals.push(def.id);
    if (!signals.length) env.missing.add(m.source);
    const def = env.catalog.get(m.source);
    if (def?.numeric) env = { ...env, leaf: m.source };
  }
  if (m.where && m.detection) problem('give where or detection, not both');
  const det = (m.detection ?? (m.where ? { condition: 'where', where: m.where } : undefined)) as Detection | undefined;
  if (!det) {
    if (needsFilter) problem('detection: missing (named selections and a condition)');
    return { kind, ...(signals ? { signals } : {}), pred: undefined };
  }
  return { kind, ...(signals ? { signals } : {}), pred: compileDetection(kind, det, env, problem) };
}

function compileDetection(kind: SourceKind, det: Detection, env: FieldEnv, problem: (m: string) => void): Pred {
  const names = Object.keys(det).filter((k) => k !== 'condition');
  const compiled = new Map<string, Pred>();
  for (const name of names) {
    if (!/^[A-Za-z_][\w-]*$/.test(name)) problem(`detection.${name}: a selection name is letters, digits, _ and -`);
    else if (RESERVED.has(name)) problem(`detection.${name}: "${name}" is a word of the condition language; name the selection otherwise`);
    compiled.set(name, compileSelection(kind, det[name] as Exclude<Detection[string], string>, env, (m) => problem(`detection.${name}: ${m}`)));
  }
  try {
    const tree = parseCondition(det.condition, names);
    const used = usedSelections(tree);
    for (const n of names) if (!used.has(n)) problem(`detection.${n}: not used by the condition`);
    return compileCondition(tree, (n) => compiled.get(n)!);
  } catch (e) {
    if (!(e instanceof ConditionError)) throw e;
    problem(`detection.condition: ${e.message}`);
    return () => false;
  }
}
