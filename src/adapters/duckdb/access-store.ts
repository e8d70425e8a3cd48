/**
 * API tokens and the audit log in the store's DuckDB database (tables `api_tokens` and
 * `audit_log` of migration 4), on the store's connection: every operation takes its turn with
 * `exclusive()`, like the store's own.
 *
 * Tokens: the secret is `vgl_` + 32 random bytes (base64url), shown once; only its sha256 (hex)
 * is stored, so a copy of the database does not give anyone a usable token.
 *
 * Audit: `append` reads the last entry's hash and inserts the new entries in one exclusive
 * turn and one transaction, so two appends never read the same predecessor and the chain
 * cannot fork; there is no update or delete.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ApiToken, AuditEntry, AuditLog, AuditRecord, Role, TokenStore } from '../../core/access.js';
import { ROLES } from '../../core/access.js';
import { ChainVerifier, GENESIS_HASH, sealEntry, type ChainResult } from '../../core/audit-chain.js';
import type { Clock } from '../../core/clock.js';
import { StoreError } from '../../core/errors.js';
import type { SerialConnection, SqlParam } from './connection.js';
import { pageParams, timeParam, timeValue } from './values.js';

/** Prefix of every token secret, so a leaked one is recognisable (secret scanners, logs). */
export const TOKEN_PREFIX = 'vgl_';

/** A new secret: `vgl_` + 32 random bytes, base64url (43 characters). */
export function newTokenSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** What is stored of a secret: its sha256, hex. */
export function tokenHash(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Shortest secret accepted from outside (the bootstrap environment variable). */
export const MIN_SECRET_LENGTH = 24;

/** `last_used_at` is written at most this often per token, so authenticating stays a read. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Verified tokens are remembered this long, so a request does not wait for a turn on the
 * connection behind the store writer. Safe because every revocation goes through a token store
 * on the same connection (one process holds the database), which drops the entry at once.
 */
const CACHE_MS = 30_000;
/** Most tokens remembered; past it the cache starts over. */
const CACHE_MAX = 10_000;

interface Cached {
  readonly token: ApiToken;
  readonly at: number;
}
/** One cache per connection, shared by every token store on it, so a revoke through any of them is seen by all. */
const caches = new WeakMap<SerialConnection, Map<string, Cached>>();

const TOKEN_COLUMNS = `id, name, role, tenant, created_by, epoch_us(created_at) AS created_at, epoch_us(expires_at) AS expires_at,
  epoch_us(revoked_at) AS revoked_at, epoch_us(last_used_at) AS last_used_at`;

interface TokenRow {
  id: string;
  name: string;
  role: string;
  tenant: string;
  created_by: string;
  created_at: bigint;
  expires_at: bigint | null;
  revoked_at: bigint | null;
  last_used_at: bigint | null;
}

function tokenOf(r: TokenRow): ApiToken {
  return {
    id: r.id,
    name: r.name,
    role: r.role as Role,
    tenant: r.tenant,
    createdAt: timeValue(r.created_at),
    createdBy: r.created_by,
    ...(r.expires_at !== null ? { expiresAt: timeValue(r.expires_at) } : {}),
    ...(r.revoked_at !== null ? { revokedAt: timeValue(r.revoked_at) } : {}),
    ...(r.last_used_at !== null ? { lastUsedAt: timeValue(r.last_used_at) } : {}),
  };
}

type NewToken = Parameters<TokenStore['create']>[0];

export class DuckDBTokenStore implements TokenStore {
  /** When this process last wrote each token's last_used_at. */
  private readonly lastUseWritten = new Map<string, number>();
  /** Verified tokens by secret hash (see CACHE_MS). */
  private readonly cache: Map<string, Cached>;

  constructor(
    private readonly db: SerialConnection,
    private readonly clock: Clock,
  ) {
    let c = caches.get(db);
    if (!c) caches.set(db, (c = new Map()));
    this.cache = c;
  }

  create(t: NewToken): Promise<{ token: ApiToken; secret: string }> {
    return this.insert(t, newTokenSecret());
  }

  /**
   * Stores a token whose secret was chosen outside (the bootstrap admin token from the
   * environment). The secret must be long enough to be unguessable.
   */
  createWithSecret(t: NewToken, secret: string): Promise<{ token: ApiToken; secret: string }> {
    if (secret.length < MIN_SECRET_LENGTH || /\s/.test(secret)) {
      return Promise.reject(new StoreError(`a token secret must have at least ${MIN_SECRET_LENGTH} characters and no white space`));
    }
    return this.insert(t, secret);
  }

  private insert(t: NewToken, secret: string): Promise<{ token: ApiToken; secret: string }> {
    if (!(ROLES as readonly string[]).includes(t.role)) return Promise.reject(new StoreError(`unknown role ${JSON.stringify(t.role)}`));
    if (!t.name || !t.tenant || !t.createdBy) return Promise.reject(new StoreError('a token needs a name, a tenant and its creator'));
    const token: ApiToken = {
      id: `tok_${randomBytes(8).toString('hex')}`,
      name: t.name,
      role: t.role,
      tenant: t.tenant,
      createdAt: Math.floor(this.clock.now()),
      createdBy: t.createdBy,
      ...(t.expiresAt !== undefined ? { expiresAt: t.expiresAt } : {}),
    };
    return this.db.exclusive(async () => {
      await this.db.run(
        'INSERT INTO api_tokens (id, name, role, tenant, hash, created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [token.id, token.name, token.role, token.tenant, tokenHash(secret), timeParam(token.createdAt, 'createdAt'), token.createdBy, t.expiresAt === undefined ? null : timeParam(t.expiresAt, 'expiresAt')],
      );
      return { token, secret };
    });
  }

  async verify(secret: string, now: number): Promise<ApiToken | undefined> {
    if (typeof secret !== 'string' || secret.length === 0 || secret.length > 512) return undefined;
    const hash = tokenHash(secret);
    const hit = this.cache.get(hash);
    let token: ApiToken;
    let cachedAt = now;
    if (hit && now >= hit.at && now - hit.at < CACHE_MS) {
      token = hit.token;
      cachedAt = hit.at;
    } else {
      const [row] = await this.db.exclusive(() => this.db.all<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE hash = ?`, [hash]));
      if (!row) return undefined;
      token = tokenOf(row);
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(hash, { token, at: now });
    }
    if (token.revokedAt !== undefined && token.revokedAt <= now) return undefined;
    if (token.expiresAt !== undefined && token.expiresAt <= now) return undefined;
    const written = Math.max(this.lastUseWritten.get(token.id) ?? -Infinity, token.lastUsedAt ?? -Infinity);
    if (now - written >= LAST_USED_RESOLUTION_MS || now < written) {
      this.lastUseWritten.set(token.id, now);
      await this.db.exclusive(() => this.db.run('UPDATE api_tokens SET last_used_at = ? WHERE id = ?', [timeParam(Math.floor(now), 'lastUsedAt'), token.id]));
      const used = { ...token, lastUsedAt: Math.floor(now) };
      if (this.cache.get(hash)?.token.id === token.id) this.cache.set(hash, { token: used, at: cachedAt });
      return used;
    }
    return token;
  }

  list(q: { tenant?: string }): Promise<ApiToken[]> {
    const [where, params]: [string, SqlParam[]] = q.tenant !== undefined ? ['WHERE tenant = ?', [q.tenant]] : ['', []];
    return this.db.exclusive(async () => (await this.db.all<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens ${where} ORDER BY created_at, id`, params)).map(tokenOf));
  }

  get(id: string): Promise<ApiToken | undefined> {
    return this.db.exclusive(async () => {
      const [row] = await this.db.all<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE id = ?`, [id]);
      return row ? tokenOf(row) : undefined;
    });
  }

  async revoke(id: string, at: number): Promise<boolean> {
    this.forget(id);
    const changed = await this.db.exclusive(() => this.db.run('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [timeParam(Math.floor(at), 'revokedAt'), id]));
    // Again: a verify that read the row before the update may have cached it meanwhile.
    this.forget(id);
    return changed > 0;
  }

  private forget(id: string): void {
    for (const [hash, c] of this.cache) if (c.token.id === id) this.cache.delete(hash);
  }

  count(): Promise<number> {
    return this.db.exclusive(async () => Number((await this.db.all<{ n: bigint }>('SELECT count(*) AS n FROM api_tokens'))[0]!.n));
  }
}

/** Filters of the audit list (all optional); `tenant` undefined: every tenant. */
export type AuditQuery = Omit<Parameters<AuditLog['list']>[0], 'limit' | 'offset'>;

interface AuditRow {
  seq: bigint;
  ts: bigint;
  tenant: string;
  actor: string;
  actor_name: string;
  action: string;
  target_type: string;
  target_id: string;
  details: string;
  prev_hash: string;
  hash: string;
}

const AUDIT_COLUMNS = 'seq, epoch_us(ts) AS ts, tenant, actor, actor_name, action, target_type, target_id, details, prev_hash, hash';

function entryOf(r: AuditRow): AuditEntry {
  return {
    seq: Number(r.seq),
    time: timeValue(r.ts),
    tenant: r.tenant,
    actor: r.actor,
    actorName: r.actor_name,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    details: JSON.parse(r.details) as Record<string, unknown>,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** Entries read per page by `verify`. */
const VERIFY_PAGE = 5000;

export class DuckDBAuditLog implements AuditLog {
  constructor(
    private readonly db: SerialConnection,
    private readonly clock: Clock,
  ) {}

  append(records: readonly AuditRecord[]): Promise<AuditEntry[]> {
    if (records.length === 0) return Promise.resolve([]);
    // Details go through JSON once here, so the hash covers exactly what is stored and read back.
    const prepared = records.map((r) => ({ ...r, details: JSON.parse(JSON.stringify(r.details ?? {})) as Record<string, unknown> }));
    return this.db.exclusive(() =>
      this.db.transaction(async () => {
        const [last] = await this.db.all<{ seq: bigint; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
        let seq = last ? Number(last.seq) : 0;
        let prevHash = last?.hash ?? GENESIS_HASH;
        const time = Math.floor(this.clock.now());
        const entries = prepared.map((r) => {
          const e = sealEntry({ seq: ++seq, time, tenant: r.tenant, actor: r.principal.tokenId, actorName: r.principal.name, action: r.action, targetType: r.targetType, targetId: r.targetId, details: r.details, prevHash });
          prevHash = e.hash;
          return e;
        });
        for (const e of entries) {
          await this.db.run(
            'INSERT INTO audit_log (seq, ts, tenant, actor, actor_name, action, target_type, target_id, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
            [e.seq, timeParam(e.time, 'time'), e.tenant, e.actor, e.actorName, e.action, e.targetType, e.targetId, JSON.stringify(e.details), e.prevHash, e.hash],
          );
        }
        return entries;
      }),
    );
  }

  list(q: AuditQuery & { limit: number; offset?: number }): Promise<AuditEntry[]> {
    const [limit, offset] = pageParams(q);
    const { sql, params } = auditWhere(q);
    return this.db.exclusive(async () => (await this.db.all<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_log ${sql} ORDER BY seq DESC LIMIT ? OFFSET ?`, [...params, limit, offset])).map(entryOf));
  }

  /** How many entries match (for a page's total). */
  count(q: AuditQuery = {}): Promise<number> {
    const { sql, params } = auditWhere(q);
    return this.db.exclusive(async () => Number((await this.db.all<{ n: bigint }>(`SELECT count(*) AS n FROM audit_log ${sql}`, params))[0]!.n));
  }

  /** Checks the whole chain, oldest first, a page at a time. */
  async verify(): Promise<ChainResult> {
    const v = new ChainVerifier();
    for (let after = 0; ; ) {
      const page = await this.db.exclusive(async () => (await this.db.all<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`, [after, VERIFY_PAGE])).map(entryOf));
      for (const e of page) if (!v.push(e)) return v.result();
      if (page.length < VERIFY_PAGE) return v.result();
      after = page[page.length - 1]!.seq;
    }
  }
}

function auditWhere(q: AuditQuery): { sql: string; params: SqlParam[] } {
  const clauses: string[] = [];
  const params: SqlParam[] = [];
  const eq = (column: string, value: string | undefined): void => {
    if (value === undefined) return;
    clauses.push(`${column} = ?`);
    params.push(value);
  };
  eq('tenant', q.tenant);
  eq('action', q.action);
  eq('target_type', q.targetType);
  eq('target_id', q.targetId);
  if (q.since !== undefined) {
    clauses.push('ts >= ?');
    params.push(timeParam(q.since, 'since'));
  }
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}
