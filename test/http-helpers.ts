/** Shared by the HTTP tests: gzip bombs for ingest, API tokens for the front door. */
import { constants, deflateRawSync } from 'node:zlib';
import type { Role } from '../src/core/access.js';

/**
 * A gzip member claiming `mib` MiB: one deflate block of 1 MiB of zeros, full-flushed (so it
 * stands alone, byte-aligned), repeated; about 1 kB on the wire per MiB claimed. Its trailer
 * is never reached by a reader that stops at its cap.
 */
export function gzipBomb(mib: number): Buffer {
  const block = deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: constants.Z_FULL_FLUSH });
  const header = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03]);
  const end = deflateRawSync(Buffer.alloc(0));
  return Buffer.concat([header, ...Array.from({ length: mib }, () => block), end, Buffer.alloc(8)]);
}

/** What the token helpers need of a running Vigil. */
interface WithTokens {
  readonly tokens: { create(t: { name: string; role: Role; tenant: string; createdBy: string; expiresAt?: number }): Promise<{ secret: string }> };
}

/**
 * A fresh API token's secret, created in the store directly (as `vigil token create` does).
 * Default: an operator admin token (tenant `*`), which acts on any tenant it names.
 */
export async function apiToken(vigil: WithTokens, role: Role = 'admin', tenant = '*', name = `${role}@${tenant} (test)`): Promise<string> {
  return (await vigil.tokens.create({ name, role, tenant, createdBy: 'test' })).secret;
}

/** The Authorization header for a token secret. */
export function bearer(secret: string): { authorization: string } {
  return { authorization: `Bearer ${secret}` };
}

/** `fetch` with the token's Authorization header added (other headers and options pass through). */
export function authedFetch(secret: string): (url: string, init?: RequestInit) => Promise<Response> {
  return (url, init = {}) => fetch(url, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), ...bearer(secret) } });
}
