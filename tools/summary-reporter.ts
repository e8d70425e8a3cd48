/**
 * A vitest reporter that ends the run with one plain line, `N passed, N failed, N skipped`,
 * the closing line CI reads to know how many tests ran. Before it, the slowest test files
 * (collection plus tests), so the suite's time has a visible owner; the full list of files and
 * their seconds is written to test-artifacts/durations.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

/** How many of the slowest files are printed. */
const SLOWEST_SHOWN = 10;
const DURATIONS_FILE = 'test-artifacts/durations.json';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const durations: { file: string; seconds: number }[] = [];
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      if (m.state() === 'failed' && [...m.children.allTests()].length === 0) failed++;
      const d = m.diagnostic();
      durations.push({ file: relative(process.cwd(), m.moduleId), seconds: Math.round((d.collectDuration + d.duration) / 100) / 10 });
    }
    durations.sort((a, b) => b.seconds - a.seconds);
    if (durations.length > SLOWEST_SHOWN) {
      const lines = durations.slice(0, SLOWEST_SHOWN).map((d) => `  ${d.seconds.toFixed(1).padStart(6)} s  ${d.file}`);
      process.stdout.write(`\nslowest test files:\n${lines.join('\n')}\n`);
      mkdirSync('test-artifacts', { recursive: true });
      writeFileSync(DURATIONS_FILE, `${JSON.stringify(durations, null, 1)}\n`);
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
