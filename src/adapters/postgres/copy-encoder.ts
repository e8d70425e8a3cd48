/**
 * The hot path: signal batches (and CAN frame batches) encoded for `COPY ... FROM STDIN`, in
 * PostgreSQL's binary format (the default, measured faster; see README) or its text format.
 * Rows are written into 1 MiB buffers through a DataView: no object, closure or BigInt per row.
 * 64-bit integers go as two 32-bit words, big-endian; TIMESTAMPTZ as microseconds since
 * 2000-01-01 UTC. The whole batch is validated before the first byte is produced, so a
 * malformed row rejects the call before anything reaches the server.
 */
import type { SignalBatch } from '../../core/batch.js';
import type { CanFrameBatch } from '../../core/can.js';
import { StoreError } from '../../core/errors.js';
import { vehicleKeyHalves } from '../../core/vehicle-key.js';
import { MAX_ABS_TIME_MS, microsText, vehicleParam } from './values.js';

/** `binary` (default) or `text` COPY format. */
export type CopyFormat = 'binary' | 'text';

/** Bytes per buffer handed to the COPY stream. */
const CHUNK_BYTES = 1 << 20;
const TWO_POW_32 = 4_294_967_296;
/** Microseconds from the Unix epoch to PostgreSQL's (2000-01-01). */
const PG_EPOCH_US = 946_684_800_000_000;
/** Binary COPY header: signature, flags, header-extension length. */
const HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
const TRAILER = Buffer.from([0xff, 0xff]);
/** Bytes of a signal row without its text: field count + 6 length words + 4 + 8 + 8 + 8 + 8. */
const SIGNAL_ROW_BYTES = 2 + 6 * 4 + 4 + 8 + 8 + 8 + 8;
/** Bytes of a CAN frame row without its payload: field count + 6 length words + 4 + 8 + 8 + 8 + 2. */
const FRAME_ROW_BYTES = 2 + 6 * 4 + 4 + 8 + 8 + 8 + 2;

/** The COPY statement for signals in `format`; column order is the encoders' row layout. */
export function signalCopySql(format: CopyFormat): string {
  return `COPY signals (tenant, vehicle, ts, signal, value, text) FROM STDIN WITH (FORMAT ${format})`;
}

export const FRAME_COPY_SQL = 'COPY can_frames (tenant, vehicle, ts, can_id, data, label) FROM STDIN WITH (FORMAT binary)';

/** Throws StoreError unless every column covers `size` rows, every vehicle index is in the dictionary and every time is in range. */
export function checkSignalBatch(batch: SignalBatch): void {
  const { size, vehicle, time } = batch;
  const columns = { vehicle, time, signal: batch.signal, value: batch.value };
  for (const [name, column] of Object.entries(columns)) {
    if (column.length < size) {
      throw new StoreError(`signal batch column '${name}' has ${column.length} rows, fewer than its size ${size}`);
    }
  }
  for (const key of batch.vehicles) vehicleParam(key);
  const entries = batch.vehicles.length;
  for (let i = 0; i < size; i++) {
    const t = time[i]!;
    // One comparison pair catches NaN, ±Infinity and out-of-range times.
    if (vehicle[i]! >= entries || !(t >= -MAX_ABS_TIME_MS && t <= MAX_ABS_TIME_MS)) {
      const reason =
        vehicle[i]! >= entries
          ? `vehicle index ${vehicle[i]} is outside the batch's ${entries}-key dictionary`
          : `time ${t} is not epoch milliseconds within ±${MAX_ABS_TIME_MS}`;
      throw new StoreError(`signal batch row ${i}: ${reason}`, 'COPY signals', [batch.tenant, i]);
    }
  }
}

/** Throws StoreError unless the frame batch's columns, times and lengths are in range. */
export function checkFrameBatch(vehicle: string, batch: CanFrameBatch): void {
  vehicleParam(vehicle);
  const { size, time, id, dlc, data, stride } = batch;
  if (time.length < size || id.length < size || dlc.length < size || data.length < size * stride) {
    throw new StoreError(`CAN frame batch columns are shorter than its size ${size}`, 'COPY can_frames');
  }
  for (let i = 0; i < size; i++) {
    const t = time[i]!;
    if (!(t >= -MAX_ABS_TIME_MS && t <= MAX_ABS_TIME_MS) || dlc[i]! > stride) {
      throw new StoreError(`CAN frame ${i}: time ${t} or length ${dlc[i]} out of range`, 'COPY can_frames', [batch.tenant, i]);
    }
  }
}

/** Fills fixed-size buffers; `flush` hands the filled part on. */
class Chunker {
  buf = Buffer.allocUnsafe(CHUNK_BYTES);
  view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  at = 0;
  readonly out: Buffer[] = [];

  /** Makes room for `bytes` more, starting a new buffer when this one is too full. */
  room(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    this.flush();
    if (bytes > this.buf.length) {
      this.buf = Buffer.allocUnsafe(bytes);
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    }
  }

  flush(): void {
    if (this.at > 0) this.out.push(this.buf.subarray(0, this.at));
    this.buf = Buffer.allocUnsafe(CHUNK_BYTES);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.at = 0;
  }

  /** Appends the binary COPY trailer and returns every buffer filled. */
  finish(): Buffer[] {
    this.room(2);
    TRAILER.copy(this.buf, this.at);
    this.at += 2;
    this.out.push(this.buf.subarray(0, this.at));
    return this.out;
  }

  i16(n: number): void {
    this.view.setInt16(this.at, n);
    this.at += 2;
  }

  i32(n: number): void {
    this.view.setInt32(this.at, n);
    this.at += 4;
  }

  /** A 64-bit integer field (length word + two 32-bit words) from a safe integer. */
  field64(n: number): void {
    this.view.setInt32(this.at, 8);
    this.view.setInt32(this.at + 4, Math.floor(n / TWO_POW_32));
    this.view.setUint32(this.at + 8, n >>> 0);
    this.at += 12;
  }

  /** A length-prefixed UTF-8 field; the caller reserved `4 + 3 * s.length` bytes. */
  text(s: string): void {
    const n = this.buf.write(s, this.at + 4, 'utf8');
    this.view.setInt32(this.at, n);
    this.at += 4 + n;
  }
}

/** `batch` as binary COPY data for `signals`, with tenant id `tenant`. Validate it first (checkSignalBatch). */
export function encodeSignalsBinary(tenant: number, batch: SignalBatch): Buffer[] {
  const c = new Chunker();
  c.room(HEADER.length);
  HEADER.copy(c.buf, 0);
  c.at = HEADER.length;
  const hi = new Int32Array(batch.vehicles.length);
  const lo = new Uint32Array(batch.vehicles.length);
  batch.vehicles.forEach((key, k) => {
    const [h, l] = vehicleKeyHalves(key);
    hi[k] = h | 0;
    lo[k] = l;
  });
  const { vehicle, time, signal, value, text } = batch;
  for (let i = 0; i < batch.size; i++) {
    const s = text?.[i];
    c.room(SIGNAL_ROW_BYTES + (s === undefined ? 0 : 3 * s.length));
    const v = c.view;
    let at = c.at;
    v.setInt16(at, 6);
    v.setInt32(at + 2, 4);
    v.setInt32(at + 6, tenant);
    const d = vehicle[i]!;
    v.setInt32(at + 10, 8);
    v.setInt32(at + 14, hi[d]!);
    v.setUint32(at + 18, lo[d]!);
    const us = Math.round(time[i]! * 1000) - PG_EPOCH_US;
    v.setInt32(at + 22, 8);
    v.setInt32(at + 26, Math.floor(us / TWO_POW_32));
    v.setUint32(at + 30, us >>> 0);
    v.setInt32(at + 34, 8);
    v.setInt32(at + 38, 0);
    v.setUint32(at + 42, signal[i]!);
    at += 46;
    if (s === undefined) {
      v.setInt32(at, 8);
      v.setFloat64(at + 4, value[i]!);
      v.setInt32(at + 12, -1);
      c.at = at + 16;
    } else {
      v.setInt32(at, -1);
      c.at = at + 4;
      c.text(s);
    }
  }
  return c.finish();
}

/** `batch` as text COPY data for `signals` (tab-separated, `\N` for NULL). Validate it first. */
export function encodeSignalsText(tenant: number, batch: SignalBatch): Buffer[] {
  const keys = batch.vehicles.map((k) => `${tenant}\t${vehicleParam(k)}\t`);
  const out: Buffer[] = [];
  const { vehicle, time, signal, value, text } = batch;
  let lines: string[] = [];
  for (let i = 0; i < batch.size; i++) {
    const s = text?.[i];
    const ts = microsText(Math.round(time[i]! * 1000));
    lines.push(`${keys[vehicle[i]!]}${ts}\t${signal[i]}\t${s === undefined ? value[i] : '\\N\t' + escapeText(s)}${s === undefined ? '\t\\N' : ''}\n`);
    if (lines.length === 8192) {
      out.push(Buffer.from(lines.join(''), 'utf8'));
      lines = [];
    }
  }
  if (lines.length) out.push(Buffer.from(lines.join(''), 'utf8'));
  return out;
}

/** Text COPY escaping: backslash, tab, newline and carriage return. */
function escapeText(s: string): string {
  return /[\\\t\n\r]/.test(s) ? s.replace(/[\\\t\n\r]/g, (ch) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[ch]!) : s;
}

/** `batch` as binary COPY data for `can_frames` of `vehicle` under tenant id `tenant`. Validate it first. */
export function encodeFramesBinary(tenant: number, vehicle: string, batch: CanFrameBatch): Buffer[] {
  const c = new Chunker();
  c.room(HEADER.length);
  HEADER.copy(c.buf, 0);
  c.at = HEADER.length;
  const [vhi, vlo] = vehicleKeyHalves(vehicle);
  const { time, id, dlc, data, stride, label } = batch;
  for (let i = 0; i < batch.size; i++) {
    const len = dlc[i]!;
    c.room(FRAME_ROW_BYTES + len);
    c.i16(6);
    c.i32(4);
    c.i32(tenant);
    c.i32(8);
    c.i32(vhi | 0);
    c.view.setUint32(c.at, vlo);
    c.at += 4;
    c.field64(Math.round(time[i]! * 1000) - PG_EPOCH_US);
    c.field64(id[i]! >>> 0);
    c.i32(len);
    const at = i * stride;
    c.buf.set(data.subarray(at, at + len), c.at);
    c.at += len;
    c.i32(2);
    c.i16(label ? 1 + (label[i]! ? 1 : 0) : 0);
  }
  return c.finish();
}

/** The UTC days (epoch ms / 86,400,000, floored) that `times[0..size)` fall on. */
export function daysOf(times: Float64Array, size: number): Set<number> {
  const days = new Set<number>();
  let last = Number.NaN;
  for (let i = 0; i < size; i++) {
    const d = Math.floor(times[i]! / 86_400_000);
    if (d !== last) {
      days.add(d);
      last = d;
    }
  }
  return days;
}
