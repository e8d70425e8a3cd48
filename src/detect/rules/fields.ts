/**
 * Selections compiled to predicates. A selection maps `field|modifier` to a value (a list:
 * any of them); its fields are ANDed, a list of maps is ORed. Field names are checked here,
 * at load, against the source's fields, so a misspelt field is a problem, not a silent miss.
 *
 * Fields: signals `value`, `text`, `path`, `vehicle`; security `name`, `eventId`, `sensor`,
 * `count`, `severity`, `vehicle`, `tags`, `context.<key>`; api `service`, `endpoint`,
 * `method`, `status`, `actor`, `ip`, `ua`, `vehicle`, `detail.<key>`; alert `rule`, `title`,
 * `severity`, `vehicle`, `tags`, `details.<key>`. A signal rule on one leaf also has `previous`
 * (the vehicle's last sample of that signal before this one) and `delta` (value - previous). Any kind: `state.<VSS path>`, the
 * vehicle's last value of that signal when it is at most `state-max-age` older than the event.
 */
import type { SignalCatalog } from '../../core/catalog.js';
import type { Alert, ApiEvent, SecurityEvent } from '../../core/records.js';
import type { EventCtx, Getter, Pred, SourceKind } from './context.js';
import type { Selection } from './schema.js';

export const MODIFIERS = ['gt', 'gte', 'lt', 'lte', 'contains', 'startswith', 'endswith', 're', 'exists', 'cidr'] as const;
type Modifier = (typeof MODIFIERS)[number];

/** What field compilation needs from the compiler. */
export interface FieldEnv {
  readonly catalog: SignalCatalog;
  /** The state slot of a signal path (registering it); undefined when the catalog lacks it. */
  slot(path: string): number | undefined;
  readonly stateMaxAgeMs: number;
  /** Paths the rule reads that the catalog lacks. */
  readonly missing: Set<string>;
  /** The signal a signal port triggers on, when it is one leaf: `previous` and `delta` need it. */
  readonly leaf?: string;
}

type Scalar = string | number | boolean | null;

const sec = (c: EventCtx): SecurityEvent => c.record as SecurityEvent;
const api = (c: EventCtx): ApiEvent => c.record as ApiEvent;
const alert = (c: EventCtx): Alert => c.record as Alert;

const RECORD_FIELDS: Record<Exclude<SourceKind, 'signals'>, Record<string, Getter>> = {
  security: {
    name: (c) => sec(c).name,
    eventId: (c) => sec(c).eventId,
    sensor: (c) => sec(c).sensor,
    count: (c) => sec(c).count,
    severity: (c) => sec(c).severity,
    vehicle: (c) => sec(c).vehicle,
    tags: (c) => sec(c).tags,
    source: (c) => sec(c).source,
  },
  api: {
    service: (c) => api(c).service,
    endpoint: (c) => api(c).endpoint,
    method: (c) => api(c).method,
    status: (c) => api(c).status,
    actor: (c) => api(c).actor,
    ip: (c) => api(c).sourceIp,
    ua: (c) => api(c).userAgent,
    vehicle: (c) => api(c).vehicle,
    source: (c) => api(c).source,
  },
  alert: {
    rule: (c) => alert(c).rule,
    title: (c) => alert(c).title,
    severity: (c) => alert(c).severity,
    vehicle: (c) => alert(c).vehicle,
    tags: (c) => alert(c).tags,
  },
};
const NESTED: Partial<Record<SourceKind, (c: EventCtx) => Readonly<Record<string, unknown>> | undefined>> = {
  security: (c) => sec(c).context,
  api: (c) => api(c).detail,
  alert: (c) => alert(c).details,
};
const NESTED_PREFIX: Partial<Record<SourceKind, string>> = { security: 'context.', api: 'detail.', alert: 'details.' };

/** The fields a source kind offers, for problem messages. */
export function fieldNames(kind: SourceKind): string[] {
  if (kind === 'signals') return ['value', 'text', 'path', 'vehicle', 'previous', 'delta', 'state.<path>'];
  return [...Object.keys(RECORD_FIELDS[kind]), `${NESTED_PREFIX[kind]}<key>`, 'state.<path>'];
}

/** A getter for a field of a source kind; throws Error with a reason when there is none. */
export function fieldGetter(kind: SourceKind, field: string, env: FieldEnv): Getter {
  if (field.startsWith('state.')) {
    const path = field.slice(6);
    const slot = env.slot(path);
    if (slot === undefined) {
      env.missing.add(path);
      return () => undefined;
    }
    const maxAge = env.stateMaxAgeMs;
    return (c) => {
      const v = c.vehicle;
      if (v === undefined) return undefined;
      const t = v.time(slot);
      return c.time - t <= maxAge && t - c.time <= maxAge ? v.value(slot) : undefined;
    };
  }
  if (kind === 'signals') {
    if (field === 'value') return (c) => c.text ?? c.value;
    if (field === 'text') return (c) => c.text;
    if (field === 'vehicle') return (c) => c.vehicle?.id;
    if (field === 'path') return (c) => env.catalog.byIdOf(c.signal)?.path;
    if (field === 'previous' || field === 'delta') {
      if (env.leaf === undefined) throw new Error(`${field} needs a source that is one numeric signal, not a branch`);
      const slot = env.slot(env.leaf)!;
      // Runs before the row updates the slot: the slot still holds the previous sample.
      if (field === 'previous') return (c) => (c.vehicle && !Number.isNaN(c.vehicle.time(slot)) ? c.vehicle.value(slot) : undefined);
      return (c) => (c.vehicle && !Number.isNaN(c.vehicle.time(slot)) ? c.value - c.vehicle.value(slot) : undefined);
    }
    throw new Error(`unknown field "${field}" for signals (fields: ${fieldNames(kind).join(', ')})`);
  }
  const direct = RECORD_FIELDS[kind][field];
  if (direct) return direct;
  const prefix = NESTED_PREFIX[kind]!;
  if (field.startsWith(prefix) && field.length > prefix.length) {
    const key = field.slice(prefix.length);
    const nested = NESTED[kind]!;
    return (c) => nested(c)?.[key];
  }
  throw new Error(`unknown field "${field}" for ${kind} (fields: ${fieldNames(kind).join(', ')})`);
}

/** Compile one selection; `problem` collects what is wrong (the predicate is then unusable). */
export function compileSelection(kind: SourceKind, sel: Selection, env: FieldEnv, problem: (msg: string) => void): Pred {
  const maps = Array.isArray(sel) ? sel : [sel];
  const alternatives = maps.map((m) => {
    const preds: Pred[] = [];
    for (const [key, raw] of Object.entries(m)) {
      const [field, modifier, ...extra] = key.split('|');
      if (extra.length || (modifier !== undefined && !(MODIFIERS as readonly string[]).includes(modifier))) {
        problem(`${key}: unknown modifier (modifiers: ${MODIFIERS.join(', ')})`);
        continue;
      }
      try {
        preds.push(fieldPredicate(kind, field!, modifier as Modifier | undefined, raw, env));
      } catch (e) {
        problem(`${key}: ${(e as Error).message}`);
      }
    }
    if (Object.keys(m).length === 0) problem('a selection needs at least one field');
    return all(preds);
  });
  return alternatives.length === 1 ? alternatives[0]! : (c) => alternatives.some((p) => p(c));
}

function all(preds: Pred[]): Pred {
  if (preds.length === 1) return preds[0]!;
  if (preds.length === 2) {
    const [a, b] = preds as [Pred, Pred];
    return (c) => a(c) && b(c);
  }
  return (c) => preds.every((p) => p(c));
}

function fieldPredicate(kind: SourceKind, field: string, mod: Modifier | undefined, raw: Scalar | Scalar[], env: FieldEnv): Pred {
  const values = Array.isArray(raw) ? raw : [raw];
  if (values.length === 0) throw new Error('an empty list matches nothing');
  // Signal paths are resolved to catalog ids now: the row test is one array read.
  if (kind === 'signals' && field === 'path') return pathPredicate(mod, values, env);
  const get = fieldGetter(kind, field, env);
  if (kind === 'signals' && field === 'value' && mod !== undefined && ['gt', 'gte', 'lt', 'lte'].includes(mod)) {
    const n = single(values, mod);
    if (mod === 'gt') return (c) => c.value > n;
    if (mod === 'gte') return (c) => c.value >= n;
    if (mod === 'lt') return (c) => c.value < n;
    return (c) => c.value <= n;
  }
  const test = valueTest(mod, values);
  return (c) => {
    const v = get(c);
    return Array.isArray(v) ? v.some(test) : test(v);
  };
}

function single(values: Scalar[], mod: string): number {
  const n = values[0];
  if (values.length !== 1 || typeof n !== 'number') throw new Error(`|${mod} takes one number`);
  return n;
}

function str(values: Scalar[], mod: string): string[] {
  if (values.some((v) => typeof v !== 'string')) throw new Error(`|${mod} takes strings`);
  return values as string[];
}

/** A test of one field value against the selection's values. */
function valueTest(mod: Modifier | undefined, values: Scalar[]): (v: unknown) => boolean {
  switch (mod) {
    case undefined: {
      const nums = values.filter((v) => typeof v === 'number' || typeof v === 'boolean').map(Number);
      const strs = new Set(values.filter((v): v is string => typeof v === 'string'));
      const wantsNull = values.includes(null);
      return (v) => (typeof v === 'number' ? nums.includes(v) : typeof v === 'boolean' ? nums.includes(Number(v)) : typeof v === 'string' ? strs.has(v) : wantsNull && v == null);
    }
    case 'gt': case 'gte': case 'lt': case 'lte': {
      const n = single(values, mod);
      const cmp = { gt: (v: number) => v > n, gte: (v: number) => v >= n, lt: (v: number) => v < n, lte: (v: number) => v <= n }[mod];
      return (v) => typeof v === 'number' && cmp(v);
    }
    case 'contains': {
      const s = str(values, mod);
      return (v) => typeof v === 'string' && s.some((x) => v.includes(x));
    }
    case 'startswith': {
      const s = str(values, mod);
      return (v) => typeof v === 'string' && s.some((x) => v.startsWith(x));
    }
    case 'endswith': {
      const s = str(values, mod);
      return (v) => typeof v === 'string' && s.some((x) => v.endsWith(x));
    }
    case 're': {
      const res = str(values, mod).map((x) => {
        try {
          return new RegExp(x);
        } catch (e) {
          throw new Error(`bad regular expression: ${(e as Error).message}`);
        }
      });
      return (v) => typeof v === 'string' && res.some((r) => r.test(v));
    }
    case 'exists': {
      if (values.length !== 1 || typeof values[0] !== 'boolean') throw new Error('|exists takes true or false');
      const want = values[0];
      return (v) => (v !== undefined && v !== null) === want;
    }
    case 'cidr': {
      const nets = str(values, mod).map(parseCidr);
      return (v) => {
        const ip = typeof v === 'string' ? ipv4(v) : undefined;
        return ip !== undefined && nets.some(([net, mask]) => ((ip & mask) >>> 0) === net);
      };
    }
  }
}

function pathPredicate(mod: Modifier | undefined, values: Scalar[], env: FieldEnv): Pred {
  const test = valueTest(mod, values);
  const mask = new Uint8Array(env.catalog.idLimit);
  for (const def of env.catalog) if (test(def.path)) mask[def.id] = 1;
  if (mod === undefined) for (const v of values) if (typeof v === 'string' && !env.catalog.has(v)) env.missing.add(v);
  return (c) => mask[c.signal] === 1;
}

function ipv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function parseCidr(s: string): [number, number] {
  const [addr, bits = '32'] = s.split('/');
  const ip = ipv4(addr ?? '');
  const n = Number(bits);
  if (ip === undefined || !Number.isInteger(n) || n < 0 || n > 32) throw new Error(`"${s}" is not an IPv4 CIDR block`);
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  return [(ip & mask) >>> 0, mask];
}
