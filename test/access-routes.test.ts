/**
 * Tokens and audit through the front door: Vigil started with auth on, on a DuckDB file, called
 * over HTTP with real tokens; the bootstrap admin token, creation, revocation, the audit trail
 * and its verification, including after the database was tampered with.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import { ManualClock } from '../src/core/clock.js';
import { parseConfig } from '../src/runtime/config.js';
import { apiToken, bearer } from './http-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-access-http-'));
const clock = new ManualClock(Date.UTC(2026, 5, 1));
let vigil: Vigil;
let adminSecret: string;
let stderr = '';

async function call(method: string, path: string, secret?: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${vigil.url}${path}`, {
    method,
    headers: { ...(secret ? bearer(secret) : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    vigil = await startVigil(parseConfig({ tenant: 'a', dataDir: dir, http: { port: 0, auth: { enabled: true, adminTokenEnv: 'VIGIL_TEST_UNSET_ADMIN_TOKEN' } }, runtime: { workers: 1 } }), { inline: true, clock });
  } finally {
    process.stderr.write = write;
  }
  adminSecret = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
});
afterAll(async () => {
  await vigil?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('access routes', () => {
  it('bootstraps one operator admin token into <dataDir>/admin-token (0600), says so once, and audits it', async () => {
    expect(stderr).toContain(`admin token written to ${join(dir, 'admin-token')}`);
    expect(statSync(join(dir, 'admin-token')).mode & 0o777).toBe(0o600);
    expect(adminSecret).toMatch(/^vgl_/);
    const r = await call('GET', '/v1/tokens', adminSecret);
    expect(r.status).toBe(200);
    expect(r.body.items).toEqual([expect.objectContaining({ role: 'admin', tenant: '*', createdBy: 'system' })]);
    const audit = await call('GET', '/v1/audit?action=token.create', adminSecret);
    expect(audit.body.items).toEqual([expect.objectContaining({ seq: 1, actor: 'system', tenant: '*', details: expect.objectContaining({ bootstrap: true }) })]);
  });

  it('refuses a missing, malformed or unknown token with 401', async () => {
    for (const auth of [undefined, 'Basic abc', 'Bearer vgl_unknown']) {
      const res = await fetch(`${vigil.url}/v1/tokens`, { headers: auth ? { authorization: auth } : {} });
      expect(res.status, String(auth)).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
  });

  it('an operator creates tokens for any tenant; the secret works at once, is shown once and audited', async () => {
    const created = await call('POST', '/v1/tokens', adminSecret, { name: 'analyst of b', role: 'analyst', tenant: 'b', expiresInS: 3600 });
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    const token = created.body.token as { id: string; tenant: string; expiresAt: number };
    expect(token).toMatchObject({ tenant: 'b', role: 'analyst', expiresAt: clock.now() + 3_600_000 });
    const list = await call('GET', '/v1/tokens?tenant=b', adminSecret);
    expect(JSON.stringify(list.body)).not.toContain(secret);
    expect((list.body.items as { id: string }[]).map((t) => t.id)).toEqual([token.id]);
    // The analyst reads, but may not manage tokens.
    expect((await call('GET', '/v1/status', secret)).status).toBe(200);
    expect((await call('GET', '/v1/tokens', secret)).status).toBe(403);
    const entries = (await call('GET', `/v1/audit?targetType=token&targetId=${token.id}`, adminSecret)).body.items as { action: string; tenant: string; details: Record<string, unknown> }[];
    expect(entries).toEqual([expect.objectContaining({ action: 'token.create', tenant: 'b', details: expect.objectContaining({ role: 'analyst', tenant: 'b' }) })]);
    // Expired an hour later.
    clock.advance(3_600_000);
    expect((await call('GET', '/v1/status', secret)).status).toBe(401);
  });

  it('a tenant admin manages only its own tenant: no * tokens, no other tenant, no foreign revocation, own audit only', async () => {
    const adminA = await apiToken(vigil, 'admin', 'a');
    const other = await call('POST', '/v1/tokens', adminSecret, { name: 'viewer of b', role: 'viewer', tenant: 'b' });
    const otherId = (other.body.token as { id: string }).id;
    expect((await call('POST', '/v1/tokens', adminA, { name: 'x', role: 'admin', tenant: '*' })).status).toBe(403);
    expect((await call('POST', '/v1/tokens', adminA, { name: 'x', role: 'viewer', tenant: 'b' })).status).toBe(403);
    expect((await call('POST', '/v1/tokens?tenant=b', adminA, { name: 'x', role: 'viewer' })).status).toBe(403);
    const own = await call('POST', '/v1/tokens', adminA, { name: 'viewer of a', role: 'viewer' });
    expect(own.status).toBe(201);
    expect(own.body.token).toMatchObject({ tenant: 'a' });

    expect((await call('DELETE', `/v1/tokens/${otherId}`, adminA)).status).toBe(404);
    expect((await call('GET', '/v1/status', other.body.secret as string)).status).toBe(200);
    const listed = (await call('GET', '/v1/tokens', adminA)).body.items as { tenant: string }[];
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((t) => t.tenant === 'a')).toBe(true);
    const audit = (await call('GET', '/v1/audit', adminA)).body as { items: { tenant: string }[]; total: number };
    expect(audit.items.length).toBeGreaterThan(0);
    expect(audit.items.every((e) => e.tenant === 'a')).toBe(true);
    expect((await call('GET', '/v1/audit?tenant=b', adminA)).status).toBe(403);
    expect((await call('GET', '/v1/audit/verify', adminA)).status).toBe(403);
  });

  it('revoking takes effect at the next request, is audited once, and a second revoke changes nothing', async () => {
    const created = await call('POST', '/v1/tokens', adminSecret, { name: 'to revoke', role: 'viewer', tenant: 'a' });
    const { id } = created.body.token as { id: string };
    expect((await call('GET', '/v1/status', created.body.secret as string)).status).toBe(200);
    const first = await call('DELETE', `/v1/tokens/${id}`, adminSecret);
    expect(first).toMatchObject({ status: 200, body: { revoked: true, token: { id, revokedAt: clock.now() } } });
    expect((await call('GET', '/v1/status', created.body.secret as string)).status).toBe(401);
    expect((await call('DELETE', `/v1/tokens/${id}`, adminSecret)).body).toMatchObject({ revoked: false });
    expect((await call('DELETE', '/v1/tokens/tok_none', adminSecret)).status).toBe(404);
    const entries = (await call('GET', `/v1/audit?action=token.revoke&targetId=${id}`, adminSecret)).body.items as unknown[];
    expect(entries).toHaveLength(1);
  });

  it('validates bodies and queries with field-level errors', async () => {
    const bad = await call('POST', '/v1/tokens', adminSecret, { name: '', role: 'root', expiresInS: 5, extra: 1 });
    expect(bad.status).toBe(400);
    const paths = (bad.body.fields as { path: string }[]).map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['/name', '/role', '/expiresInS']));
    expect((await call('GET', '/v1/audit?limit=0', adminSecret)).status).toBe(400);
    expect((await call('GET', '/v1/audit?since=yesterday', adminSecret)).status).toBe(400);
  });

  it('pages the audit log newest first, and verify finds tampering in the database', async () => {
    const page = (await call('GET', '/v1/audit?limit=2&offset=1', adminSecret)).body as { items: { seq: number }[]; total: number };
    expect(page.total).toBeGreaterThanOrEqual(5);
    expect(page.items.map((e) => e.seq)).toEqual([page.total - 1, page.total - 2]);
    expect((await call('GET', '/v1/audit/verify', adminSecret)).body).toMatchObject({ ok: true, entries: page.total });
    const db = vigil.store as unknown as { connection: { exclusive<T>(f: () => Promise<T>): Promise<T>; run(sql: string): Promise<number> } };
    await db.connection.exclusive(() => db.connection.run(`UPDATE audit_log SET actor_name = 'nobody' WHERE seq = 3`));
    expect((await call('GET', '/v1/audit/verify', adminSecret)).body).toMatchObject({ ok: false, seq: 3, entries: 2 });
  });
});
