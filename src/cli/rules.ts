/**
 * `vigil rules check [DIR]` compiles a rule pack and prints every problem at once;
 * `vigil rules test [DIR]` also runs each rule's regression samples. Both exit 1 on any
 * problem or failure. DIR defaults to rules/detections; every *.yaml / *.yml under it is read.
 */
import { Command } from 'commander';
import { compileRuleFiles, runRuleTests, type CompiledPack } from '../detect/rules/index.js';
import { defaultCatalog } from '../sim/default-catalog.js';
import { readRuleFiles } from '../api/detection.js';

export const DEFAULT_RULES_DIR = 'rules/detections';

/** The pack in a folder, compiled against the built-in catalog; a signal it lacks is a problem. */
export function loadRulePack(dir: string): { pack: CompiledPack; files: number } {
  const files = readRuleFiles(dir);
  return { pack: compileRuleFiles(files, defaultCatalog(), { unknownSignals: 'problem' }), files: files.length };
}

function printProblems(pack: CompiledPack): boolean {
  for (const p of pack.problems) process.stderr.write(`${p}\n`);
  return pack.problems.length === 0;
}

export function rulesCheck(dir = DEFAULT_RULES_DIR): void {
  const { pack, files } = loadRulePack(dir);
  if (!printProblems(pack)) {
    process.stderr.write(`${pack.problems.length} problem(s) in ${dir}\n`);
    process.exitCode = 1;
    return;
  }
  const types = new Map<string, number>();
  for (const r of pack.rules) types.set(r.meta.type, (types.get(r.meta.type) ?? 0) + 1);
  const byType = [...types].map(([t, n]) => `${t} ${n}`).join(', ');
  process.stdout.write(`${pack.rules.length} rules in ${files} files: ok (${byType})\n`);
}

export function rulesTest(dir = DEFAULT_RULES_DIR, opts: { rule?: string; verbose?: boolean; json?: boolean } = {}): void {
  const { pack } = loadRulePack(dir);
  if (!printProblems(pack)) {
    process.stderr.write(`${pack.problems.length} problem(s) in ${dir}; no samples run\n`);
    process.exitCode = 1;
    return;
  }
  const report = runRuleTests(pack, opts.rule ? { only: (id) => id === opts.rule } : {});
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ passed: report.passed, failed: report.failed, uncovered: report.uncovered, results: report.results.map(({ first: _f, ...r }) => r) })}\n`);
  } else {
    for (const r of report.results) {
      if (!r.ok) process.stdout.write(`FAIL ${r.file} ${r.rule} "${r.name}": ${r.reason}\n`);
      else if (opts.verbose) process.stdout.write(`ok   ${r.file} ${r.rule} "${r.name}" (${r.alerts} alert${r.alerts === 1 ? '' : 's'})\n`);
    }
    for (const u of report.uncovered) process.stdout.write(`MISSING ${u.file} ${u.rule}: no sample with ${u.missing}\n`);
    const rules = new Set(report.results.map((r) => r.rule)).size;
    process.stdout.write(`${rules} rules, ${report.results.length} samples\n`);
    process.stdout.write(`${report.passed} passed, ${report.failed} failed\n`);
  }
  if (report.failed || report.uncovered.length) process.exitCode = 1;
}

export function rulesCommand(): Command {
  const cmd = new Command('rules').description('detection rules: check and test a rule pack');
  cmd
    .command('check')
    .description('compile the rules; prints every problem at once (exit 1 on any)')
    .argument('[dir]', 'rule folder or file', DEFAULT_RULES_DIR)
    .action((dir: string) => rulesCheck(dir));
  cmd
    .command('test')
    .description("run every rule's positive and negative samples (exit 1 on a failure or a rule without both)")
    .argument('[dir]', 'rule folder or file', DEFAULT_RULES_DIR)
    .option('--rule <id>', 'only this rule')
    .option('-v, --verbose', 'list passing samples too')
    .option('--json', 'print one JSON report')
    .action((dir: string, opts: { rule?: string; verbose?: boolean; json?: boolean }) => rulesTest(dir, opts));
  return cmd;
}
