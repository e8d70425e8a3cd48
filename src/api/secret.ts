/**
 * The pseudonymization secret: from the configured environment variable, or else a random
 * one created once and kept in the data directory (mode 0600), so pseudonyms stay stable
 * across restarts of an embedded install. A shared deployment must set the variable.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function loadSecret(envName: string, dataDir: string | undefined): { secret: string; origin: string } {
  const fromEnv = process.env[envName];
  if (fromEnv) return { secret: fromEnv, origin: `environment variable ${envName}` };
  if (!dataDir) return { secret: randomBytes(32).toString('hex'), origin: 'random (in-memory store)' };
  const file = join(dataDir, 'pseudonym.secret');
  if (existsSync(file)) return { secret: readFileSync(file, 'utf8').trim(), origin: file };
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return { secret, origin: `${file} (created)` };
}
