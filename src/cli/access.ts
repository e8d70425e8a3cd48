/**
 * `vigil token create|list|revoke` and `vigil audit verify|list`: API tokens and the audit log,
 * on the store the config names (`-c FILE`, else `--data-dir`). DuckDB lets one process open a
 * database file, so these run while no server holds it; against a running server use the API
 * (`POST /v1/tokens`, `GET /v1/audit`, ...). Changes made here are audited as the CLI user.
 */
import { userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { OPERATOR_TENANT, ROLES, TENANT_NAME, type Principal, type Role } from '../core/access.js';
import { systemClock } from '../core/clock.js';
import { StoreError } from '../core/errors.js';
import { DuckDBAuditLog, DuckDBTokenStore } from '../adapters/duckdb/access-store.js';
import { DuckDBStore } from '../adapters/duckdb/duckdb-store.js';
import { parseConfig, type VigilConfig } from '../runtime/config.js';
import { readConfigFile } from './serve.js';

interface StoreFlags {
  config?: string;
  dataDir?: string;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30d`, `12h`, `90m`, `3600s`, `2w` as milliseconds. */
export function parseDuration(v: string): number {
  const m = /^(\d+)\s*([smhdw])$/.exec(v.trim());
  if (!m || Number(m[1]) <= 0) throw new InvalidArgumentError('expected a duration like 30d, 12h, 90m, 3600s or 2w');
  return Number(m[1]) * UNITS[m[2]!]!;
}

const role = (v: string): Role => {
  if (!(ROLES as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${ROLES.join(', ')}`);
  return v as Role;
};
const tenant = (v: string): string => {
  if (v !== OPERATOR_TENANT && !TENANT_NAME.test(v)) throw new InvalidArgumentError('expected a tenant name (lowercase letters, digits, - and _) or * for an operator token');
  return v;
};
const int = (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

/** Opens the store of the config (or data directory), runs `body`, closes it. */
async function withStore<T>(flags: StoreFlags, body: (s: { tokens: DuckDBTokenStore; audit: DuckDBAuditLog; config: VigilConfig }) => Promise<T>): Promise<T> {
  const config = flags.config ? readConfigFile(flags.config) : parseConfig({ ...(flags.dataDir ? { dataDir: flags.dataDir } : {}) });
  const dataDir = flags.config && flags.dataDir === undefined ? config.dataDir : (flags.dataDir ?? config.dataDir);
  const path = config.store.path === ':memory:' || isAbsolute(config.store.path) ? config.store.path : join(dataDir, config.store.path);
  if (path === ':memory:') throw new StoreError('the config keeps its store in memory: tokens and the audit log live only in the running server (use the API)');
  let store: DuckDBStore;
  try {
    store = await DuckDBStore.open({ path });
  } catch (e) {
    if (e instanceof StoreError && /lock/i.test(e.message)) {
      throw new StoreError(`the store ${path} is in use by a running Vigil; use its API (POST /v1/tokens, GET /v1/audit/verify) or stop it first`, undefined, undefined, { cause: e });
    }
    throw e;
  }
  try {
    return await body({ tokens: new DuckDBTokenStore(store.connection, systemClock), audit: new DuckDBAuditLog(store.connection, systemClock), config });
  } finally {
    await store.close();
  }
}

/** Who the CLI acts as in the audit log. */
function cliPrincipal(): Principal {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No user database entry (containers): stays unknown.
  }
  return { tokenId: 'cli', name: `vigil CLI (${user})`, role: 'admin', tenant: OPERATOR_TENANT };
}

const iso = (t: number | undefined): string => (t === undefined ? '-' : new Date(t).toISOString());

function storeOptions(c: Command): Command {
  return c.option('-c, --config <file>', 'config file naming the store (dataDir, store.path)').option('--data-dir <dir>', 'data directory (default: the config\'s, else ./vigil-data)');
}

export function tokenCommand(): Command {
  const cmd = new Command('token').description('API tokens (secrets are shown once; only their hash is stored)');
  storeOptions(cmd.command('create').description('create a token and print its secret once'))
    .requiredOption('--role <role>', `${ROLES.join(' | ')}`, role)
    .requiredOption('--tenant <tenant>', 'the tenant it belongs to, or * for an operator token', tenant)
    .requiredOption('--name <name>', 'what it is for (shown in the audit log)')
    .option('--expires <duration>', 'lifetime, e.g. 30d, 12h (default: none)', parseDuration)
    .option('--json', 'print { token, secret } as JSON')
    .action(async (o: StoreFlags & { role: Role; tenant: string; name: string; expires?: number; json?: boolean }) => {
      await withStore(o, async ({ tokens, audit }) => {
        const p = cliPrincipal();
        const { token, secret } = await tokens.create({ name: o.name, role: o.role, tenant: o.tenant, createdBy: p.tokenId, ...(o.expires !== undefined ? { expiresAt: systemClock.now() + o.expires } : {}) });
        await audit.append([{ principal: p, tenant: token.tenant, action: 'token.create', targetType: 'token', targetId: token.id, details: { name: token.name, role: token.role, tenant: token.tenant, ...(token.expiresAt !== undefined ? { expiresAt: token.expiresAt } : {}) } }]);
        if (o.json) process.stdout.write(`${JSON.stringify({ token, secret })}\n`);
        else process.stdout.write(`created ${token.id} (${token.role} of ${token.tenant}, expires ${iso(token.expiresAt)})\nsecret (shown once, keep it safe):\n${secret}\n`);
      });
    });
  storeOptions(cmd.command('list').description('list tokens (never their secrets)'))
    .option('--tenant <tenant>', 'only this tenant\'s', tenant)
    .option('--json', 'print JSON lines')
    .action(async (o: StoreFlags & { tenant?: string; json?: boolean }) => {
      await withStore(o, async ({ tokens }) => {
        const items = await tokens.list(o.tenant ? { tenant: o.tenant } : {});
        if (o.json) {
          for (const t of items) process.stdout.write(`${JSON.stringify(t)}\n`);
          return;
        }
        if (!items.length) process.stdout.write('no tokens\n');
        for (const t of items) {
          const state = t.revokedAt !== undefined ? `revoked ${iso(t.revokedAt)}` : t.expiresAt !== undefined && t.expiresAt <= Date.now() ? 'expired' : 'live';
          process.stdout.write(`${t.id}  ${t.role.padEnd(7)}  ${t.tenant.padEnd(12)}  ${state.padEnd(8)}  created ${iso(t.createdAt)}  last used ${iso(t.lastUsedAt)}  expires ${iso(t.expiresAt)}  ${t.name}\n`);
        }
      });
    });
  storeOptions(cmd.command('revoke').description('revoke a token: refused from the next request on').argument('<id>', 'token id (tok_...)'))
    .action(async (id: string, o: StoreFlags) => {
      await withStore(o, async ({ tokens, audit }) => {
        const t = await tokens.get(id);
        if (!t || !(await tokens.revoke(id, systemClock.now()))) {
          process.stderr.write(`vigil: ${t ? `token ${id} is already revoked` : `no token ${id}`}\n`);
          process.exitCode = 1;
          return;
        }
        await audit.append([{ principal: cliPrincipal(), tenant: t.tenant, action: 'token.revoke', targetType: 'token', targetId: t.id, details: { name: t.name, role: t.role, tenant: t.tenant } }]);
        process.stdout.write(`revoked ${id} (${t.role} of ${t.tenant}, ${t.name})\n`);
      });
    });
  return cmd;
}

export function auditCommand(): Command {
  const cmd = new Command('audit').description('the append-only, hash-chained audit log');
  storeOptions(cmd.command('verify').description('check the hash chain: exit 0 when intact, 1 with the first broken entry'))
    .action(async (o: StoreFlags) => {
      await withStore(o, async ({ audit }) => {
        const r = await audit.verify();
        if (r.ok) {
          process.stdout.write(`audit log intact: ${r.entries} entries\n`);
          return;
        }
        process.stdout.write(`audit log broken at seq ${r.seq}: ${r.reason} (${r.entries} entries before it are intact)\n`);
        process.exitCode = 1;
      });
    });
  storeOptions(cmd.command('list').description('audit entries, newest first'))
    .option('--tenant <tenant>', 'only this tenant', tenant)
    .option('--action <action>', 'only this action, e.g. token.create')
    .option('--target <type:id>', 'only this target, e.g. incident:inc_12 (or just a type)')
    .option('--limit <n>', 'entries', int, 50)
    .option('--json', 'print JSON lines')
    .action(async (o: StoreFlags & { tenant?: string; action?: string; target?: string; limit: number; json?: boolean }) => {
      const [targetType, ...rest] = o.target?.split(':') ?? [];
      await withStore(o, async ({ audit }) => {
        const items = await audit.list({ limit: o.limit, ...(o.tenant ? { tenant: o.tenant } : {}), ...(o.action ? { action: o.action } : {}), ...(targetType ? { targetType } : {}), ...(rest.length ? { targetId: rest.join(':') } : {}) });
        for (const e of items) {
          process.stdout.write(o.json ? `${JSON.stringify(e)}\n` : `${String(e.seq).padStart(6)}  ${iso(e.time)}  ${e.tenant.padEnd(12)}  ${e.action.padEnd(22)}  ${e.targetType}:${e.targetId}  by ${e.actorName} (${e.actor})  ${JSON.stringify(e.details)}\n`);
        }
        if (!items.length && !o.json) process.stdout.write('no audit entries\n');
      });
    });
  return cmd;
}
