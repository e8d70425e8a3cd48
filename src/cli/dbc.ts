/**
 * `vigil dbc check FILE... [--mapping M [--vss CATALOG...]] [--json]`: parse DBC files as the
 * pipeline does and report, per file, its messages, signals, warnings and errors (each at
 * file:line:col); with `--mapping`, also bind a VSS mapping file to the (single) DBC and the
 * signal catalog, as `can.dbc` in the config does at start-up. Exit code 1 on any error.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { flattenVss, SignalCatalog, type SignalSpec } from '../core/catalog.js';
import { compileCanBinding } from '../decode/dbc/bind.js';
import { formatDiagnostic, parseDbc, type DbcDiagnostic } from '../decode/dbc/index.js';
import { DEFAULT_SIGNALS } from '../sim/default-catalog.js';

export interface DbcCheckOptions {
  readonly json?: boolean;
  readonly mapping?: string;
  readonly vss?: readonly string[];
}

interface FileReport {
  readonly file: string;
  readonly messages: number;
  readonly signals: number;
  readonly errors: readonly DbcDiagnostic[];
  readonly warnings: readonly DbcDiagnostic[];
}

const plain = (d: DbcDiagnostic) => ({ line: d.line, col: d.col, message: d.message });

function checkFile(file: string): FileReport {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { file, messages: 0, signals: 0, errors: [{ severity: 'error', file, line: 0, col: 0, message: (e as Error).message }], warnings: [] };
  }
  const { db, errors, warnings } = parseDbc(text, file);
  return { file, messages: db.messages.length, signals: db.messages.reduce((n, m) => n + m.signals.length, 0), errors, warnings };
}

/** Run the check; returns the exit code (also set on `process.exitCode`). */
export function runDbcCheck(files: readonly string[], opts: DbcCheckOptions, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): number {
  let failed = false;
  const reports = files.map(checkFile);
  for (const r of reports) {
    failed ||= r.errors.length > 0;
    if (opts.json) {
      out(JSON.stringify({ file: r.file, messages: r.messages, signals: r.signals, errors: r.errors.map(plain), warnings: r.warnings.map(plain) }));
      continue;
    }
    out(`${r.file}: ${r.messages} messages, ${r.signals} signals, ${r.errors.length} error(s), ${r.warnings.length} warning(s)`);
    for (const d of [...r.errors, ...r.warnings]) out(`  ${formatDiagnostic(d)}`);
  }
  if (!opts.json && reports.length > 1) {
    const sum = (k: 'messages' | 'signals') => reports.reduce((n, r) => n + r[k], 0);
    const errors = reports.reduce((n, r) => n + r.errors.length, 0);
    const warnings = reports.reduce((n, r) => n + r.warnings.length, 0);
    out(`${reports.length} files: ${sum('messages')} messages, ${sum('signals')} signals, ${errors} error(s), ${warnings} warning(s)`);
  }
  if (opts.mapping !== undefined) failed = checkMapping(files, opts.mapping, opts, out) || failed;
  const code = failed ? 1 : 0;
  if (failed) process.exitCode = 1;
  return code;
}

/** Bind the mapping to the one DBC and the catalog (built-in signals plus `--vss`); true on problems. */
function checkMapping(files: readonly string[], mapping: string, opts: DbcCheckOptions, out: (line: string) => void): boolean {
  const problems: string[] = [];
  let mapped = 0;
  if (files.length !== 1) problems.push(`--mapping binds one DBC file; ${files.length} were given`);
  const specs: SignalSpec[] = [...DEFAULT_SIGNALS];
  for (const f of opts.vss ?? []) {
    try {
      specs.push(...flattenVss(JSON.parse(readFileSync(f, 'utf8'))));
    } catch (e) {
      problems.push(`--vss ${f}: ${(e as Error).message}`);
    }
  }
  let mappingText: string | undefined;
  let dbcText: string | undefined;
  try {
    mappingText = readFileSync(mapping, 'utf8');
    if (files.length === 1) dbcText = readFileSync(files[0]!, 'utf8');
  } catch (e) {
    problems.push(`${mapping}: ${(e as Error).message}`);
  }
  if (!problems.length && mappingText !== undefined && dbcText !== undefined) {
    const r = compileCanBinding({ dbcFile: files[0]!, dbcText, mappingFile: mapping, mappingText }, new SignalCatalog(specs));
    // DBC errors were reported above; here only the mapping's own problems.
    problems.push(...r.problems.filter((p) => !p.startsWith(`${files[0]!}:`)));
    mapped = r.binding?.mappedSignals ?? 0;
  }
  if (opts.json) out(JSON.stringify({ mapping, mapped, problems }));
  else {
    out(problems.length ? `${mapping}: ${problems.length} problem(s)` : `${mapping}: ok, ${mapped} signal(s) mapped to VSS`);
    for (const p of problems) out(`  ${p}`);
  }
  return problems.length > 0;
}

/** The `dbc` command group, for the CLI's main program. */
export function dbcCommand(): Command {
  const dbc = new Command('dbc').description('DBC (CAN database) tools');
  dbc
    .command('check')
    .description('parse DBC files: messages, signals, warnings and errors (file:line:col) per file; exit 1 on any error')
    .argument('<files...>', 'DBC files')
    .option('--mapping <file>', 'also bind this DBC -> VSS mapping file to the (single) DBC and the signal catalog')
    .option('--vss <file...>', 'with --mapping: VSS JSON catalogs in addition to the built-in signals')
    .option('--json', 'one JSON object per line: per file, then the mapping')
    .action((files: string[], opts: DbcCheckOptions) => {
      runDbcCheck(files, opts);
    });
  return dbc;
}
