/**
 * The context of a security event as stored: the sender's `context` object, plus, for a
 * QSEv, its instance ids and context data kept raw (`contextData`, `contextDataEncoding`,
 * `contextDataLength`) and, when the extract gives the event a layout, decoded into named
 * fields. Data shorter than its layout decodes the fields that fit and says so in
 * `contextDataError`; the event is never refused for it (IDS evidence is kept).
 */
import type { SecurityMessage } from '../decode/json.js';
import type { ContextField, SecurityEventDef } from './security-extract.js';

type Ctx = Record<string, unknown>;

const SIZE: Readonly<Record<string, number>> = { uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, float64: 8 };
const latin1 = new TextDecoder('latin1');

/** Decode `bytes` by `layout` into `out`; returns a problem when the data is too short. */
export function decodeContextFields(bytes: Uint8Array, layout: readonly ContextField[], out: Ctx): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  for (const f of layout) {
    const le = f.littleEndian === true;
    if (f.type === 'bytes' || f.type === 'ascii') {
      const n = f.length ?? bytes.length - at;
      if (at + n > bytes.length) return `context data of ${bytes.length} bytes ends inside field ${f.name}`;
      const slice = bytes.subarray(at, at + n);
      out[f.name] = f.type === 'ascii' ? latin1.decode(slice).replace(/\0+$/, '') : Buffer.from(slice).toString('hex');
      at += n;
      continue;
    }
    const size = SIZE[f.type]!;
    if (at + size > bytes.length) return `context data of ${bytes.length} bytes ends inside field ${f.name}`;
    switch (f.type) {
      case 'uint8': out[f.name] = view.getUint8(at); break;
      case 'int8': out[f.name] = view.getInt8(at); break;
      case 'uint16': out[f.name] = view.getUint16(at, le); break;
      case 'int16': out[f.name] = view.getInt16(at, le); break;
      case 'uint32': out[f.name] = view.getUint32(at, le); break;
      case 'int32': out[f.name] = view.getInt32(at, le); break;
      case 'float32': out[f.name] = view.getFloat32(at, le); break;
      case 'float64': out[f.name] = view.getFloat64(at, le); break;
    }
    at += size;
  }
  return undefined;
}

/** The stored context of `msg`, or undefined when it has none. */
export function securityContext(msg: SecurityMessage, def: SecurityEventDef | undefined): Readonly<Ctx> | undefined {
  if (msg.contextData === undefined && msg.sensorInstanceId === undefined && msg.idsmInstanceId === undefined) return msg.context;
  const ctx: Ctx = { ...msg.context };
  if (msg.sensorInstanceId !== undefined) ctx.sensorInstanceId = msg.sensorInstanceId;
  if (msg.idsmInstanceId !== undefined) ctx.idsmInstanceId = msg.idsmInstanceId;
  const cd = msg.contextData;
  if (cd) {
    ctx.contextData = cd.raw;
    ctx.contextDataEncoding = cd.encoding;
    ctx.contextDataLength = cd.bytes.length;
    if (def?.contextData) {
      const problem = decodeContextFields(cd.bytes, def.contextData, ctx);
      if (problem) ctx.contextDataError = problem;
    }
  }
  return ctx;
}
