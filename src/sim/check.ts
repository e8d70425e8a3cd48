/**
 * A self-check of simulator output against a catalog, independent of the ingest path: is
 * every entry of a signals message a known signal with a value of the right type, inside
 * min/max and among the allowed values? Used by the tests and by `vigil simulate` users
 * who want to be sure the generator did not drift from the catalog.
 */
import type { SignalCatalog, SignalDef } from '../core/catalog.js';
import { isValidVin } from '../normalize/vin.js';

export interface CheckProblem {
  readonly code: 'json.malformed' | 'vin.invalid' | 'signal.unknown' | 'value.type' | 'value.out_of_range' | 'value.not_allowed' | 'shape';
  readonly path?: string;
  readonly detail: string;
}

/** Every problem of one signals wire message (empty when it would be accepted in full). */
export function checkSignalsMessage(catalog: SignalCatalog, payload: string, vinCheckDigit = true): CheckProblem[] {
  let msg: unknown;
  try {
    msg = JSON.parse(payload);
  } catch (e) {
    return [{ code: 'json.malformed', detail: (e as Error).message }];
  }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) return [{ code: 'shape', detail: 'not an object' }];
  const m = msg as { vin?: unknown; ts?: unknown; seq?: unknown; signals?: unknown; samples?: unknown };
  const out: CheckProblem[] = [];
  if (typeof m.vin !== 'string' || !isValidVin(m.vin, { checkDigit: vinCheckDigit })) out.push({ code: 'vin.invalid', detail: String(m.vin) });
  if (typeof m.ts !== 'number' || !Number.isFinite(m.ts)) out.push({ code: 'shape', detail: '`ts` is not a number' });
  if (m.seq !== undefined && !Number.isSafeInteger(m.seq)) out.push({ code: 'shape', detail: '`seq` is not an integer' });
  const entry = (path: string, value: unknown): void => {
    const def = catalog.get(path);
    if (!def) out.push({ code: 'signal.unknown', path, detail: path });
    else {
      const p = checkValue(def, value);
      if (p) out.push(p);
    }
  };
  if (m.signals !== undefined) {
    if (m.signals === null || typeof m.signals !== 'object' || Array.isArray(m.signals)) out.push({ code: 'shape', detail: '`signals` is not an object' });
    else for (const [path, value] of Object.entries(m.signals)) entry(path, value);
  }
  if (m.samples !== undefined) {
    if (!Array.isArray(m.samples)) out.push({ code: 'shape', detail: '`samples` is not an array' });
    else {
      for (const s of m.samples) {
        if (!Array.isArray(s) || s.length !== 3 || typeof s[0] !== 'string' || typeof s[1] !== 'number') out.push({ code: 'shape', detail: `bad sample ${JSON.stringify(s)}` });
        else entry(s[0], s[2]);
      }
    }
  }
  return out;
}

function checkValue(def: SignalDef, value: unknown): CheckProblem | undefined {
  const path = def.path;
  if (def.datatype === 'boolean') return typeof value === 'boolean' ? undefined : { code: 'value.type', path, detail: `expects boolean, got ${typeof value}` };
  if (def.numeric) {
    if (typeof value !== 'number' || !Number.isFinite(value)) return { code: 'value.type', path, detail: `expects a number, got ${typeof value}` };
    if (def.integer && !Number.isInteger(value)) return { code: 'value.type', path, detail: `${def.datatype} expects an integer, got ${value}` };
    if ((def.min !== undefined && value < def.min) || (def.max !== undefined && value > def.max)) {
      return { code: 'value.out_of_range', path, detail: `${value} outside [${def.min}, ${def.max}]` };
    }
  } else if (typeof value !== 'string') return { code: 'value.type', path, detail: `expects a string, got ${typeof value}` };
  if (def.allowed && !def.allowed.includes(value as string | number)) return { code: 'value.not_allowed', path, detail: String(value) };
  return undefined;
}
