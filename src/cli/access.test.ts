/** `vigil token ...` and `vigil audit ...` as a user runs them, on a store a server then uses. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { DuckDBStore } from '../adapters/duckdb/duckdb-store.js';
import { startVigil } from '../api/vigil.js';
import { parseConfig } from '../runtime/config.js';
import { parseDuration } from './access.js';

const run = promisify(execFile);
const vigil = (args: string[]) =>
  run(process.execPath, ['bin/vigil.js', ...args], { env: { ...process.env, VIGIL_FROM_SOURCE: '1' }, timeout: 120_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-access-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vigil token and vigil audit', () => {
  it('parses durations', () => {
    expect(parseDuration('30d')).toBe(30 * 86_400_000);
    expect(parseDuration('90m')).toBe(5_400_000);
    expect(() => parseDuration('30 days')).toThrow(/duration/);
    expect(() => parseDuration('0h')).toThrow(/duration/);
  });

  it('creates a token a server accepts, lists and revokes it, audits both, and audit verify finds tampering', { timeout: 300_000 }, async () => {
    const created = await vigil(['token', 'create', '--role', 'analyst', '--tenant', 'fleet-a', '--name', 'soc analyst', '--expires', '30d', '--data-dir', dir, '--json']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const { token, secret } = JSON.parse(created.stdout) as { token: { id: string; expiresAt: number }; secret: string };
    expect(secret).toMatch(/^vgl_/);
    expect(token.expiresAt).toBeGreaterThan(Date.now() + 29 * 86_400_000);

    const bad = await vigil(['token', 'create', '--role', 'root', '--tenant', 'Fleet A', '--name', 'x', '--data-dir', dir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--role.*expected one of admin, analyst, viewer, ingest/);

    // A server on the same store takes the token (and, tokens existing, creates no bootstrap token).
    const server = await startVigil(parseConfig({ dataDir: dir, http: { port: 0 }, runtime: { workers: 1 } }), { inline: true });
    try {
      expect((await fetch(`${server.url}/v1/status`, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(200);
      expect((await fetch(`${server.url}/v1/status?tenant=other`, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(403);
      // The server holds the database: the CLI says so instead of failing obscurely.
      const locked = await vigil(['token', 'list', '--data-dir', dir]);
      expect(locked.code).toBe(1);
      expect(locked.stderr).toMatch(/in use by a running Vigil; use its API/);
    } finally {
      await server.stop();
    }

    const list = await vigil(['token', 'list', '--data-dir', dir]);
    expect(list.stdout).toMatch(new RegExp(`${token.id}\\s+analyst\\s+fleet-a\\s+live.*soc analyst`));
    expect(list.stdout).not.toContain(secret);
    expect((await vigil(['token', 'revoke', token.id, '--data-dir', dir])).stdout).toContain(`revoked ${token.id}`);
    const again = await vigil(['token', 'revoke', token.id, '--data-dir', dir]);
    expect(again).toMatchObject({ code: 1, stderr: expect.stringContaining('already revoked') });

    const audit = await vigil(['audit', 'list', '--data-dir', dir, '--json']);
    const entries = audit.stdout.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; action: string; actor: string; tenant: string });
    expect(entries.map((e) => [e.seq, e.action, e.tenant, e.actor])).toEqual([[2, 'token.revoke', 'fleet-a', 'cli'], [1, 'token.create', 'fleet-a', 'cli']]);
    const ok = await vigil(['audit', 'verify', '--data-dir', dir]);
    expect(ok).toMatchObject({ code: 0, stdout: 'audit log intact: 2 entries\n' });

    const store = await DuckDBStore.open({ path: join(dir, 'vigil.duckdb') });
    await store.connection.exclusive(() => store.connection.run(`UPDATE audit_log SET details = '{"name":"someone else"}' WHERE seq = 1`));
    await store.close();
    const broken = await vigil(['audit', 'verify', '--data-dir', dir]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/^audit log broken at seq 1: .*the entry was changed \(0 entries before it are intact\)/);
  });
});
