/** `vigil status` and `vigil dlq list`: read a running server's API, or the store directly. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBStore } from '../adapters/duckdb/duckdb-store.js';
import type { DeadLetter } from '../core/records.js';
import { ConfigError } from '../core/errors.js';
import { authHeaders, TOKEN_ENV } from './api-token.js';

/** The parsed JSON at `url`; undefined when no server answers (refused, unreachable, timed out). */
async function getJson(url: string, dataDir?: string): Promise<unknown | undefined> {
  let res: Response;
  try {
    res = await fetch(url, { headers: authHeaders(dataDir), signal: AbortSignal.timeout(5000) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    unreachable = cause?.code ?? cause?.message ?? (e as Error).message;
    return undefined;
  }
  if (res.status === 401) throw new ConfigError(`${url} wants an API token`, [`set ${TOKEN_ENV} (vigil token create, or the demo's <dataDir>/admin-token), or run where ./vigil-data/admin-token is`]);
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

/** Why the last getJson found no server. */
let unreachable = '';

interface Status {
  version: string;
  uptimeS: number;
  stored: Record<string, number>;
  rates: Record<string, number>;
  queues: Record<string, number>;
  latencyMs: { p50: number; p99: number };
  problems: string[];
}

export async function printStatus(opts: { url: string; json?: boolean }): Promise<void> {
  const s = (await getJson(`${opts.url}/v1/status`)) as Status | undefined;
  if (!s) {
    process.stderr.write(`vigil: no server answers at ${opts.url} (${unreachable}); start one with: npm start\n`);
    process.exitCode = 1;
    return;
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(s)}\n`);
    return;
  }
  const n = (v: number): string => Math.round(v).toLocaleString('en-US');
  process.stdout.write(
    [
      `Vigil ${s.version} at ${opts.url}, up ${s.uptimeS} s${s.problems.length ? `  PROBLEMS: ${s.problems.join('; ')}` : ''}`,
      `stored     signals ${n(s.stored.signals!)}  vehicles ${n(s.stored.vehicles!)}  security events ${n(s.stored.securityEvents!)}  api events ${n(s.stored.apiEvents!)}  alerts ${n(s.stored.alerts!)}  dead letters ${n(s.stored.deadLetters!)}`,
      `rates/s    messages ${n(s.rates.messagesPerS!)}  signals ${n(s.rates.signalsPerS!)}  alerts ${s.rates.alertsPerS!.toFixed(2)}  dead letters ${s.rates.deadLettersPerS!.toFixed(2)}`,
      `queues     in flight ${n(s.queues.inFlightMessages!)}  store queue rows ${n(s.queues.storeQueueRows!)}`,
      `latency    ingest->store p50 ${s.latencyMs.p50} ms  p99 ${s.latencyMs.p99} ms`,
      '',
    ].join('\n'),
  );
}

type ApiDeadLetter = Omit<DeadLetter, 'raw'> & { raw: string };

export async function dlqList(opts: { url: string; dataDir: string; limit: number; code?: string; source?: string; json?: boolean }): Promise<void> {
  const q = new URLSearchParams({ limit: String(opts.limit), ...(opts.code ? { code: opts.code } : {}), ...(opts.source ? { source: opts.source } : {}) });
  let items: ApiDeadLetter[];
  const fromApi = (await getJson(`${opts.url}/v1/dead-letters?${q}`, opts.dataDir)) as { items: ApiDeadLetter[] } | undefined;
  if (fromApi) items = fromApi.items;
  else {
    const file = join(opts.dataDir, 'vigil.duckdb');
    if (!existsSync(file)) {
      process.stderr.write(`vigil: no server at ${opts.url} and no store at ${file}\n`);
      process.exitCode = 1;
      return;
    }
    const store = await DuckDBStore.open({ path: file });
    try {
      const rows = await store.listDeadLetters({ limit: opts.limit, ...(opts.code ? { code: opts.code } : {}), ...(opts.source ? { source: opts.source } : {}) });
      items = rows.map((d) => ({ ...d, raw: Buffer.from(d.raw).toString('utf8') }));
    } finally {
      await store.close();
    }
  }
  if (opts.json) {
    for (const d of items) process.stdout.write(`${JSON.stringify(d)}\n`);
    return;
  }
  if (items.length === 0) {
    process.stdout.write('no dead letters\n');
    return;
  }
  for (const d of items) {
    const raw = d.raw.length > 120 ? `${d.raw.slice(0, 117)}...` : d.raw;
    process.stdout.write(`${new Date(d.receivedAt).toISOString()}  ${d.code.padEnd(22)} ${d.source}  ${d.reason}\n    raw: ${raw}\n`);
  }
}
