/**
 * Who may do what. Every API request acts as a `Principal`: the tenant and role of the API
 * token it presented. Roles grant permissions; routes name the permission they need
 * (src/adapters/http/api.ts), so the grant table here is the whole access policy.
 *
 * A token belongs to one tenant and sees only that tenant's rows. The one exception is an
 * admin token of the operator tenant `*`, which names the tenant it acts on per request
 * (`X-Vigil-Tenant` or `?tenant=`): the console's tenant switch.
 */

export const ROLES = ['admin', 'analyst', 'viewer', 'ingest'] as const;
export type Role = (typeof ROLES)[number];

/**
 * - `read`: read the tenant's data (vehicles, alerts, incidents, fleet views, exports).
 * - `ingest`: send records through `/v1/ingest`.
 * - `triage`: work incidents (state, assignment, comments, tags, links, verdicts, suppressions).
 * - `respond`: run playbooks and response actions.
 * - `admin`: manage tokens, playbooks, imports, dead letters; read the audit log.
 */
export const PERMISSIONS = ['read', 'ingest', 'triage', 'respond', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

const GRANTS: Readonly<Record<Role, readonly Permission[]>> = {
  admin: ['read', 'ingest', 'triage', 'respond', 'admin'],
  analyst: ['read', 'triage', 'respond'],
  viewer: ['read'],
  ingest: ['ingest'],
};

/** True when `role` holds `permission`. */
export function allows(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}

/** The tenant of operator tokens: an admin of `*` acts on any tenant it names. */
export const OPERATOR_TENANT = '*';

/** A tenant name: lowercase letters, digits, `-` and `_`, at most 63 characters. */
export const TENANT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Who is acting: resolved from an API token (or the local operator when auth is off). */
export interface Principal {
  /** The token's id (never the secret); `local` when auth is off, `system` for Vigil itself. */
  readonly tokenId: string;
  /** The token's name, shown in audit entries and incident history. */
  readonly name: string;
  readonly role: Role;
  /** The tenant the token belongs to (`*` for operator tokens). */
  readonly tenant: string;
}

/** Vigil acting on its own (the alert pipeline, scheduled actions): recorded as `system` in the audit log. */
export function systemPrincipal(tenant: string): Principal {
  return { tokenId: 'system', name: 'vigil', role: 'admin', tenant };
}

/** A stored API token as listed (the secret itself is never stored, only its hash). */
export interface ApiToken {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly tenant: string;
  readonly createdAt: number;
  readonly createdBy: string;
  readonly expiresAt?: number;
  readonly revokedAt?: number;
  readonly lastUsedAt?: number;
}

/** One entry of the append-only, hash-chained audit log. */
export interface AuditEntry {
  /** Position in the chain, 1, 2, 3, ... */
  readonly seq: number;
  readonly time: number;
  readonly tenant: string;
  /** Token id and name of who did it (`system` for Vigil itself). */
  readonly actor: string;
  readonly actorName: string;
  /** What was done, dotted: `incident.transition`, `token.create`, `suppression.create`, ... */
  readonly action: string;
  readonly targetType: string;
  readonly targetId: string;
  readonly details: Readonly<Record<string, unknown>>;
  /** Hash of the previous entry (64 zeros for the first). */
  readonly prevHash: string;
  /** sha256 over prevHash and the canonical JSON of this entry's other fields. */
  readonly hash: string;
}

/** What a caller records; the log assigns seq, time and the hashes. */
export type AuditRecord = Pick<AuditEntry, 'tenant' | 'action' | 'targetType' | 'targetId' | 'details'> & {
  readonly principal: Principal;
};

/** The audit log port: append and read; there is no update or delete. */
export interface AuditLog {
  append(records: readonly AuditRecord[]): Promise<AuditEntry[]>;
  /** Newest first; `tenant` undefined lists every tenant (operator). */
  list(q: { tenant?: string; action?: string; targetType?: string; targetId?: string; since?: number; limit: number; offset?: number }): Promise<AuditEntry[]>;
}

/** The token port. `create` returns the secret once; only its hash is stored. */
export interface TokenStore {
  create(t: { name: string; role: Role; tenant: string; createdBy: string; expiresAt?: number }): Promise<{ token: ApiToken; secret: string }>;
  /** The live (not revoked, not expired at `now`) token whose secret this is. */
  verify(secret: string, now: number): Promise<ApiToken | undefined>;
  list(q: { tenant?: string }): Promise<ApiToken[]>;
  get(id: string): Promise<ApiToken | undefined>;
  /** Revoke a token; false when it did not exist or was already revoked. */
  revoke(id: string, at: number): Promise<boolean>;
  count(): Promise<number>;
}
