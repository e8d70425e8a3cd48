/**
 * The API token the CLI presents to a running server: `VIGIL_TOKEN` when set, else the
 * bootstrap admin token an embedded install wrote to `<dataDir>/admin-token`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Environment variable the CLI reads its API token from. */
export const TOKEN_ENV = 'VIGIL_TOKEN';

/** The token secret to send, if any is known. */
export function cliToken(dataDir = './vigil-data'): string | undefined {
  const fromEnv = process.env[TOKEN_ENV];
  if (fromEnv) return fromEnv.trim();
  try {
    return readFileSync(join(dataDir, 'admin-token'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** `{ authorization: 'Bearer ...' }` when a token is known, else `{}`. */
export function authHeaders(dataDir?: string): Record<string, string> {
  const t = cliToken(dataDir);
  return t ? { authorization: `Bearer ${t}` } : {};
}
