/**
 * A tenant's own rule: a detection an analyst made from a template (src/detect/templates) for
 * one vulnerability. It is a rule like the pack's, given as YAML text (texts cross to worker
 * threads), and runs for its tenant only, beside the pack (RuleRunner.addCustom), the way a
 * tuned rule does (tuning.ts): compiled on the pack's catalog and state slots, at a plan index
 * past the pack's, so it starts clean.
 *
 * Limits: one rule per text; its id may not be a pack rule's id; no `absence` rules (judged on
 * clock ticks over every tenant's vehicles at once) and no `source: alert` rules (correlation
 * runs once on the main thread over the pack); it may read only the `state.<path>` signals the
 * pack keeps.
 */
import type { CompiledPack } from './compile.js';
import { compileRules } from './compile.js';
import { parseRuleFiles } from './load.js';
import type { Plan } from './plan.js';

/** One tenant's rule, as stored (custom_detections) and sent to the lanes. */
export interface CustomRule {
  readonly tenant: string;
  readonly id: string;
  readonly yaml: string;
}

/** The plan of `rule` compiled against `pack`, at plan index `index`, or every problem. */
export function compileCustom(pack: CompiledPack, rule: CustomRule, index: number): { plan: Plan; problems: [] } | { plan?: undefined; problems: string[] } {
  const parsed = parseRuleFiles([{ file: `custom/${rule.id}`, text: rule.yaml }]);
  if (parsed.problems.length) return { problems: [...parsed.problems] };
  if (parsed.rules.length !== 1) return { problems: [`a custom detection is exactly one rule; the text has ${parsed.rules.length}`] };
  const spec = parsed.rules[0]!.spec;
  const problems: string[] = [];
  if (spec.id !== rule.id) problems.push(`id: the rule's id is ${spec.id}, not ${rule.id}`);
  if (pack.rules.some((r) => r.meta.id === spec.id)) problems.push(`id: ${spec.id} is a rule of the pack; give the custom detection its own id`);
  if (spec.type === 'absence') problems.push('type: absence rules cannot run for one tenant (they are judged on clock ticks over every vehicle)');
  if (problems.length) return { problems };
  const compiled = compileRules(parsed, pack.catalog, { unknownSignals: 'problem', slotPaths: pack.slotPaths, counters: pack.counters });
  const plan = compiled.rules[0]?.plan;
  if (!plan || compiled.problems.length) return { problems: compiled.problems.length ? [...compiled.problems] : [`rule ${rule.id} did not compile`] };
  if (plan.ports.some((p) => p.kind === 'alert')) return { problems: ['source: a custom detection cannot read alerts (fleet correlation runs over the pack only)'] };
  if (compiled.slotPaths.length > pack.slotPaths.length) {
    const extra = compiled.slotPaths.slice(pack.slotPaths.length);
    return { problems: [`reads state the pack does not keep (${extra.join(', ')}); use signals the pack's rules read, or none`] };
  }
  plan.index = index;
  return { plan, problems: [] };
}
