/** The YAML detection rule engine: parse, compile, run, and run the rules' own samples. */
import type { SignalCatalog } from '../../core/catalog.js';
import { compileRules, type CompiledPack, type CompileOptions } from './compile.js';
import { parseRuleFiles, type RuleFile } from './load.js';

export { compileRules, type CompiledPack, type CompiledRule, type CompileOptions } from './compile.js';
export { parseRuleFiles, type ParsedRule, type ParsedRules, type RuleFile } from './load.js';
export { RuleRunner, type RunnerOptions, type RunnerStats } from './runner.js';
export { runRuleTests, SAMPLE_EPOCH, type RuleTestReport, type SampleResult } from './samples.js';

/** Rule files straight to a compiled pack (problems inside, never thrown). */
export function compileRuleFiles(files: readonly RuleFile[], catalog: SignalCatalog, opts?: CompileOptions): CompiledPack {
  return compileRules(parseRuleFiles(files), catalog, opts);
}
