/**
 * The first API token. A fresh install has no token, so nobody could create one over the API:
 * when the store holds none, Vigil creates an operator admin token (tenant `*`). Its secret
 * comes from the configured environment variable when set (a shared deployment sets it), else
 * it is generated and written once to `<dataDir>/admin-token` (mode 0600); an in-memory store
 * has no data directory, so the secret is printed instead.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { OPERATOR_TENANT, systemPrincipal, type AuditLog } from '../core/access.js';
import { ConfigError } from '../core/errors.js';
import type { DuckDBTokenStore } from '../adapters/duckdb/access-store.js';
import { MIN_SECRET_LENGTH } from '../adapters/duckdb/access-store.js';

/** Name of the file the generated admin secret is written to, in the data directory. */
export const ADMIN_TOKEN_FILE = 'admin-token';

export interface AdminTokenBootstrap {
  /** Where the operator's secret is: the environment variable, the file, or (in memory) printed. */
  readonly origin: string;
  /** The file holding the secret, when one was written. */
  readonly file?: string;
}

/** Creates the operator admin token when no token exists; undefined when tokens exist already. */
export async function bootstrapAdminToken(
  tokens: DuckDBTokenStore,
  audit: AuditLog,
  opts: { readonly env: string; readonly dataDir?: string; readonly log?: (line: string) => void },
): Promise<AdminTokenBootstrap | undefined> {
  if ((await tokens.count()) > 0) return undefined;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const t = { name: 'operator (bootstrap)', role: 'admin' as const, tenant: OPERATOR_TENANT, createdBy: 'system' };
  const fromEnv = process.env[opts.env];
  let result: AdminTokenBootstrap;
  let token;
  if (fromEnv) {
    if (fromEnv.length < MIN_SECRET_LENGTH || /\s/.test(fromEnv)) {
      throw new ConfigError('invalid admin token', [`http.auth.adminTokenEnv: ${opts.env} must hold at least ${MIN_SECRET_LENGTH} characters and no white space`]);
    }
    ({ token } = await tokens.createWithSecret(t, fromEnv));
    result = { origin: `environment variable ${opts.env}` };
  } else {
    const created = await tokens.create(t);
    token = created.token;
    if (opts.dataDir === undefined) {
      log(`admin token (in-memory store, shown once): ${created.secret}`);
      result = { origin: 'printed once (in-memory store)' };
    } else {
      mkdirSync(opts.dataDir, { recursive: true });
      const file = join(opts.dataDir, ADMIN_TOKEN_FILE);
      writeFileSync(file, `${created.secret}\n`, { mode: 0o600 });
      log(`admin token written to ${file}`);
      result = { origin: file, file };
    }
  }
  await audit.append([{ principal: systemPrincipal(OPERATOR_TENANT), tenant: OPERATOR_TENANT, action: 'token.create', targetType: 'token', targetId: token.id, details: { name: token.name, role: token.role, tenant: token.tenant, bootstrap: true, secretFrom: result.origin } }]);
  return result;
}
