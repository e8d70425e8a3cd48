/** `vigil serve`, `vigil demo` and `vigil config check`. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { ConfigError } from '../core/errors.js';
import { parseConfig, parseConfigYaml, type VigilConfig } from '../runtime/config.js';
import { checkConfigReferences, startVigil, type Vigil } from '../api/vigil.js';
import { ADMIN_TOKEN_FILE } from '../api/admin-token.js';
import { startIngestRole, startWorkerRole, type RunningRole } from '../api/scaleout.js';
import { parse as parseYaml } from 'yaml';

const log = pino({ name: 'vigil' });

export function readConfigFile(file: string): VigilConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read ${file}`, [(e as Error).message], { cause: e });
  }
  return parseConfigYaml(text, file);
}

export async function checkConfigFiles(files: string[]): Promise<void> {
  let failed = false;
  for (const f of files) {
    try {
      const c = readConfigFile(f);
      checkConfigReferences(c);
      process.stdout.write(`${f}: ok (${c.sources.length} source(s), ${c.runtime.workers} worker(s), ${c.runtime.partitions} partitions)\n`);
    } catch (e) {
      failed = true;
      const problems = e instanceof ConfigError ? e.problems : [(e as Error).message];
      process.stdout.write(`${f}: ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    }
  }
  if (failed) process.exitCode = 1;
}

export async function runServe(opts: { config: string; role?: 'all' | 'ingest' | 'worker' }): Promise<void> {
  const config = readConfigFile(opts.config);
  if (opts.role === 'ingest' || opts.role === 'worker') {
    await runRoleUntilSignal(opts.role === 'ingest' ? await startIngestRole(config) : await startWorkerRole(config, { log: (event, detail) => log.info(detail, event) }));
    return;
  }
  await runUntilSignal(await startVigil(config, { logger: false }));
}

/** A scale-out role until SIGINT/SIGTERM; then it stops gracefully (a worker gives its leases back). */
async function runRoleUntilSignal(role: RunningRole): Promise<void> {
  log.info({ role: role.role, sources: role.sources.length, worker: role.worker?.name }, 'vigil role started');
  await new Promise<void>((resolve) => {
    const stop = (sig: string): void => {
      log.info({ signal: sig }, 'stopping');
      role.stop().then(resolve, (e: unknown) => {
        log.error({ err: e }, 'error while stopping');
        resolve();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  log.info('stopped');
}

export async function runDemo(opts: { config?: string; vehicles: number; port?: number; dataDir?: string; memory?: boolean; mqtt?: boolean; mqttPort?: number }): Promise<void> {
  const base = opts.config ? (parseYaml(readFileSync(opts.config, 'utf8')) as Record<string, unknown>) : {};
  const raw: Record<string, unknown> = { ...base };
  if (opts.dataDir) raw.dataDir = opts.dataDir;
  if (opts.memory) raw.store = { ...(raw.store as object), path: ':memory:' };
  if (opts.port !== undefined) raw.http = { ...(raw.http as object), port: opts.port };
  if (!Array.isArray(raw.sources) || raw.sources.length === 0) {
    const sources: Record<string, unknown>[] = [{ type: 'simulator', name: 'demo-fleet', vehicles: opts.vehicles }];
    // Vehicles and `vigil simulate --to mqtt://127.0.0.1:1884` can publish to the demo too.
    if (opts.mqtt !== false) sources.push({ type: 'mqtt-broker', name: 'mqtt', port: opts.mqttPort ?? 1884 });
    raw.sources = sources;
  }
  // The demo's threat intelligence: the example advisories and the simulated fleet's SBOMs, looked at every 15 s as vehicles register.
  if (raw.intel === undefined) raw.intel = { feeds: [fileURLToPath(new URL('../../examples/intel/', import.meta.url))], simSboms: true, exposureCheck: '15s' };
  const vigil = await startVigil(parseConfig(raw));
  const intel = indicatorLine(vigil);
  const url = vigil.url ?? '(http disabled)';
  const token = tokenHint(vigil);
  process.stdout.write(
    [
      '',
      `Vigil ${'0.1.0'} is running`,
      ...vigil.sources.map((s) => `  source         ${s.describe()}`),
      `  web console    ${url}/  (${token ? 'log in with the API token below' : 'authentication is off: any token logs in'})`,
      `  API status     ${url}/v1/status`,
      `  health         ${url}/health`,
      `  metrics        ${url}/metrics`,
      `  dead letters   ${url}/v1/dead-letters`,
      `  HTTP ingest    POST ${url}/v1/ingest/{signals|security|logs}  (JSON, NDJSON, gzip)`,
      `  store          ${vigil.config.store.path === ':memory:' ? 'in memory' : `${vigil.config.dataDir}/${vigil.config.store.path}`}`,
      ...(intel ? [`  indicators     ${intel}`] : []),
      `  pseudonym key  ${vigil.secretOrigin}`,
      ...(token ? [`  API token      ${token.where}`, `  Try: curl -H "Authorization: Bearer ${token.shell}" ${url}/v1/status`] : []),
      '  Try: npx vigil status     Stop: Ctrl-C',
      '',
    ].join('\n'),
  );
  await runUntilSignal(vigil);
}

/** What the lanes match in the stream (the demo's intel feeds include the STIX bundles of examples/intel). */
function indicatorLine(vigil: Vigil): string | undefined {
  const r = vigil.pipeline.indicatorStatus;
  if (r.indicators === 0) return undefined;
  return `${r.compiled} STIX indicators matched in the stream${r.skipped.length ? ` (${r.skipped.length} left out: ${[...new Set(r.skipped.map((x) => x.reason))].join(', ')})` : ''}`;
}

/** Where the demo's operator token is, and how a shell gets it; undefined when auth is off. */
function tokenHint(vigil: Vigil): { where: string; shell: string } | undefined {
  const auth = vigil.config.http.auth;
  if (!vigil.config.http.enabled || !auth.enabled) return undefined;
  if (process.env[auth.adminTokenEnv]) return { where: `the operator token is in $${auth.adminTokenEnv}`, shell: `$${auth.adminTokenEnv}` };
  const file = join(vigil.config.dataDir, ADMIN_TOKEN_FILE);
  if (vigil.config.store.path !== ':memory:' && existsSync(file)) return { where: `operator (admin of every tenant) in ${file}`, shell: `$(cat ${file})` };
  return { where: 'printed above (in-memory store); more with POST /v1/tokens', shell: '<token>' };
}

async function runUntilSignal(vigil: Vigil): Promise<void> {
  log.info({ url: vigil.url, sources: vigil.sources.length, workers: vigil.config.runtime.workers }, 'vigil started');
  await new Promise<void>((resolve) => {
    const stop = (sig: string): void => {
      log.info({ signal: sig }, 'stopping: draining the pipeline');
      vigil.stop().then(resolve, (e: unknown) => {
        log.error({ err: e }, 'error while stopping');
        resolve();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  log.info('stopped');
}
