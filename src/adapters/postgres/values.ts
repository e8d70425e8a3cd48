/**
 * Conversions between port values and PostgreSQL parameters / result values. Writes validate
 * here, at the boundary, so a malformed record fails with a reason instead of storing garbage.
 *
 * Vehicle keys travel as the decimal text of their 64 bits read as a signed BIGINT and come
 * back through `vehicleSql` as hex text; times travel as ISO text with microseconds and come
 * back through `msSql` as exact decimal epoch ms. No BigInt arithmetic per row.
 */
import { StoreError } from '../../core/errors.js';
import { isVehicleKey } from '../../core/vehicle-key.js';

/**
 * The largest |epoch ms| whose microseconds stay exact in a float64: ±9.007e12 ms, about the
 * years 1684 to 2255 (the DuckDB adapter's bound, so both accept the same input).
 */
export const MAX_ABS_TIME_MS = Math.floor(Number.MAX_SAFE_INTEGER / 1000);

/** A vehicle key as a BIGINT parameter (its 64 bits as two's complement); rejects anything but 16 lowercase hex digits. */
export function vehicleParam(key: string): string {
  if (typeof key !== 'string' || !isVehicleKey(key)) {
    throw new StoreError(`not a vehicle key (16 lowercase hex digits): ${JSON.stringify(key)}`);
  }
  return BigInt.asIntN(64, BigInt(`0x${key}`)).toString();
}

/** An optional vehicle key as a parameter (NULL when absent). */
export function optionalVehicleParam(key: string | undefined): string | null {
  return key === undefined ? null : vehicleParam(key);
}

/** SQL reading a BIGINT vehicle column back as its 16-hex-digit key. */
export const vehicleSql = (column: string): string => `lpad(to_hex(${column}), 16, '0')`;

/**
 * SQL ordering BIGINT vehicle keys as the unsigned keys they are: flipping the sign bit maps
 * 0x0000.. to the smallest BIGINT and 0xffff.. to the largest.
 */
export const vehicleOrderSql = (column: string): string => `(${column} # x'8000000000000000'::bigint)`;

/** SQL reading a TIMESTAMPTZ back as exact decimal epoch ms (text, parsed by `msValue`). */
export const msSql = (column: string): string => `(extract(epoch FROM ${column}) * 1000)::text`;

/** Checks that `ms` is epoch ms in range; returns it as whole microseconds. */
export function micros(ms: number, field: string): number {
  if (typeof ms !== 'number' || !(Math.abs(ms) <= MAX_ABS_TIME_MS)) {
    throw new StoreError(`${field} must be epoch milliseconds within ±${MAX_ABS_TIME_MS}, got ${ms}`);
  }
  return Math.round(ms * 1000);
}

/** Epoch ms as TIMESTAMPTZ text, to the microsecond: `2025-01-01T00:00:00.000125Z`. */
export function timeParam(ms: number, field: string): string {
  return microsText(micros(ms, field));
}

/** Epoch microseconds (a safe integer) as TIMESTAMPTZ text. */
export function microsText(us: number): string {
  const wholeMs = Math.floor(us / 1000);
  const extra = us - wholeMs * 1000;
  const iso = new Date(wholeMs).toISOString();
  return extra === 0 ? iso : `${iso.slice(0, -1)}${String(extra).padStart(3, '0')}Z`;
}

/** An optional time as a parameter (NULL when absent). */
export function optionalTimeParam(ms: number | undefined, field: string): string | null {
  return ms === undefined ? null : timeParam(ms, field);
}

/** `msSql(...)` read back as epoch ms. */
export function msValue(text: string): number {
  return Number(text);
}

/** A JSONB parameter (NULL when absent). */
export function jsonParam(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

/** Raw bytes as a BYTEA parameter (a Buffer over the same memory). */
export function bytesParam(bytes: Uint8Array): Buffer {
  if (!(bytes instanceof Uint8Array)) throw new StoreError('raw must be a Uint8Array');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A BYTEA read back as a plain Uint8Array of its own. */
export function bytesValue(bytes: Buffer): Uint8Array {
  return new Uint8Array(bytes);
}

/** An optional field as a parameter: NULL when absent. */
export function opt<T>(value: T | undefined): T | null {
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
