/**
 * `npm run bench [-- --json] [-- --only e2e,dbc-decode] [-- <scenario options>]`
 *
 * Runs every scenario in bench/scenarios/, each in a child process of its own so that its
 * peak RSS and its warm-up are its own, one after the other (never two at once: they would
 * share the two cores). Options other than `--only` pass through to every scenario, which
 * ignores those it does not know. With `--json`, stdout carries exactly one JSON object per
 * line, one per scenario, with at least `name`; a scenario that fails prints
 * `{"name": ..., "error": ...}` and the run exits 1 after the others.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Run order: the foundation's scenario first, the rest by name. */
const FIRST = ['e2e'];

const dir = fileURLToPath(new URL('./scenarios/', import.meta.url));
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort((a, b) => (FIRST.includes(b) ? 1 : 0) - (FIRST.includes(a) ? 1 : 0) || a.localeCompare(b));

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const onlyAt = argv.indexOf('--only');
const only = onlyAt >= 0 ? (argv[onlyAt + 1] ?? '').split(',').filter(Boolean) : undefined;
const passOn = onlyAt >= 0 ? [...argv.slice(0, onlyAt), ...argv.slice(onlyAt + 2)] : argv;

const unknown = only?.filter((n) => !all.includes(n)) ?? [];
if (unknown.length) {
  process.stderr.write(`bench: unknown scenario(s) ${unknown.join(', ')}; there are: ${all.join(', ')}\n`);
  process.exit(2);
}

function runScenario(name: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (!json) process.stderr.write(`\n== ${name} ==\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', `${dir}${name}.ts`, ...passOn], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.on('close', (code, signal) => {
      const lines = out.split('\n').filter((l) => l.trim().length > 0);
      if (code === 0) {
        for (const l of lines) process.stdout.write(`${l}\n`);
        return resolve(true);
      }
      const error = `exited with ${signal ?? code}`;
      if (json) process.stdout.write(`${JSON.stringify({ name, error })}\n`);
      else process.stderr.write(`bench: ${name} ${error}\n`);
      resolve(false);
    });
  });
}

let failed = false;
for (const name of only ?? all) if (!(await runScenario(name))) failed = true;
process.exit(failed ? 1 : 0);
