/** `vigil ask` as a user runs it, against a running Vigil (auth on, the token in VIGIL_TOKEN). */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import { parseConfig } from '../src/runtime/config.js';
import { apiToken } from './http-helpers.js';

const run = promisify(execFile);
let server: Vigil;
let token: string;

const T0 = Date.UTC(2026, 10, 1);
const vigil = (args: string[]) =>
  run(process.execPath, ['bin/vigil.js', 'ask', '--url', server.url!, ...args], { env: { ...process.env, VIGIL_FROM_SOURCE: '1', VIGIL_TOKEN: token }, timeout: 120_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

beforeAll(async () => {
  server = await startVigil(parseConfig({
    tenant: 'acme', store: { path: ':memory:' }, http: { host: '127.0.0.1', port: 0, auth: { enabled: true, adminTokenEnv: 'VIGIL_TEST_UNSET_ADMIN_TOKEN' } },
    runtime: { workers: 1 }, detection: { rules: [] },
  }), { inline: true });
  await server.store.upsertVehicles([
    { tenant: 'acme', id: '00000000000000a1', make: 'Volvo', model: 'V40', year: 2017, signalCount: 0 },
    { tenant: 'acme', id: '00000000000000a2', make: 'BMW', model: 'i3', year: 2019, signalCount: 0 },
  ]);
  await server.store.insertAlerts(['a1', 'a1', 'a2'].map((v, i) => ({
    id: `x${i}`, tenant: 'acme', vehicle: `00000000000000${v}`, time: T0 + i, detectedAt: T0 + i, rule: 'can-unknown-id', title: 't', severity: 'high' as const, tags: [], details: {},
  })));
  token = await apiToken(server, 'admin', 'acme');
}, 60_000);
afterAll(async () => server?.stop());

describe('vigil ask', () => {
  it('answers a typed query with the summary, the table and the SQL with its values', async () => {
    const r = await vigil(['--query', JSON.stringify({ entity: 'alerts', groupBy: ['vehicle.make'] })]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/vehicle\.make\s+count\n-+\s+-+\nVolvo\s+2\nBMW\s+1\n/);
    expect(r.stdout).toContain('FROM alerts e WHERE e.tenant = $1');
    expect(r.stdout).toContain('FROM a LEFT JOIN vehicles v ON v.tenant = a.tenant AND v.id = a.vehicle');
    expect(r.stdout).toContain('-- $1 = ');
  });

  it('runs --sql and prints JSON with --json', async () => {
    const r = await vigil(['--sql', 'SELECT rule, count(*) AS n FROM alerts GROUP BY rule', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ rows: [['can-unknown-id', 3]], truncated: false });
  });

  it('reports a refused statement and exits 1', async () => {
    const r = await vigil(['--sql', 'DROP TABLE alerts']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('400 only a SELECT statement may run');
  });
});
