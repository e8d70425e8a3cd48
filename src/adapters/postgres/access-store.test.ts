/**
 * The token and audit adapters against the local PostgreSQL: the DuckDB adapter's tests,
 * unchanged but for the opening, plus a revocation seen by another process's token store.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { systemPrincipal, type AuditRecord } from '../../core/access.js';
import { ManualClock } from '../../core/clock.js';
import { GENESIS_HASH } from '../../core/audit-chain.js';
import { tokenHash } from '../duckdb/access-store.js';
import { PostgresAuditLog, PostgresTokenStore } from './access-store.js';
import { PostgresStore } from './postgres-store.js';
import { dropTestSchemas, testOptions } from './test-db.js';

afterAll(dropTestSchemas);

const T0 = Date.UTC(2026, 0, 1);
const rec = (i: number, over: Partial<AuditRecord> = {}): AuditRecord => ({
  principal: { tokenId: 'tok_1', name: 'ops', role: 'admin', tenant: '*' },
  tenant: i % 2 ? 'a' : 'b',
  action: i % 3 ? 'incident.transition' : 'token.create',
  targetType: i % 3 ? 'incident' : 'token',
  targetId: `t-${i}`,
  details: { i, to: 'triaged' },
  ...over,
});

function runAccessContract(name: string, open: () => Promise<{ store: PostgresStore; reopen?: () => Promise<PostgresStore> }>): void {
  describe(`access store contract: ${name}`, () => {
    let store: PostgresStore | undefined;
    const clock = new ManualClock(T0);
    afterEach(async () => {
      await store?.close();
      store = undefined;
    });

    it('stores only the hash of a token secret; verify finds it, refuses revoked and expired ones', async () => {
      ({ store } = await open());
      const tokens = new PostgresTokenStore(store.connection, clock);
      expect(await tokens.count()).toBe(0);
      const { token, secret } = await tokens.create({ name: 'analyst a', role: 'analyst', tenant: 'a', createdBy: 'tok_root' });
      expect(secret).toMatch(/^vgl_[A-Za-z0-9_-]{43}$/);
      expect(token).toMatchObject({ name: 'analyst a', role: 'analyst', tenant: 'a', createdAt: T0, createdBy: 'tok_root' });
      const stored = await store.connection.query<{ hash: string }>('SELECT * FROM api_tokens');
      expect(stored).toHaveLength(1);
      expect(stored[0]!.hash).toBe(tokenHash(secret));
      expect(JSON.stringify(stored, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(secret.slice(4));

      expect(await tokens.verify(secret, T0 + 1)).toMatchObject({ id: token.id, role: 'analyst', tenant: 'a' });
      expect(await tokens.verify(`${secret}x`, T0 + 1)).toBeUndefined();
      expect(await tokens.verify('', T0 + 1)).toBeUndefined();

      const exp = await tokens.create({ name: 'short', role: 'viewer', tenant: 'b', createdBy: 'x', expiresAt: T0 + 1000 });
      expect(await tokens.verify(exp.secret, T0 + 999)).toMatchObject({ id: exp.token.id });
      expect(await tokens.verify(exp.secret, T0 + 1000)).toBeUndefined();

      // Revoked through another store on the same connection (a playbook action, say): refused
      // at once, though the token was just verified (and is remembered).
      expect(await new PostgresTokenStore(store.connection, clock).revoke(token.id, T0 + 5)).toBe(true);
      expect(await tokens.revoke(token.id, T0 + 6)).toBe(false);
      expect(await tokens.revoke('tok_nope', T0 + 6)).toBe(false);
      expect(await tokens.verify(secret, T0 + 7)).toBeUndefined();
      expect(await tokens.get(token.id)).toMatchObject({ revokedAt: T0 + 5 });
      expect(await tokens.count()).toBe(2);
    });

    it('lists per tenant, refuses bad roles and short imported secrets, and writes last use at most once a minute', async () => {
      ({ store } = await open());
      const tokens = new PostgresTokenStore(store.connection, clock);
      await tokens.create({ name: 'a1', role: 'admin', tenant: 'a', createdBy: 'x' });
      await tokens.create({ name: 'b1', role: 'ingest', tenant: 'b', createdBy: 'x' });
      const op = await tokens.createWithSecret({ name: 'operator', role: 'admin', tenant: '*', createdBy: 'bootstrap' }, 'a-long-operator-secret-0123456789');
      expect((await tokens.list({ tenant: 'a' })).map((t) => t.name)).toEqual(['a1']);
      expect((await tokens.list({})).map((t) => t.name).sort()).toEqual(['a1', 'b1', 'operator']);
      await expect(tokens.create({ name: 'x', role: 'root' as never, tenant: 'a', createdBy: 'x' })).rejects.toThrow(/unknown role/);
      await expect(tokens.createWithSecret({ name: 'x', role: 'admin', tenant: '*', createdBy: 'x' }, 'short')).rejects.toThrow(/at least 24/);

      expect(await tokens.verify('a-long-operator-secret-0123456789', T0 + 10)).toMatchObject({ id: op.token.id, tenant: '*', lastUsedAt: T0 + 10 });
      expect((await tokens.verify('a-long-operator-secret-0123456789', T0 + 50_000))?.lastUsedAt).toBe(T0 + 10);
      expect((await tokens.get(op.token.id))?.lastUsedAt).toBe(T0 + 10);
      expect((await tokens.verify('a-long-operator-secret-0123456789', T0 + 70_010))?.lastUsedAt).toBe(T0 + 70_010);
      expect((await tokens.get(op.token.id))?.lastUsedAt).toBe(T0 + 70_010);
    });

    it('appends a hash chain from 64 zeros, lists newest first with filters, and verifies it', async () => {
      ({ store } = await open());
      const audit = new PostgresAuditLog(store.connection, clock);
      expect(await audit.verify()).toEqual({ ok: true, entries: 0, lastHash: GENESIS_HASH });
      const first = await audit.append([rec(1), rec(2)]);
      expect(first.map((e) => e.seq)).toEqual([1, 2]);
      expect(first[0]!.prevHash).toBe(GENESIS_HASH);
      expect(first[1]!.prevHash).toBe(first[0]!.hash);
      expect(first[0]).toMatchObject({ tenant: 'a', actor: 'tok_1', actorName: 'ops', action: 'incident.transition', time: T0 });
      clock.advance(1000);
      await audit.append(Array.from({ length: 10 }, (_, i) => rec(i + 3)));
      await audit.append([{ ...rec(13), principal: systemPrincipal('a'), details: { nested: { b: [1, 2], a: null }, undef: undefined } }]);

      const all = await audit.list({ limit: 100 });
      expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 13 }, (_, i) => 13 - i));
      expect(all[0]).toMatchObject({ actor: 'system', details: { nested: { b: [1, 2], a: null } } });
      expect(await audit.list({ tenant: 'a', action: 'token.create', limit: 100 })).toEqual(all.filter((e) => e.tenant === 'a' && e.action === 'token.create'));
      expect((await audit.list({ targetType: 'incident', targetId: 't-4', limit: 10 })).map((e) => e.seq)).toEqual([4]);
      expect((await audit.list({ since: T0 + 1000, limit: 100 })).length).toBe(11);
      expect((await audit.list({ limit: 3, offset: 2 })).map((e) => e.seq)).toEqual([11, 10, 9]);
      expect(await audit.count({ tenant: 'b' })).toBe(all.filter((e) => e.tenant === 'b').length);
      expect(await audit.verify()).toMatchObject({ ok: true, entries: 13, lastHash: all[0]!.hash });
    });

    it('concurrent appends never fork the chain', async () => {
      ({ store } = await open());
      const audit = new PostgresAuditLog(store.connection, clock);
      const other = new PostgresAuditLog(store.connection, clock);
      await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? audit : other).append([rec(i), rec(i + 100)])));
      const r = await audit.verify();
      expect(r).toMatchObject({ ok: true, entries: 80 });
    });

    it('audit verify finds an entry changed or deleted in the database, at its seq', async () => {
      ({ store } = await open());
      const db = store.connection;
      const audit = new PostgresAuditLog(db, clock);
      await audit.append(Array.from({ length: 20 }, (_, i) => rec(i)));
      await db.run(`UPDATE audit_log SET details = '{"i":7,"to":"resolved"}' WHERE seq = 8`);
      expect(await audit.verify()).toMatchObject({ ok: false, seq: 8, entries: 7, reason: expect.stringMatching(/changed/) });
      await db.run('DELETE FROM audit_log WHERE seq >= 8 AND seq <= 9');
      expect(await audit.verify()).toMatchObject({ ok: false, seq: 10, reason: 'entries 8..9 are missing' });
    });

    it('keeps tokens and the chain across a reopen (in a new pool)', async () => {
      const opened = await open();
      store = opened.store;
      if (!opened.reopen) return;
      const tokens = new PostgresTokenStore(store.connection, clock);
      const { secret } = await tokens.create({ name: 'keep', role: 'viewer', tenant: 'a', createdBy: 'x' });
      await new PostgresAuditLog(store.connection, clock).append([rec(1), rec(2)]);
      await store.close();
      store = await opened.reopen();
      expect(await new PostgresTokenStore(store.connection, clock).verify(secret, T0)).toMatchObject({ name: 'keep' });
      const audit = new PostgresAuditLog(store.connection, clock);
      await audit.append([rec(3)]);
      expect(await audit.verify()).toMatchObject({ ok: true, entries: 3 });
    });
  });
}

runAccessContract('postgres', async () => {
  const options = testOptions();
  return { store: await PostgresStore.open(options), reopen: () => PostgresStore.open(options) };
});

describe('PostgresTokenStore across processes', () => {
  it('refuses at once a token another process revoked', async () => {
    const options = testOptions();
    const [a, b] = await Promise.all([PostgresStore.open(options), PostgresStore.open(options)]);
    try {
      const clock = new ManualClock(T0);
      const here = new PostgresTokenStore(a.connection, clock);
      const { token, secret } = await here.create({ name: 'x', role: 'viewer', tenant: 'a', createdBy: 'x' });
      expect(await here.verify(secret, T0 + 1)).toMatchObject({ id: token.id });
      expect(await new PostgresTokenStore(b.connection, clock).revoke(token.id, T0 + 2)).toBe(true);
      expect(await here.verify(secret, T0 + 3)).toBeUndefined();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
