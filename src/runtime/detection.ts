/**
 * The detection rule pack as the runtime carries it: rule file texts plus the ids turned off
 * in the config. Texts, not compiled plans, cross to worker threads; each side compiles.
 */
import type { SignalCatalog } from '../core/catalog.js';
import { compileRules, parseRuleFiles, type CompiledPack, type RuleFile } from '../detect/rules/index.js';

export interface RulePackSource {
  readonly files: readonly RuleFile[];
  /** Rule ids not to run (config `detection.disabled`). */
  readonly disabled?: readonly string[];
}

/**
 * Compile the pack without its disabled rules. An id in `disabled` that no rule has is a
 * problem: a typo there would silently leave a noisy rule running.
 */
export function compileRulePack(src: RulePackSource, catalog: SignalCatalog, unknownSignals: 'problem' | 'disable'): CompiledPack {
  const parsed = parseRuleFiles(src.files);
  const off = new Set(src.disabled ?? []);
  const pack = compileRules({ ...parsed, rules: parsed.rules.filter((r) => !off.has(r.spec.id)) }, catalog, { unknownSignals });
  const known = new Set(parsed.rules.map((r) => r.spec.id));
  const unknown = [...off].filter((id) => !known.has(id)).map((id) => `disabled lists "${id}", which no rule has`);
  return unknown.length ? { ...pack, problems: [...pack.problems, ...unknown] } : pack;
}

/** Rules fed by the alerts of every worker (`source: alert`): the pipeline runs them once, on the main thread. */
export function hasCorrelationRules(pack: CompiledPack): boolean {
  return pack.rules.some((r) => r.spec.enabled && r.plan.ports.some((p) => p.kind === 'alert'));
}
