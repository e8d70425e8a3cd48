/**
 * Raw CAN frames into the `can_frames` table, as fast as signals: classic frames' 8 data
 * bytes are packed big-endian into one UBIGINT (so `printf('%016X', data)` reads like the
 * payload hex), written through 32-bit views like the signal writer; the rare CAN FD frame
 * (more than 8 bytes) also gets its whole payload in the `data_fd` BLOB, row by row.
 *
 * `label` is 0 when the source has no ground truth, 1 for a labelled normal frame, 2 for a
 * labelled attack frame.
 */
import { DuckDBBlobValue, DuckDBDataChunk, TIMESTAMP, UBIGINT, UINTEGER, USMALLINT, UTINYINT, BLOB, type DuckDBAppender, type DuckDBVector } from '@duckdb/node-api';
import type { CanFrameBatch } from '../../core/can.js';
import { StoreError } from '../../core/errors.js';
import { vehicleKeyHalves } from '../../core/vehicle-key.js';
import { CHUNK_ROWS } from './signal-writer.js';
import { MAX_ABS_TIME_MS, vehicleParam } from './values.js';

/** Column types of `can_frames`, in table order. */
const FRAME_TYPES = [USMALLINT, UBIGINT, TIMESTAMP, UINTEGER, UTINYINT, UBIGINT, UTINYINT, BLOB];
const TWO_POW_32 = 4_294_967_296;

export class FrameWriter {
  /** Appends every frame of `batch` for tenant id `tenant` and vehicle key `vehicle`; the caller flushes. */
  write(appender: DuckDBAppender, tenant: number, vehicle: string, batch: CanFrameBatch): void {
    vehicleParam(vehicle);
    const [vhi, vlo] = vehicleKeyHalves(vehicle);
    const { size, time, id, dlc, data, stride, label } = batch;
    if (time.length < size || id.length < size || dlc.length < size || data.length < size * stride) {
      throw new StoreError(`CAN frame batch columns are shorter than its size ${size}`, 'APPEND can_frames');
    }
    for (let i = 0; i < size; i++) {
      const t = time[i]!;
      if (!(t >= -MAX_ABS_TIME_MS && t <= MAX_ABS_TIME_MS) || dlc[i]! > stride) {
        throw new StoreError(`CAN frame ${i}: time ${t} or length ${dlc[i]} out of range`, 'APPEND can_frames', [batch.tenant, i]);
      }
    }
    const chunk = DuckDBDataChunk.create(FRAME_TYPES, CHUNK_ROWS);
    for (let offset = 0; offset < size; offset += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, size - offset);
      chunk.rowCount = n;
      const v = FRAME_TYPES.map((_, k) => chunk.getColumnVector(k));
      items<Uint16Array>(v[0]!).fill(tenant);
      const veh = words(v[1]!);
      const ts = words(v[2]!);
      const ids = items<Uint32Array>(v[3]!);
      const lens = items<Uint8Array>(v[4]!);
      const payload = words(v[5]!);
      const labels = items<Uint8Array>(v[6]!);
      const fd = v[7]!;
      for (let r = 0; r < n; r++) {
        const i = offset + r;
        const j = r << 1;
        veh[j] = vlo;
        veh[j + 1] = vhi;
        const micros = Math.round(time[i]! * 1000);
        ts[j] = micros >>> 0;
        ts[j + 1] = Math.floor(micros / TWO_POW_32);
        ids[r] = id[i]!;
        const len = dlc[i]!;
        lens[r] = len;
        const at = i * stride;
        // Bytes 0..3 form the high word, 4..7 the low word: big-endian over the 8 bytes.
        payload[j + 1] = ((data[at]! << 24) | (data[at + 1]! << 16) | (data[at + 2]! << 8) | data[at + 3]!) >>> 0;
        payload[j] = ((data[at + 4]! << 24) | (data[at + 5]! << 16) | (data[at + 6]! << 8) | data[at + 7]!) >>> 0;
        labels[r] = label ? 1 + (label[i]! ? 1 : 0) : 0;
        fd.setItem(r, len > 8 ? new DuckDBBlobValue(data.slice(at, at + len)) : null);
      }
      for (const vec of v) vec.flush();
      appender.appendDataChunk(chunk);
    }
  }
}

function items<T>(vector: DuckDBVector): T {
  const it = (vector as unknown as { items?: unknown }).items;
  if (!ArrayBuffer.isView(it)) throw new StoreError(`@duckdb/node-api changed: a ${vector.type.toString()} vector has no typed items`);
  return it as T;
}

function words(vector: DuckDBVector): Uint32Array {
  const it = items<BigUint64Array | BigInt64Array>(vector);
  return new Uint32Array(it.buffer, it.byteOffset, it.length * 2);
}
