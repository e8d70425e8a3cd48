/**
 * API tokens and the audit log in the PostgreSQL schema (tables `api_tokens` and `audit_log` of
 * migration 2), on the store's pool: a port of the DuckDB adapter (src/adapters/duckdb/access-store.ts),
 * sharing its secret format and hashing, with two differences for several processes on one database:
 *
 * - Tokens: no verified-token cache. In scale-out another process may revoke a token, and a
 *   cache here would not hear of it; a verify is one indexed read on a pooled connection.
 * - Audit: `append` takes `LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE` (appenders queue,
 *   readers do not) before it reads the last entry's hash, in the transaction that inserts the
 *   new entries, so two appends of any processes never read the same predecessor and the chain
 *   cannot fork; there is no update or delete.
 */
import { randomBytes } from 'node:crypto';
import type { ApiToken, AuditEntry, AuditLog, AuditRecord, Role, TokenStore } from '../../core/access.js';
import { ROLES } from '../../core/access.js';
import { ChainVerifier, GENESIS_HASH, sealEntry, type ChainResult } from '../../core/audit-chain.js';
import type { Clock } from '../../core/clock.js';
import { StoreError } from '../../core/errors.js';
import { MIN_SECRET_LENGTH, newTokenSecret, tokenHash } from '../duckdb/access-store.js';
import type { PgPool, SqlParam } from './connection.js';
import { Session } from './sql.js';
import { msSql, msValue, pageParams, timeParam } from './values.js';

/** `last_used_at` is written at most this often per token, so authenticating stays a read. */
const LAST_USED_RESOLUTION_MS = 60_000;

const TOKEN_COLUMNS = `id, name, role, tenant, created_by, ${msSql('created_at')} AS created_at, ${msSql('expires_at')} AS expires_at,
  ${msSql('revoked_at')} AS revoked_at, ${msSql('last_used_at')} AS last_used_at`;

interface TokenRow {
  id: string;
  name: string;
  role: string;
  tenant: string;
  created_by: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

function tokenOf(r: TokenRow): ApiToken {
  return {
    id: r.id,
    name: r.name,
    role: r.role as Role,
    tenant: r.tenant,
    createdAt: msValue(r.created_at),
    createdBy: r.created_by,
    ...(r.expires_at !== null ? { expiresAt: msValue(r.expires_at) } : {}),
    ...(r.revoked_at !== null ? { revokedAt: msValue(r.revoked_at) } : {}),
    ...(r.last_used_at !== null ? { lastUsedAt: msValue(r.last_used_at) } : {}),
  };
}

type NewToken = Parameters<TokenStore['create']>[0];

export class PostgresTokenStore implements TokenStore {
  /** When this process last wrote each token's last_used_at. */
  private readonly lastUseWritten = new Map<string, number>();
  private readonly db: Session;

  constructor(
    pool: PgPool,
    private readonly clock: Clock,
  ) {
    this.db = new Session(pool);
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
    const [row] = await this.db.all<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE hash = ?`, [tokenHash(secret)]);
    if (!row) return undefined;
    const token = tokenOf(row);
    if (token.revokedAt !== undefined && token.revokedAt <= now) return undefined;
    if (token.expiresAt !== undefined && token.expiresAt <= now) return undefined;
    const written = Math.max(this.lastUseWritten.get(token.id) ?? -Infinity, token.lastUsedAt ?? -Infinity);
    if (now - written >= LAST_USED_RESOLUTION_MS || now < written) {
      this.lastUseWritten.set(token.id, now);
      await this.db.exclusive(() => this.db.run('UPDATE api_tokens SET last_used_at = ? WHERE id = ?', [timeParam(Math.floor(now), 'lastUsedAt'), token.id]));
      return { ...token, lastUsedAt: Math.floor(now) };
    }
    return token;
  }

  list(q: { tenant?: string }): Promise<ApiToken[]> {
    const [where, params]: [string, SqlParam[]] = q.tenant !== undefined ? ['WHERE tenant = ?', [q.tenant]] : ['', []];
    return this.db.exclusive(async () => (await this.db.all<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens ${where} ORDER BY api_tokens.created_at, id`, params)).map(tokenOf));
  }

  get(id: string): Promise<ApiToken | undefined> {
    return this.db.exclusive(async () => {
      const [row] = await this.db.all<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE id = ?`, [id]);
      return row ? tokenOf(row) : undefined;
    });
  }

  async revoke(id: string, at: number): Promise<boolean> {
    const changed = await this.db.run('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [timeParam(Math.floor(at), 'revokedAt'), id]);
    return changed > 0;
  }

  count(): Promise<number> {
    return this.db.exclusive(async () => Number((await this.db.all<{ n: string }>('SELECT count(*) AS n FROM api_tokens'))[0]!.n));
  }
}

/** Filters of the audit list (all optional); `tenant` undefined: every tenant. */
export type AuditQuery = Omit<Parameters<AuditLog['list']>[0], 'limit' | 'offset'>;

interface AuditRow {
  seq: string;
  ts: string;
  tenant: string;
  actor: string;
  actor_name: string;
  action: string;
  target_type: string;
  target_id: string;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

const AUDIT_COLUMNS = `seq, ${msSql('ts')} AS ts, tenant, actor, actor_name, action, target_type, target_id, details, prev_hash, hash`;

function entryOf(r: AuditRow): AuditEntry {
  return {
    seq: Number(r.seq),
    time: msValue(r.ts),
    tenant: r.tenant,
    actor: r.actor,
    actorName: r.actor_name,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    details: r.details,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** Entries read per page by `verify`. */
const VERIFY_PAGE = 5000;

export class PostgresAuditLog implements AuditLog {
  private readonly db: Session;

  constructor(
    pool: PgPool,
    private readonly clock: Clock,
  ) {
    this.db = new Session(pool);
  }

  append(records: readonly AuditRecord[]): Promise<AuditEntry[]> {
    if (records.length === 0) return Promise.resolve([]);
    // Details go through JSON once here, so the hash covers exactly what is stored and read back.
    const prepared = records.map((r) => ({ ...r, details: JSON.parse(JSON.stringify(r.details ?? {})) as Record<string, unknown> }));
    return this.db.exclusive(() =>
      this.db.transaction(async () => {
        await this.db.run('LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE');
        const [last] = await this.db.all<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
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
    return this.db.exclusive(async () => Number((await this.db.all<{ n: string }>(`SELECT count(*) AS n FROM audit_log ${sql}`, params))[0]!.n));
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
