/**
 * The geo-IP database named by `normalize.geoipDatabase`, read once into shared memory so
 * every lane (worker thread) reads the same bytes (src/normalize/geoip.ts).
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../core/errors.js';
import { GeoIp } from '../normalize/geoip.js';

/** The database's bytes in a SharedArrayBuffer, checked to be a MaxMind DB; undefined when none is configured. */
export function loadGeoIp(file: string | undefined): Uint8Array | undefined {
  if (file === undefined) return undefined;
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new ConfigError('cannot read the geo-IP database', [`normalize.geoipDatabase: ${(e as Error).message}`], { cause: e });
  }
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  shared.set(bytes);
  try {
    new GeoIp(shared);
  } catch (e) {
    throw new ConfigError('invalid geo-IP database', [`normalize.geoipDatabase: ${file} is not a MaxMind DB file (${(e as Error).message})`], { cause: e });
  }
  return shared;
}
