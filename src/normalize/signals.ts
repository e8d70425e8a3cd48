/**
 * Signal normalization: a decoded signals message becomes rows of a columnar batch. The
 * message-level checks (VIN, time) refuse the whole message; entry-level checks (unknown
 * path, wrong type, unit, out of range, late) refuse only that entry, and the rest of the
 * message goes through. Every refusal is reported with a code, a reason and the raw entry.
 *
 * Values are stored in the catalog's unit. A sender may declare the unit it sends, per
 * sample (4th element), per message (`units`) or per source (config `sources[].units`, or
 * `InputItem.context.units`), first found wins; the value is converted with one
 * multiply-add precomputed per (unit, signal), then range-checked in the catalog's unit.
 */
import type { SignalBatchBuilder } from '../core/batch.js';
import type { SignalCatalog, SignalDef } from '../core/catalog.js';
import type { SignalsMessage } from '../decode/json.js';
import { reject, type Reject } from '../decode/reject.js';
import type { NormalizePolicy } from './policy.js';
import type { Pseudonymizer } from './pseudonym.js';
import { convert, IDENTITY, isLinear, unitOf, type Linear } from './units.js';
import { isValidVin } from './vin.js';

/** One refused entry of an otherwise accepted message. */
export interface EntryReject extends Reject {
  /** The raw entry as a one-entry wire message: `{"vin":..,"ts":..,"samples":[[path, ts, value(, unit)]]}`. */
  readonly raw: string;
}

export interface NormalizeResult {
  /** Set when the whole message is refused. */
  readonly reject?: Reject;
  readonly vehicle?: string;
  readonly rows: number;
  /** Entries deliberately dropped by policy (`unknownSignals: ignore`), counted not stored. */
  readonly ignored: number;
}

/** Longest string value, and most elements of an array value, accepted. */
export const MAX_TEXT_LENGTH = 4096;
export const MAX_ARRAY_LENGTH = 1024;
/** Vehicles whose newest event time is remembered for `late: reject`; past it the memory restarts. */
export const MAX_WATERMARKS = 2_000_000;

export class SignalNormalizer {
  /** Sent unit -> per signal id, the conversion to the catalog unit or why there is none. Known units only. */
  private readonly conversions = new Map<string, (Linear | Reject)[]>();
  /** `late: reject`: tenant -> vehicle key -> newest accepted event time. */
  private readonly watermarks = new Map<string, Map<string, number>>();
  private watermarkCount = 0;

  constructor(
    private readonly catalog: SignalCatalog,
    private readonly pseudonyms: Pseudonymizer,
    private readonly policy: NormalizePolicy,
  ) {}

  /**
   * Append the message's valid entries to `out`; refused entries are pushed to `rejects`.
   * `sourceUnits` (VSS path -> unit) applies where the message declares no unit.
   */
  normalize(
    msg: SignalsMessage,
    tenant: string,
    now: number,
    out: SignalBatchBuilder,
    rejects: EntryReject[],
    sourceUnits?: Readonly<Record<string, string>>,
  ): NormalizeResult {
    if (!isValidVin(msg.vin, { checkDigit: this.policy.vinCheckDigit })) {
      return { reject: reject('vin.invalid', `invalid VIN ${JSON.stringify(msg.vin.slice(0, 40))}`), rows: 0, ignored: 0 };
    }
    const limit = now + this.policy.maxFutureSkewMs;
    if (msg.ts > limit) {
      return { reject: reject('time.future', `event time ${msg.ts} is more than ${this.policy.maxFutureSkewMs} ms ahead of the clock (${now})`), rows: 0, ignored: 0 };
    }
    const vin = msg.vin;
    const vehicle = this.pseudonyms.key(tenant, vin);
    const v = out.vehicleIndex(vehicle);
    const msgUnits = msg.units;
    const rejectLate = this.policy.late === 'reject';
    const lateness = this.policy.latenessMs;
    const before = rejectLate ? this.watermark(tenant, vehicle) : Number.NEGATIVE_INFINITY;
    let watermark = before;
    let rows = 0;
    let ignored = 0;

    const entry = (path: string, ts: number, value: unknown, sampleUnit: string | undefined): void => {
      const def = this.catalog.get(path);
      if (def === undefined) {
        if (this.policy.unknownSignals === 'ignore') ignored++;
        else rejects.push(entryReject(vin, ts, path, value, sampleUnit ?? msgUnits?.[path], 'signal.unknown', `unknown signal ${JSON.stringify(path)}`));
        return;
      }
      let unit = sampleUnit ?? msgUnits?.[path] ?? sourceUnits?.[path];
      if (typeof unit !== 'string' || unit === def.unit) unit = undefined;
      let conv: Linear | undefined;
      if (unit !== undefined) {
        const c = this.conversion(unit, def);
        if (!isLinear(c)) return void rejects.push(entryReject(vin, ts, path, value, unit, c.code, c.reason));
        if (c !== IDENTITY) conv = c;
      }
      const bad = checkType(def, value, conv !== undefined);
      if (bad) return void rejects.push(entryReject(vin, ts, path, value, unit, bad.code, bad.reason));
      let x = Number.NaN;
      let text: string | undefined;
      if (def.numeric) {
        x = typeof value === 'boolean' ? (value ? 1 : 0) : (value as number);
        if (conv !== undefined) {
          x = x * conv.scale + conv.offset;
          if (def.integer) x = Math.round(x);
        }
        const range = checkRange(def, x, value, unit);
        if (range) return void rejects.push(entryReject(vin, ts, path, value, unit, range.code, range.reason));
      } else {
        text = typeof value === 'string' ? value : JSON.stringify(value);
      }
      if (rejectLate) {
        if (ts < watermark - lateness) {
          const reason = `event time ${ts} is ${watermark - ts} ms older than the vehicle's newest (${watermark}); the lateness window is ${lateness} ms`;
          return void rejects.push(entryReject(vin, ts, path, value, unit, 'time.late', reason));
        }
        if (ts > watermark) watermark = ts;
      }
      out.push(v, ts, def.id, x, text);
      rows++;
    };

    if (msg.signals) {
      for (const path in msg.signals) entry(path, msg.ts, msg.signals[path], undefined);
    }
    if (msg.samples) {
      for (const s of msg.samples) {
        if (!Array.isArray(s) || (s.length !== 3 && s.length !== 4) || typeof s[0] !== 'string' || (s.length === 4 && typeof s[3] !== 'string')) {
          rejects.push({ code: 'sample.shape', reason: 'a sample must be [path, ts, value] or [path, ts, value, unit]', raw: safeJson({ vin, sample: s }) });
          continue;
        }
        const ts = s[1];
        if (typeof ts !== 'number' || !Number.isFinite(ts) || ts < 0 || ts > limit) {
          rejects.push(entryReject(vin, ts, s[0], s[2], s[3], 'time.invalid', `sample time ${String(ts)} is not a valid epoch-ms time within the allowed skew`));
          continue;
        }
        entry(s[0], ts, s[2], s[3]);
      }
    }
    if (watermark > before) this.setWatermark(tenant, vehicle, watermark);
    return { vehicle, rows, ignored };
  }

  /** The conversion from `unit` to the signal's catalog unit, computed once per (unit, signal). */
  private conversion(unit: string, def: SignalDef): Linear | Reject {
    let row = this.conversions.get(unit);
    if (row === undefined) {
      // Unknown units are not cached: a sender cannot grow this map.
      if (unitOf(unit) === undefined) return convert(unit, def.unit ?? '', def.path);
      this.conversions.set(unit, (row = []));
    }
    return (row[def.id] ??= conversionOf(unit, def));
  }

  private watermark(tenant: string, vehicle: string): number {
    return this.watermarks.get(tenant)?.get(vehicle) ?? Number.NEGATIVE_INFINITY;
  }

  private setWatermark(tenant: string, vehicle: string, t: number): void {
    let m = this.watermarks.get(tenant);
    if (m === undefined) this.watermarks.set(tenant, (m = new Map()));
    if (!m.has(vehicle) && ++this.watermarkCount > MAX_WATERMARKS) {
      this.watermarks.clear();
      this.watermarkCount = 1;
      this.watermarks.set(tenant, (m = new Map()));
    }
    m.set(vehicle, t);
  }
}

function conversionOf(unit: string, def: SignalDef): Linear | Reject {
  if (def.unit === undefined) return reject('unit.incompatible', `${def.path} has no unit; ${unit} does not apply to it`);
  const c = convert(unit, def.unit, def.path);
  if (isLinear(c) && c !== IDENTITY && !def.numeric) {
    return reject('unit.incompatible', `${def.path} (${def.datatype}) is not converted; send it in ${def.unit}`);
  }
  return c;
}

/** The value's type against the signal's datatype; `converted` values need not be integers yet (they are rounded after). */
function checkType(def: SignalDef, value: unknown, converted: boolean): Reject | undefined {
  if (def.numeric) {
    if (def.datatype === 'boolean') {
      return typeof value === 'boolean' ? undefined : reject('value.type', `${def.path} expects a boolean, got ${typeName(value)}`);
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return reject('value.type', `${def.path} expects a finite number, got ${typeName(value)}`);
    }
    if (def.integer && !converted && !Number.isInteger(value)) return reject('value.type', `${def.path} expects an integer (${def.datatype}), got ${value}`);
    return undefined;
  }
  if (def.datatype.endsWith('[]')) return checkArray(def, value);
  if (typeof value !== 'string') return reject('value.type', `${def.path} expects a string, got ${typeName(value)}`);
  if (value.length > MAX_TEXT_LENGTH) return reject('value.too_long', `${def.path} string of ${value.length} characters exceeds ${MAX_TEXT_LENGTH}`);
  if (def.allowed && !def.allowed.includes(value)) return notAllowed(def, JSON.stringify(value.slice(0, 64)));
  return undefined;
}

/** Numeric value (in the catalog unit) against the catalog's min/max and allowed values. */
function checkRange(def: SignalDef, x: number, sent: unknown, unit: string | undefined): Reject | undefined {
  const outside = (def.min !== undefined && x < def.min) || (def.max !== undefined && x > def.max);
  if (!outside && (!def.allowed || def.allowed.includes(x))) return undefined;
  const shown = unit === undefined ? `${x}` : `${x}${def.unit ? ` ${def.unit}` : ''} (sent ${String(sent)} ${unit})`;
  if (outside) return reject('value.out_of_range', `${def.path} = ${shown} is outside [${def.min ?? '-inf'}, ${def.max ?? 'inf'}]${def.unit ? ` ${def.unit}` : ''}`);
  return notAllowed(def, shown);
}

/** Array datatypes (`uint8[]`, `string[]`, ...): every element has the element type, range and allowed values. */
function checkArray(def: SignalDef, value: unknown): Reject | undefined {
  if (!Array.isArray(value)) return reject('value.type', `${def.path} expects an array, got ${typeName(value)}`);
  if (value.length > MAX_ARRAY_LENGTH) return reject('value.too_long', `${def.path} array of ${value.length} elements exceeds ${MAX_ARRAY_LENGTH}`);
  const element = def.datatype.slice(0, -2);
  const bits = /^u?int(8|16|32|64)$/.exec(element)?.[1];
  const integer = bits !== undefined;
  const [lo, hi] = integer ? integerRange(element.startsWith('u'), Number(bits)) : [-Infinity, Infinity];
  const min = Math.max(def.min ?? -Infinity, lo);
  const max = Math.min(def.max ?? Infinity, hi);
  for (let i = 0; i < value.length; i++) {
    const e: unknown = value[i];
    const ok =
      element === 'string' ? typeof e === 'string' && e.length <= MAX_TEXT_LENGTH
      : element === 'boolean' ? typeof e === 'boolean'
      : typeof e === 'number' && Number.isFinite(e) && (!integer || Number.isInteger(e));
    if (!ok) return reject('value.type', `${def.path}[${i}] expects ${element}, got ${typeName(e)}`);
    if (typeof e === 'number' && (e < min || e > max)) return reject('value.out_of_range', `${def.path}[${i}] = ${e} is outside [${min}, ${max}]`);
    if (def.allowed && !def.allowed.includes(e as string | number)) return notAllowed(def, `${JSON.stringify(e)} at [${i}]`);
  }
  return undefined;
}

/** The range of an integer element type; 64-bit types are held to safe integers. */
function integerRange(unsigned: boolean, bits: number): [number, number] {
  if (bits === 64) return [unsigned ? 0 : Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
  return unsigned ? [0, 2 ** bits - 1] : [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1];
}

const notAllowed = (def: SignalDef, shown: string): Reject =>
  reject('value.not_allowed', `${def.path} = ${shown} is not one of ${def.allowed!.slice(0, 8).join(', ')}${def.allowed!.length > 8 ? ', ...' : ''}`);

const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** The refused entry as a one-entry wire message (with the unit it was sent in), so `vigil dlq replay` can send it again as it is. */
function entryReject(vin: string, ts: unknown, path: string, value: unknown, unit: unknown, code: string, reason: string): EntryReject {
  const sample = typeof unit === 'string' ? [path, ts, value, unit] : [path, ts, value];
  return { code, reason, raw: safeJson({ vin, ts, samples: [sample] }) };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? 'undefined';
  } catch {
    return String(v);
  }
}
