/**
 * Signal normalization: a decoded signals message becomes rows of a columnar batch. The
 * message-level checks (VIN, time) refuse the whole message; entry-level checks (unknown
 * path, wrong type, out of range) refuse only that entry, and the rest of the message
 * goes through. Every refusal is reported with a code, a reason and the raw entry.
 */
import type { SignalBatchBuilder } from '../core/batch.js';
import type { SignalCatalog, SignalDef } from '../core/catalog.js';
import type { SignalsMessage } from '../decode/json.js';
import { reject, type Reject } from '../decode/reject.js';
import type { NormalizePolicy } from './policy.js';
import type { Pseudonymizer } from './pseudonym.js';
import { isValidVin } from './vin.js';

/** One refused entry of an otherwise accepted message. */
export interface EntryReject extends Reject {
  /** The raw entry as a one-entry wire message: `{"vin":..,"ts":..,"samples":[[path, ts, value]]}`. */
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

export class SignalNormalizer {
  constructor(
    private readonly catalog: SignalCatalog,
    private readonly pseudonyms: Pseudonymizer,
    private readonly policy: NormalizePolicy,
  ) {}

  /** Append the message's valid entries to `out`; refused entries are pushed to `rejects`. */
  normalize(
    msg: SignalsMessage,
    tenant: string,
    now: number,
    out: SignalBatchBuilder,
    rejects: EntryReject[],
  ): NormalizeResult {
    if (!isValidVin(msg.vin, { checkDigit: this.policy.vinCheckDigit })) {
      return { reject: reject('vin.invalid', `invalid VIN ${JSON.stringify(msg.vin.slice(0, 40))}`), rows: 0, ignored: 0 };
    }
    const limit = now + this.policy.maxFutureSkewMs;
    if (msg.ts > limit) {
      return { reject: reject('time.future', `event time ${msg.ts} is more than ${this.policy.maxFutureSkewMs} ms ahead of the clock (${now})`), rows: 0, ignored: 0 };
    }
    const vehicle = this.pseudonyms.key(tenant, msg.vin);
    const v = out.vehicleIndex(vehicle);
    let rows = 0;
    let ignored = 0;
    const entry = (path: string, ts: number, value: unknown): void => {
      const def = this.catalog.get(path);
      if (def === undefined) {
        if (this.policy.unknownSignals === 'ignore') ignored++;
        else rejects.push(entryReject(msg.vin, ts, path, value, 'signal.unknown', `unknown signal ${JSON.stringify(path)}`));
        return;
      }
      const bad = check(def, value);
      if (bad) {
        rejects.push(entryReject(msg.vin, ts, path, value, bad.code, bad.reason));
        return;
      }
      if (def.numeric) out.push(v, ts, def.id, typeof value === 'boolean' ? (value ? 1 : 0) : (value as number));
      else out.push(v, ts, def.id, Number.NaN, typeof value === 'string' ? value : JSON.stringify(value));
      rows++;
    };
    if (msg.signals) {
      for (const path in msg.signals) entry(path, msg.ts, msg.signals[path]);
    }
    if (msg.samples) {
      for (const s of msg.samples) {
        if (!Array.isArray(s) || s.length !== 3 || typeof s[0] !== 'string') {
          rejects.push({ code: 'sample.shape', reason: 'a sample must be [path, ts, value]', raw: safeJson({ vin: msg.vin, sample: s }) });
          continue;
        }
        const ts = s[1];
        if (typeof ts !== 'number' || !Number.isFinite(ts) || ts < 0 || ts > limit) {
          rejects.push(entryReject(msg.vin, ts, s[0], s[2], 'time.invalid', `sample time ${String(ts)} is not a valid epoch-ms time within the allowed skew`));
          continue;
        }
        entry(s[0], ts, s[2]);
      }
    }
    return { vehicle, rows, ignored };
  }
}

function check(def: SignalDef, value: unknown): Reject | undefined {
  if (def.numeric) {
    if (def.datatype === 'boolean') {
      return typeof value === 'boolean' ? undefined : reject('value.type', `${def.path} expects a boolean, got ${typeName(value)}`);
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return reject('value.type', `${def.path} expects a finite number, got ${typeName(value)}`);
    }
    if (def.integer && !Number.isInteger(value)) return reject('value.type', `${def.path} expects an integer (${def.datatype}), got ${value}`);
    if ((def.min !== undefined && value < def.min) || (def.max !== undefined && value > def.max)) {
      return reject('value.out_of_range', `${def.path} = ${value} is outside [${def.min ?? '-inf'}, ${def.max ?? 'inf'}]${def.unit ? ` ${def.unit}` : ''}`);
    }
    if (def.allowed && !def.allowed.includes(value)) return reject('value.not_allowed', `${def.path} = ${value} is not one of the allowed values`);
    return undefined;
  }
  if (def.datatype.endsWith('[]')) {
    return Array.isArray(value) ? undefined : reject('value.type', `${def.path} expects an array, got ${typeName(value)}`);
  }
  if (typeof value !== 'string') return reject('value.type', `${def.path} expects a string, got ${typeName(value)}`);
  if (value.length > 4096) return reject('value.too_long', `${def.path} string of ${value.length} characters exceeds 4096`);
  if (def.allowed && !def.allowed.includes(value)) {
    return reject('value.not_allowed', `${def.path} = ${JSON.stringify(value.slice(0, 64))} is not one of ${def.allowed.slice(0, 8).join(', ')}${def.allowed.length > 8 ? ', ...' : ''}`);
  }
  return undefined;
}

const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** The refused entry as a one-entry wire message, so `vigil dlq replay` can send it again as it is. */
function entryReject(vin: string, ts: unknown, path: string, value: unknown, code: string, reason: string): EntryReject {
  return { code, reason, raw: safeJson({ vin, ts, samples: [[path, ts, value]] }) };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? 'undefined';
  } catch {
    return String(v);
  }
}
