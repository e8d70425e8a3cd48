/**
 * Conversions between port values and DuckDB parameters / result values. Writes validate here,
 * at the boundary, so a malformed record fails with a reason instead of storing garbage.
 */
import { DuckDBTimestampValue, blobValue } from '@duckdb/node-api';
import { StoreError } from '../../core/errors.js';
import { isVehicleKey, vehicleKeyFromBigInt } from '../../core/vehicle-key.js';
import type { SqlParam } from './connection.js';

/** A vehicle key as a UBIGINT parameter; rejects anything but 16 lowercase hex digits. */
export function vehicleParam(key: string): bigint {
  if (typeof key !== 'string' || !isVehicleKey(key)) {
    throw new StoreError(`not a vehicle key (16 lowercase hex digits): ${JSON.stringify(key)}`);
  }
  return BigInt(`0x${key}`);
}

/** An optional vehicle key as a parameter (NULL when absent). */
export function optionalVehicleParam(key: string | undefined): bigint | null {
  return key === undefined ? null : vehicleParam(key);
}

/** A UBIGINT read back as a vehicle key. */
export function vehicleValue(n: bigint): string {
  return vehicleKeyFromBigInt(n);
}

/**
 * The largest |epoch ms| whose microseconds stay exact in a float64: ±9.007e12 ms, about the
 * years 1684 to 2255.
 */
export const MAX_ABS_TIME_MS = Math.floor(Number.MAX_SAFE_INTEGER / 1000);

/** Epoch ms as a TIMESTAMP parameter. DuckDB keeps microseconds, so sub-ms times survive. */
export function timeParam(ms: number, field: string): DuckDBTimestampValue {
  if (typeof ms !== 'number' || !(Math.abs(ms) <= MAX_ABS_TIME_MS)) {
    throw new StoreError(`${field} must be epoch milliseconds within ±${MAX_ABS_TIME_MS}, got ${ms}`);
  }
  return new DuckDBTimestampValue(BigInt(Math.round(ms * 1000)));
}

/** `epoch_us(ts)` read back as epoch ms. */
export function timeValue(us: bigint): number {
  return Number(us) / 1000;
}

/** A JSON column parameter (NULL when absent). */
export function jsonParam(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

/** A JSON column read back. */
export function jsonValue<T>(text: string): T {
  return JSON.parse(text) as T;
}

/** Raw bytes as a BLOB parameter. */
export function blobParam(bytes: Uint8Array): SqlParam {
  if (!(bytes instanceof Uint8Array)) throw new StoreError('raw must be a Uint8Array');
  return blobValue(bytes);
}

/** A BLOB read back as a plain Uint8Array (the driver returns a Buffer over shared memory). */
export function blobValueOf(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** An optional field as a parameter: NULL when absent. */
export function opt<T extends SqlParam>(value: T | undefined): T | null {
  return value === undefined ? null : value;
}

/** `{ [key]: value }` when the column is not NULL, `{}` otherwise: absent fields stay absent. */
export function present<K extends string, V>(key: K, value: V | null): { [P in K]?: V } {
  return (value === null ? {} : { [key]: value }) as { [P in K]?: V };
}

/** A page's LIMIT and OFFSET, validated. */
export function pageParams(page: { limit: number; offset?: number }): [number, number] {
  const { limit, offset = 0 } = page;
  for (const [name, n] of [['limit', limit], ['offset', offset]] as const) {
    if (!Number.isSafeInteger(n) || n < 0) throw new StoreError(`${name} must be an integer >= 0, got ${n}`);
  }
  return [limit, offset];
}
