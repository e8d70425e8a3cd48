/**
 * The signals hot path: SignalBatch columns copied into DuckDB data chunks (2048 rows each) and
 * handed to an appender. No object, closure or BigInt per row:
 *
 * - signal and value columns are bulk `set()` copies of the batch's typed arrays;
 * - 64-bit columns (vehicle UBIGINT, ts TIMESTAMP) are written as two 32-bit words through a
 *   Uint32Array view over the vector's buffer, low word first (little-endian, as on every
 *   platform node-api ships for; checked at load); the vehicle dictionary is split into its halves once
 *   per batch;
 * - validity masks are touched only for text rows. The chunk is kept between batches with the
 *   invariant "text all NULL, value all valid" restored after each chunk that had text, so a
 *   batch without text pays nothing for NULLs. (node-api's `setItem(i, null)` does BigInt
 *   arithmetic per call: fine for the rare text row, too slow for every row.)
 *
 * The writer reads the `items` typed array of node-api's vectors, which the typings mark
 * private; `itemsOf` checks its shape, so a driver change fails loudly instead of writing garbage.
 */
import {
  DOUBLE,
  DuckDBDataChunk,
  DuckDBVector,
  TIMESTAMP,
  UBIGINT,
  UINTEGER,
  USMALLINT,
  VARCHAR,
} from '@duckdb/node-api';
import type { DuckDBAppender } from '@duckdb/node-api';
import type { SignalBatch } from '../../core/batch.js';
import { StoreError } from '../../core/errors.js';
import { vehicleKeyHalves } from '../../core/vehicle-key.js';
import { vehicleParam, MAX_ABS_TIME_MS } from './values.js';

/** Column types of the `signals` table, in table order: the appender maps chunk columns by position. */
const SIGNAL_TYPES = [USMALLINT, UBIGINT, TIMESTAMP, UINTEGER, DOUBLE, VARCHAR];
const TWO_POW_32 = 4_294_967_296;
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** Rows per data chunk: DuckDB's vector size (2048). */
export const CHUNK_ROWS = DuckDBVector.standardSize();

type TypedArrayCtor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; name: string };

/** Typed views over one chunk's vectors, valid while the chunk keeps its row count. */
interface Columns {
  readonly rows: number;
  readonly vectors: readonly DuckDBVector[];
  readonly tenant: Uint16Array;
  readonly vehicle: Uint32Array;
  readonly ts: Uint32Array;
  readonly signal: Uint32Array;
  readonly value: Float64Array;
}

/** Writes signal batches into an appender through one reused data chunk; one caller at a time. */
export class SignalWriter {
  private readonly chunkRows = CHUNK_ROWS;
  private chunk: DuckDBDataChunk | undefined;
  private columns: Columns | undefined;
  /** Rows of the current chunk holding text, to restore the invariant after the append. */
  private readonly textRows: number[] = [];

  /**
   * Appends every row of `batch` with tenant id `tenant`, leaving them in the appender for the
   * caller to flush. A malformed batch (bad vehicle key, dictionary index out of range, time not
   * finite or out of range) throws StoreError before any row is appended.
   */
  write(appender: DuckDBAppender, tenant: number, batch: SignalBatch): void {
    if (!LITTLE_ENDIAN) throw new StoreError('the DuckDB signal writer needs a little-endian platform');
    const dictionary = splitVehicleKeys(batch.vehicles);
    checkRows(batch);
    try {
      for (let offset = 0; offset < batch.size; offset += this.chunkRows) {
        const rows = Math.min(this.chunkRows, batch.size - offset);
        this.fill(this.columnsFor(rows), tenant, batch, offset, dictionary);
        appender.appendDataChunk(this.chunk!);
        this.restoreNulls();
      }
    } catch (error) {
      // The chunk may hold half-written validity; start from a fresh one next time.
      this.chunk = undefined;
      this.columns = undefined;
      this.textRows.length = 0;
      throw error;
    }
  }

  private fill(c: Columns, tenant: number, batch: SignalBatch, offset: number, dict: VehicleHalves): void {
    const n = c.rows;
    c.tenant.fill(tenant);
    c.signal.set(batch.signal.subarray(offset, offset + n));
    c.value.set(batch.value.subarray(offset, offset + n));
    const { hi, lo } = dict;
    const vehicleIdx = batch.vehicle;
    const time = batch.time;
    const vehicle = c.vehicle;
    const ts = c.ts;
    for (let i = 0; i < n; i++) {
      const d = vehicleIdx[offset + i]!;
      const micros = Math.round(time[offset + i]! * 1000);
      const j = i << 1;
      vehicle[j] = lo[d]!;
      vehicle[j + 1] = hi[d]!;
      ts[j] = micros >>> 0;
      ts[j + 1] = Math.floor(micros / TWO_POW_32);
    }
    const [, , , , valueVector, textVector] = c.vectors;
    const text = batch.text;
    if (text) {
      for (let i = 0; i < n; i++) {
        const s = text[offset + i];
        if (s === undefined) continue;
        textVector!.setItem(i, s);
        valueVector!.setItem(i, null);
        this.textRows.push(i);
      }
    }
    for (let k = 0; k < 5; k++) c.vectors[k]!.flush();
    // The text vector's native state already is "all NULL" unless this chunk wrote text.
    if (this.textRows.length > 0) textVector!.flush();
  }

  /** Puts the text rows of the chunk just appended back to NULL text / valid value, natively too. */
  private restoreNulls(): void {
    if (this.textRows.length === 0) return;
    const [, , , , valueVector, textVector] = this.columns!.vectors;
    for (const i of this.textRows) {
      textVector!.setItem(i, null);
      valueVector!.setItem(i, 0);
    }
    // Flushed now because a row-count change re-reads the vectors from native memory.
    textVector!.flush();
    valueVector!.flush();
    this.textRows.length = 0;
  }

  /** The chunk's column views for `rows` rows, creating the chunk on first use. */
  private columnsFor(rows: number): Columns {
    if (!this.chunk) {
      const chunk = DuckDBDataChunk.create(SIGNAL_TYPES, this.chunkRows);
      // The one-time cost of the invariant: every text slot NULL.
      const text = chunk.getColumnVector(5);
      for (let i = 0; i < this.chunkRows; i++) text.setItem(i, null);
      text.flush();
      this.chunk = chunk;
      this.columns = undefined;
    }
    if (this.columns?.rows === rows) return this.columns;
    // Setting the row count drops node-api's cached vectors; new ones are read from native memory.
    this.chunk.rowCount = rows;
    const vectors = SIGNAL_TYPES.map((_, k) => this.chunk!.getColumnVector(k));
    this.columns = {
      rows,
      vectors,
      tenant: itemsOf(vectors[0]!, Uint16Array, rows),
      vehicle: words(itemsOf(vectors[1]!, BigUint64Array, rows)),
      ts: words(itemsOf(vectors[2]!, BigInt64Array, rows)),
      signal: itemsOf(vectors[3]!, Uint32Array, rows),
      value: itemsOf(vectors[4]!, Float64Array, rows),
    };
    return this.columns;
  }
}

interface VehicleHalves {
  readonly hi: Uint32Array;
  readonly lo: Uint32Array;
}

/** The dictionary's keys as 32-bit halves, validated once per batch instead of once per row. */
function splitVehicleKeys(keys: readonly string[]): VehicleHalves {
  const hi = new Uint32Array(keys.length);
  const lo = new Uint32Array(keys.length);
  keys.forEach((key, k) => {
    vehicleParam(key); // throws StoreError on a malformed key
    [hi[k], lo[k]] = vehicleKeyHalves(key);
  });
  return { hi, lo };
}

/**
 * Checks the whole batch before the first chunk is appended, so a malformed row rejects the call
 * before anything reaches the appender: every column covers `size` rows, every vehicle index is
 * inside the dictionary, every time is finite epoch ms in range.
 */
function checkRows(batch: SignalBatch): void {
  const { size, vehicle, time } = batch;
  const columns = { vehicle, time, signal: batch.signal, value: batch.value };
  for (const [name, column] of Object.entries(columns)) {
    if (column.length < size) {
      throw new StoreError(`signal batch column '${name}' has ${column.length} rows, fewer than its size ${size}`);
    }
  }
  const entries = batch.vehicles.length;
  for (let i = 0; i < size; i++) {
    const t = time[i]!;
    // One comparison pair catches NaN, ±Infinity and out-of-range times.
    if (vehicle[i]! >= entries || !(t >= -MAX_ABS_TIME_MS && t <= MAX_ABS_TIME_MS)) throw badRow(batch, i);
  }
}

/** The `items` array node-api keeps for a vector (private in its typings), checked. */
function itemsOf<T extends ArrayBufferView>(vector: DuckDBVector, ctor: TypedArrayCtor<T>, rows: number): T {
  const items = (vector as unknown as { items?: unknown }).items;
  if (!(items instanceof ctor) || (items as unknown as { length: number }).length !== rows) {
    throw new StoreError(`@duckdb/node-api changed: a ${vector.type.toString()} vector has no ${ctor.name} items`);
  }
  return items as T;
}

/** A Uint32Array over the same memory as a 64-bit array: word 2i is the low half of item i. */
function words(items: BigUint64Array | BigInt64Array): Uint32Array {
  return new Uint32Array(items.buffer, items.byteOffset, items.length * 2);
}

function badRow(batch: SignalBatch, row: number): StoreError {
  const vehicle = batch.vehicle[row];
  const time = batch.time[row];
  const reason =
    vehicle === undefined || vehicle >= batch.vehicles.length
      ? `vehicle index ${vehicle} is outside the batch's ${batch.vehicles.length}-key dictionary`
      : `time ${time} is not epoch milliseconds within ±${MAX_ABS_TIME_MS}`;
  return new StoreError(`signal batch row ${row}: ${reason}`, 'APPEND signals', [batch.tenant, row]);
}
