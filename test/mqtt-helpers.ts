/** Shared by the MQTT tests: a Vigil with MQTT sources, VINs, polling, TLS material. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import { makeVin } from '../src/normalize/vin.js';
import { parseConfig } from '../src/runtime/config.js';

export const TENANT = 'acme';
export const vins = Array.from({ length: 20 }, (_, i) => makeVin({ wmi: '1FT', vds: 'EW1EP', year: 2021, plant: 'K' }, i + 1));

/** A Vigil on an in-memory store, no HTTP, two worker threads, with these sources. */
export function startWith(sources: unknown[], runtime: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<Vigil> {
  return startVigil(parseConfig({ tenant: TENANT, store: { path: ':memory:' }, http: { enabled: false }, runtime: { workers: 2, ...runtime }, sources, ...extra }));
}

export { until } from './ingest-helpers.js';

export interface TlsFiles {
  readonly dir: string;
  readonly ca: string;
  readonly serverKey: string;
  readonly serverCert: string;
  readonly clientKey: string;
  readonly clientCert: string;
}

/** A throw-away CA, a server certificate for 127.0.0.1/localhost and a client certificate it signed. */
export function makeTls(): TlsFiles {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-mqtt-tls-'));
  const f = (n: string): string => join(dir, n);
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=vigil-test-ca', '-keyout', f('ca.key'), '-out', f('ca.crt'));
  for (const [name, cn] of [['server', 'localhost'], ['client', 'vehicle-1']] as const) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
    const ext = name === 'server' ? ['-extfile', writeExt(f('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1')] : [];
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-out', f(`${name}.crt`), ...ext);
  }
  return { dir, ca: f('ca.crt'), serverKey: f('server.key'), serverCert: f('server.crt'), clientKey: f('client.key'), clientCert: f('client.crt') };
}

function writeExt(path: string, text: string): string {
  writeFileSync(path, `${text}\n`);
  return path;
}
