/** Secrets and certificates named in MQTT source configs, read once at start. */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../core/errors.js';

/** The password given inline, or read from the environment variable named by `passwordEnv`. */
export function resolvePassword(auth: { password?: string | undefined; passwordEnv?: string | undefined }, where: string): string {
  if (auth.password !== undefined) return auth.password;
  const value = auth.passwordEnv === undefined ? undefined : process.env[auth.passwordEnv];
  if (value === undefined || value === '') {
    throw new ConfigError('missing MQTT password', [`${where}.passwordEnv: environment variable ${auth.passwordEnv ?? '(none)'} is not set`]);
  }
  return value;
}

/** A PEM file (key, certificate, CA bundle). */
export function readPem(path: string, where: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError('cannot read a TLS file', [`${where}: ${path}: ${(e as Error).message}`], { cause: e });
  }
}
