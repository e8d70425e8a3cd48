/**
 * `vigil vehicle show ID [--json]` and `vigil vehicle timeline ID [--json]`: one vehicle's
 * digital twin and its timeline, read from a running server's API (/v1/vehicles/{id}).
 */
import { Command } from 'commander';
import { authHeaders } from './api-token.js';

interface TwinSignal {
  path: string;
  value: number | null;
  time: number | null;
  count: number;
  mean: number;
  variance: number;
  min: number | null;
  max: number | null;
}

interface VehicleBody {
  id: string;
  tenant: string;
  live: boolean;
  identity: Record<string, string | number | undefined>;
  ecus: { name: string; software: string }[];
  cohort: string | null;
  firstSeen: number | null;
  lastSeen: number | null;
  signalCount: number;
  signals: TwinSignal[];
}

interface TimelineBody {
  items: { time: number; kind: string; summary: string; ref?: string }[];
  more: boolean;
}

interface Options {
  url: string;
  tenant?: string;
  json?: boolean;
  limit?: string;
}

/** The JSON at `path`, or a clear message and exit code 1 (no server, unknown vehicle, bad id). */
async function fetchJson<T>(opts: Options, path: string, query: Record<string, string | undefined> = {}): Promise<T | undefined> {
  const q = new URLSearchParams(Object.entries({ tenant: opts.tenant, ...query }).filter((e): e is [string, string] => e[1] !== undefined));
  const url = `${opts.url}${path}${q.size ? `?${q}` : ''}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: authHeaders(), signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause;
    process.stderr.write(`vigil: no server answers at ${opts.url} (${cause?.code ?? (e as Error).message}); the live twin is read from a running server\n`);
    process.exitCode = 1;
    return undefined;
  }
  const body = (await res.json()) as T & { message?: string };
  if (!res.ok) {
    process.stderr.write(`vigil: ${res.status} ${body.message ?? ''}\n`);
    process.exitCode = 1;
    return undefined;
  }
  return body;
}

const iso = (t: number | null): string => (t === null ? '-' : new Date(t).toISOString());
const num = (x: number | null): string => (x === null ? '-' : Number.isInteger(x) ? String(x) : x.toPrecision(6));

async function show(id: string, opts: Options): Promise<void> {
  const v = await fetchJson<VehicleBody>(opts, `/v1/vehicles/${encodeURIComponent(id)}`);
  if (!v) return;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(v)}\n`);
    return;
  }
  const who = ['make', 'model', 'year', 'trim', 'region'].map((k) => v.identity[k]).filter((x) => x !== undefined).join(' ');
  const lines = [
    `vehicle ${v.id} (tenant ${v.tenant})${v.live ? '' : '  [no live twin: stored summary only]'}`,
    `identity   ${who || '-'}${v.cohort ? `\ncohort     ${v.cohort}` : ''}`,
    `seen       ${iso(v.firstSeen)} .. ${iso(v.lastSeen)}, ${v.signalCount.toLocaleString('en-US')} signals`,
    `ECUs       ${v.ecus.map((e) => `${e.name} ${e.software}`).join(', ') || '-'}`,
  ];
  if (v.signals.length) {
    const w = Math.max(...v.signals.map((s) => s.path.length));
    lines.push('', `${'signal'.padEnd(w)}  ${'value'.padStart(12)}  ${'time'.padEnd(24)}  ${'count'.padStart(7)}  ${'mean'.padStart(10)}  ${'stddev'.padStart(10)}  ${'min'.padStart(10)}  ${'max'.padStart(10)}`);
    for (const s of v.signals) {
      lines.push(`${s.path.padEnd(w)}  ${num(s.value).padStart(12)}  ${iso(s.time).padEnd(24)}  ${String(s.count).padStart(7)}  ${num(s.count ? s.mean : null).padStart(10)}  ${num(s.count ? Math.sqrt(s.variance) : null).padStart(10)}  ${num(s.min).padStart(10)}  ${num(s.max).padStart(10)}`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function timeline(id: string, opts: Options): Promise<void> {
  const t = await fetchJson<TimelineBody>(opts, `/v1/vehicles/${encodeURIComponent(id)}/timeline`, { limit: opts.limit });
  if (!t) return;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(t)}\n`);
    return;
  }
  const lines = t.items.map((e) => `${iso(e.time)}  ${e.kind.padEnd(10)}  ${e.summary}${e.ref ? `  [${e.ref}]` : ''}`);
  if (t.more) lines.push(`... older events not shown (--limit)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function vehicleCommand(): Command {
  const cmd = new Command('vehicle').description("a vehicle's digital twin: identity, ECUs, last-known state, statistics, timeline");
  const common = (c: Command): Command =>
    c.option('--url <url>', 'server URL', 'http://127.0.0.1:8080').option('--tenant <tenant>', 'tenant (default: the server\'s)').option('--json', 'print the API answer as one JSON line');
  common(cmd.command('show').argument('<id>', 'vehicle pseudonym (16 hex digits)').description('identity, ECU software, last-known value, time and statistics of every signal')).action(show);
  common(cmd.command('timeline').argument('<id>', 'vehicle pseudonym (16 hex digits)').description('notable events, newest first').option('--limit <n>', 'events to show', '100')).action(timeline);
  return cmd;
}
