/**
 * `vigil ask "QUESTION" [--json]`, `vigil ask --query '{"entity":"alerts",...}'` and
 * `vigil ask --sql "SELECT ..."`: asked through a running server's API (POST /v1/ask,
 * POST /v1/ask/sql; the database file belongs to the server process). Prints the summary, the
 * table, and the query that ran with its bound values; `--json` prints the API's answer as is.
 */
import { Command } from 'commander';
import { authHeaders } from './api-token.js';

interface Options {
  url: string;
  tenant?: string;
  json?: boolean;
  sql?: string;
  query?: string;
}

type Cell = unknown;
interface Column { name: string; label?: string }
interface AnswerBody {
  kind: 'answer' | 'askBack';
  by?: string;
  notes?: string[];
  askBack?: { question: string; choices: { label: string; question: string }[] };
  answer?: {
    summary: string;
    table: { columns: Column[]; rows: Cell[][]; truncated: boolean };
    sql: { text: string; params: Cell[] };
    commonality?: { items: { attribute: string; value: Cell; setCount: number; support: number; fleetShare: number; lift: number; pAdjusted: number; significant: boolean }[]; sql: { text: string; params: Cell[] } };
    elapsedMs: number;
  };
}
interface SqlBody { sql: string; columns: Column[]; rows: Cell[][]; truncated: boolean; elapsedMs: number }

async function post<T>(opts: Options, path: string, body: unknown): Promise<T | undefined> {
  const url = `${opts.url}${path}${opts.tenant ? `?tenant=${encodeURIComponent(opts.tenant)}` : ''}`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...authHeaders() }, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause;
    process.stderr.write(`vigil: no server answers at ${opts.url} (${cause?.code ?? (e as Error).message}); vigil ask asks a running server (vigil serve)\n`);
    process.exitCode = 1;
    return undefined;
  }
  const answer = (await res.json()) as T & { message?: string; fields?: { path: string; message: string }[] };
  if (!res.ok) {
    const fields = answer.fields?.map((f) => `\n  ${f.path}: ${f.message}`).join('') ?? '';
    process.stderr.write(`vigil: ${res.status} ${answer.message ?? ''}${fields}\n`);
    process.exitCode = 1;
    return undefined;
  }
  return answer;
}

const text = (x: Cell): string => (x === null || x === undefined ? '-' : typeof x === 'object' ? JSON.stringify(x) : String(x));

/** A plain text table, columns padded to their widest cell. */
export function formatTable(columns: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const cells = rows.map((r) => r.map(text));
  const widths = columns.map((c, i) => Math.min(60, Math.max(c.length, ...cells.map((r) => r[i]!.length))));
  const line = (r: readonly string[]): string => r.map((c, i) => (c.length > widths[i]! ? `${c.slice(0, widths[i]! - 1)}…` : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

const shownSql = (s: { text: string; params: Cell[] }): string =>
  `${s.text}${s.params.length ? `\n-- ${s.params.map((p, i) => `$${i + 1} = ${JSON.stringify(p)}`).join(', ')}` : ''}`;

async function ask(question: string | undefined, opts: Options): Promise<void> {
  if (opts.sql !== undefined) {
    const r = await post<SqlBody>(opts, '/v1/ask/sql', { sql: opts.sql });
    if (!r) return;
    if (opts.json) return void process.stdout.write(`${JSON.stringify(r)}\n`);
    process.stdout.write(`${formatTable(r.columns.map((c) => c.name), r.rows)}\n${r.truncated ? '(more rows not shown: row limit)\n' : ''}\n${r.sql}\n-- ${r.elapsedMs} ms\n`);
    return;
  }
  let body: unknown;
  if (opts.query !== undefined) {
    try {
      body = { query: JSON.parse(opts.query) as unknown };
    } catch (e) {
      process.stderr.write(`vigil: --query is not JSON: ${(e as Error).message}\n`);
      process.exitCode = 1;
      return;
    }
  } else if (question) {
    body = { question };
  } else {
    process.stderr.write('vigil: ask what? give a question, --query JSON or --sql SELECT\n');
    process.exitCode = 1;
    return;
  }
  const r = await post<AnswerBody>(opts, '/v1/ask', body);
  if (!r) return;
  if (opts.json) return void process.stdout.write(`${JSON.stringify(r)}\n`);
  if (r.kind === 'askBack' && r.askBack) {
    process.stdout.write(`${r.askBack.question}\n${r.askBack.choices.map((c, i) => `  ${i + 1}. ${c.label}: vigil ask ${JSON.stringify(c.question)}`).join('\n')}\n`);
    return;
  }
  const a = r.answer!;
  const out = [a.summary, '', formatTable(a.table.columns.map((c) => c.name), a.table.rows)];
  if (a.table.truncated) out.push('(more rows not shown: raise limit)');
  if (a.commonality?.items.length) {
    out.push('', 'in common (against the fleet):', formatTable(['attribute', 'value', 'vehicles', 'support', 'fleet', 'lift', 'p (adjusted)', 'significant'],
      a.commonality.items.map((i) => [i.attribute, i.value, i.setCount, `${(i.support * 100).toFixed(1)}%`, `${(i.fleetShare * 100).toFixed(1)}%`, i.lift.toFixed(1), i.pAdjusted.toExponential(1), i.significant ? 'yes' : 'no'])));
  }
  out.push('', shownSql(a.sql));
  if (a.commonality) out.push('', shownSql(a.commonality.sql));
  out.push(`-- ${a.elapsedMs} ms${r.notes?.length ? `; ${r.notes.join('; ')}` : ''}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

export function askCommand(): Command {
  return new Command('ask')
    .description('ask a question of the fleet\'s security data (a running server answers; the query is shown)')
    .argument('[question]', 'a plain-language question, e.g. "alerts by make in the last 30 days"')
    .option('--query <json>', 'a typed query instead of a question (see src/ask/README.md)')
    .option('--sql <select>', 'a read-only SELECT over the allow-listed tables (admin token)')
    .option('--url <url>', 'server URL', 'http://127.0.0.1:8080')
    .option('--tenant <tenant>', "tenant (operator tokens; default: the server's, or every tenant for --query and --sql)")
    .option('--json', 'print the API answer as one JSON line')
    .action(ask);
}
