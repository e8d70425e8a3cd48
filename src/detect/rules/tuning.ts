/**
 * Per-tenant rule tuning: an analyst's false-positive verdict may raise a rule's threshold or
 * change its window for one tenant (`POST /v1/incidents/{id}/verdict` with `tune`). The tuned
 * rule is the same rule compiled again with the parameters overridden; the runner runs it for
 * that tenant instead of the pack's version (RuleRunner.tune).
 *
 * Tunable parameters, by rule type:
 *
 * | parameter                                   | rule types   | value                          |
 * |---------------------------------------------|--------------|--------------------------------|
 * | `threshold` (alias `count`)                 | threshold    | events (or distinct values), integer >= 2 |
 * | `window`                                    | threshold    | duration (`10m`, or ms)        |
 * | `timespan`                                  | sequence     | duration                       |
 * | `tolerance`                                 | consistency  | number >= 0                    |
 * | `max-increase`, `max-decrease`, `max-rate`  | change       | number >= 0 (`max-rate` > 0)   |
 * | `suppress`                                  | all but absence | duration                    |
 *
 * Absence rules are judged on clock ticks over every vehicle at once and are not tunable per
 * tenant: disable them (config `detection.disabled`) or suppress their alerts instead.
 */
import type { CompiledPack } from './compile.js';
import { compileRules } from './compile.js';
import type { Plan } from './plan.js';
import { duration, type RuleSpec } from './schema.js';

/** Parameter overrides as given (JSON values); checked by `tunedSpec`. */
export type TuningParams = Readonly<Record<string, unknown>>;

type Setter = (spec: RuleSpec, value: unknown) => RuleSpec | string;

const durationMs = (v: unknown): number | string => {
  const r = duration.safeParse(v);
  if (!r.success || !(r.data > 0)) return 'must be a positive duration such as 30s, 10m, 1h (or ms)';
  return r.data;
};
const count = (v: unknown): number | string => (typeof v === 'number' && Number.isInteger(v) && v >= 2 && v <= 1_000_000 ? v : 'must be an integer from 2 to 1000000');
const nonNegative = (v: unknown): number | string => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 'must be a number >= 0');
const positive = (v: unknown): number | string => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 'must be a number > 0');

/** `check` turns the value into what the spec holds, or a problem; `set` writes it. */
function param<T>(types: readonly RuleSpec['type'][] | 'all', check: (v: unknown) => T | string, set: (spec: RuleSpec, v: T) => RuleSpec): Setter {
  return (spec, value) => {
    if (types !== 'all' && !types.includes(spec.type)) return `applies to ${types.join(', ')} rules, not to this ${spec.type} rule`;
    const v = check(value);
    return typeof v === 'string' ? v : set(spec, v);
  };
}

const threshold = param(['threshold'], count, (s, v) => ({ ...s, threshold: { ...s.threshold!, count: v } }));
const TUNABLE: Readonly<Record<string, Setter>> = {
  threshold,
  count: threshold,
  window: param(['threshold'], durationMs, (s, v) => ({ ...s, threshold: { ...s.threshold!, window: v } })),
  timespan: param(['sequence'], durationMs, (s, v) => ({ ...s, sequence: { ...s.sequence!, timespan: v } })),
  tolerance: param(['consistency'], nonNegative, (s, v) => ({ ...s, consistency: { ...s.consistency!, tolerance: v } })),
  'max-increase': param(['change'], nonNegative, (s, v) => ({ ...s, change: { ...s.change!, 'max-increase': v } })),
  'max-decrease': param(['change'], nonNegative, (s, v) => ({ ...s, change: { ...s.change!, 'max-decrease': v } })),
  'max-rate': param(['change'], positive, (s, v) => ({ ...s, change: { ...s.change!, 'max-rate': v } })),
  suppress: param('all', durationMs, (s, v) => ({ ...s, suppress: v })),
};

/** The tunable parameter names. */
export const TUNABLE_PARAMS: readonly string[] = Object.keys(TUNABLE);

/** The rule's spec with `params` applied, or every problem (`threshold: must be ...`). */
export function tunedSpec(spec: RuleSpec, params: TuningParams): { spec: RuleSpec; problems: [] } | { spec?: undefined; problems: string[] } {
  const problems: string[] = [];
  if (spec.type === 'absence') problems.push(`rule ${spec.id} is an absence rule: it cannot be tuned per tenant (disable it or suppress its alerts)`);
  const names = Object.keys(params);
  if (!names.length) problems.push('no parameter given');
  let out = spec;
  for (const name of names) {
    const set = TUNABLE[name];
    if (!set) {
      problems.push(`${name}: not a tunable parameter (${TUNABLE_PARAMS.join(', ')})`);
      continue;
    }
    const r = set(out, params[name]);
    if (typeof r === 'string') problems.push(`${name}: ${r}`);
    else out = r;
  }
  return problems.length ? { problems } : { spec: out, problems: [] };
}

/**
 * The plan of `rule` of `pack` compiled again with `params`, against the pack's catalog and its
 * state slots (so it reads the same vehicle state), or the problems. `index` is the plan's own
 * slot in each vehicle's per-plan state: past the pack's plans, so the tuned plan starts clean.
 */
export function compileTuned(pack: CompiledPack, rule: string, params: TuningParams, index: number): { plan: Plan; problems: [] } | { plan?: undefined; problems: string[] } {
  const base = pack.rules.find((r) => r.meta.id === rule);
  if (!base) return { problems: [`no rule ${rule} runs here`] };
  const tuned = tunedSpec(base.spec, params);
  if (!tuned.spec) return { problems: tuned.problems };
  const compiled = compileRules({ rules: [{ ...base.source, spec: tuned.spec }], problems: [] }, pack.catalog, {
    unknownSignals: 'problem', slotPaths: pack.slotPaths, counters: pack.counters,
  });
  const plan = compiled.rules[0]?.plan;
  if (!plan || compiled.problems.length) return { problems: compiled.problems.length ? [...compiled.problems] : [`rule ${rule} did not compile with ${JSON.stringify(params)}`] };
  // Its slots must be the pack's: a rule reading a state path the pack has not would index past a vehicle's state.
  if (compiled.slotPaths.length > pack.slotPaths.length) return { problems: [`rule ${rule} tuned reads state the pack does not keep`] };
  plan.index = index;
  return { plan, problems: [] };
}
