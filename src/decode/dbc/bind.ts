/**
 * A DBC, a mapping file and the signal catalog, bound once into a `CanBinding` that turns raw
 * frame batches into VSS signal rows: decode every frame (decoder.ts), keep the rows of mapped
 * signals, convert them (scale and offset, unit, value table), check them as normalize checks
 * any signal (type, catalog min/max, allowed values, event time), and append the good ones to
 * a columnar batch. Refused values are grouped per target and reason, with the frames they
 * came from; nothing here allocates per row on the accepted path.
 *
 * Binding problems (a signal the DBC lacks, a path the catalog lacks, a value that cannot be
 * the VSS type, units that do not convert) are all reported at once, each with its place.
 */
import type { SignalBatchBuilder } from '../../core/batch.js';
import type { CanFrameBatch } from '../../core/can.js';
import type { SignalCatalog, SignalDef } from '../../core/catalog.js';
import { compileDbc, emptyRows, type CompileOptions, type DbcDecoder, type DecodedRows } from './decoder.js';
import { parseCanMapping, parseSignalRef, type CanMapping, type CanMappingEntry, type VssValue } from './mapping.js';
import { formatDiagnostic, type DbcDatabase } from './model.js';
import { parseDbc } from './parser.js';
import { prepare, type DecoderSignal } from './prepare.js';
import { knownUnit, unitConversion } from './units.js';

/** A DBC and its mapping as text: what the composition root reads and a worker thread compiles. */
export interface CanBindingSource {
  readonly dbcFile: string;
  readonly dbcText: string;
  readonly mappingFile: string;
  readonly mappingText: string;
}

/** A mapped value, ready for a batch: numeric (booleans as 0/1) or text. */
interface Out {
  readonly value: number;
  readonly text?: string;
}

interface Target {
  readonly def: SignalDef;
  /** `Message.Signal -> VSS path`, for reasons. */
  readonly label: string;
  /** `Message.Signal`. */
  readonly source: string;
  /** value * mul + add: the entry's scale and offset, then the unit conversion. */
  readonly mul: number;
  readonly add: number;
  readonly round: boolean;
  readonly bool: boolean;
  /** Physical DBC values that mean "not available". */
  readonly ignore?: ReadonlySet<number>;
  /** Physical DBC value -> VSS value. */
  readonly values?: ReadonlyMap<number, Out>;
  readonly fallback?: Out;
  /** The next target fed by the same DBC signal. */
  next?: Target;
}

/** Values refused for one target and one reason in one batch, with the frames they came from. */
export interface RefusedValues {
  readonly code: string;
  /** The first refusal's reason, with the count. */
  readonly reason: string;
  readonly count: number;
  /** Frame indices in the batch. */
  readonly frames: readonly number[];
}

export interface MapResult {
  /** Rows appended to the batch. */
  readonly rows: number;
  /** Frames whose id the DBC does not define. */
  readonly unknownFrames: number;
  /** Frames shorter than their message (only the signals that fit were decoded). */
  readonly shortFrames: number;
  /** Values dropped because the mapping says they mean "not available" (intentional, counted). */
  readonly ignored: number;
  readonly refused: readonly RefusedValues[];
}

export class CanBinding {
  /** Per decoder signal index: the first target it feeds, if any. */
  private readonly targets: (Target | undefined)[];
  private rows: DecodedRows = emptyRows(8192);

  constructor(
    readonly decoder: DbcDecoder,
    targets: readonly (readonly [number, Target])[],
    readonly mappedSignals: number,
  ) {
    this.targets = new Array<Target | undefined>(decoder.signals.length);
    for (const [index, t] of targets) {
      let last = this.targets[index];
      if (!last) this.targets[index] = t;
      else {
        while (last.next) last = last.next;
        last.next = t;
      }
    }
  }

  /**
   * Decode `batch` and append the mapped, checked values of vehicle `vehicle` (an index into
   * `out`'s dictionary) to `out`. Rows timed after `maxTime` are refused as `time.future`.
   */
  map(batch: CanFrameBatch, out: SignalBatchBuilder, vehicle: number, maxTime: number): MapResult {
    const stats = this.decoder.stats;
    const unknown0 = stats.unknownFrames;
    const short0 = stats.shortFrames;
    const rows = (this.rows = this.decoder.decodeBatch(batch, this.rows));
    const { frame, signal, value } = rows;
    const time = batch.time;
    const targets = this.targets;
    let appended = 0;
    let ignored = 0;
    const refused = new Map<string, { code: string; reason: string; count: number; frames: number[] }>();
    const refuse = (label: string, f: number, code: string, reason: string): void => {
      const key = `${label}\n${code}`;
      let r = refused.get(key);
      if (!r) refused.set(key, (r = { code, reason, count: 0, frames: [] }));
      r.count++;
      if (r.frames[r.frames.length - 1] !== f) r.frames.push(f);
    };
    for (let k = 0; k < rows.size; k++) {
      let t = targets[signal[k]!];
      if (t === undefined) continue;
      const f = frame[k]!;
      const ts = time[f]!;
      const phys = value[k]!;
      if (ts > maxTime) {
        for (; t !== undefined; t = t.next) refuse('', f, 'time.future', `event time ${ts} of frame ${f} is more than the allowed skew ahead of the clock (${maxTime})`);
        continue;
      }
      for (; t !== undefined; t = t.next) {
        if (t.ignore?.has(phys)) {
          ignored++;
          continue;
        }
        if (t.values) {
          const o = t.values.get(phys) ?? t.fallback;
          if (o === undefined) {
            refuse(t.label, f, 'value.unmapped', `${t.label}: raw value ${raw(this.decoder.signals[signal[k]!]!, phys)} is not in the mapping's values and there is no default`);
            continue;
          }
          out.push(vehicle, ts, t.def.id, o.value, o.text);
          appended++;
          continue;
        }
        let v = phys * t.mul + t.add;
        const def = t.def;
        if (!Number.isFinite(v)) {
          refuse(t.label, f, 'value.type', `${def.path} expects a finite number, got ${v} (from ${t.source})`);
          continue;
        }
        if (t.bool) v = v !== 0 ? 1 : 0;
        else {
          if (t.round) v = Math.round(v);
          if ((def.min !== undefined && v < def.min) || (def.max !== undefined && v > def.max)) {
            refuse(t.label, f, 'value.out_of_range', `${def.path} = ${v} is outside [${def.min ?? '-inf'}, ${def.max ?? 'inf'}]${def.unit ? ` ${def.unit}` : ''} (from ${t.source})`);
            continue;
          }
          if (def.allowed && !def.allowed.includes(v)) {
            refuse(t.label, f, 'value.not_allowed', `${def.path} = ${v} is not one of the allowed values`);
            continue;
          }
        }
        out.push(vehicle, ts, t.def.id, v);
        appended++;
      }
    }
    const groups: RefusedValues[] = [];
    for (const r of refused.values()) {
      groups.push({ ...r, reason: r.count > 1 ? `${r.reason} (and ${r.count - 1} more like it in this batch)` : r.reason });
    }
    return { rows: appended, unknownFrames: stats.unknownFrames - unknown0, shortFrames: stats.shortFrames - short0, ignored, refused: groups };
  }
}

/** The raw value behind a physical one, for messages. */
function raw(s: DecoderSignal, phys: number): number {
  return Math.round(((phys - s.offset) / s.factor) * 1e6) / 1e6;
}

/** A signal's physical value for raw value `r`, computed exactly as the decoders compute it. */
function physical(s: DecoderSignal, r: number): number {
  let v = r;
  if (s.factor !== 1) v *= s.factor;
  if (s.offset !== 0) v += s.offset;
  return v;
}

/** Find the decoder signal a `signal:` reference names. */
function resolve(signals: readonly DecoderSignal[], keys: ReadonlyMap<string, DecoderSignal>, ref: string): DecoderSignal | string {
  const r = parseSignalRef(ref);
  if (r.message !== undefined) {
    const hit = keys.get(`${r.message}.${r.signal}`);
    if (hit) return hit;
    return signals.some((s) => s.message === r.message)
      ? `message ${r.message} has no signal ${r.signal}`
      : `the DBC has no message named ${r.message}`;
  }
  const id = r.id!;
  const inMessage = signals.filter((s) => s.messageId === id || s.messageId === (id | 0x80000000) >>> 0);
  const hit = inMessage.find((s) => s.name === r.signal);
  if (hit) return hit;
  return inMessage.length ? `message ${inMessage[0]!.message} (0x${id.toString(16).toUpperCase()}) has no signal ${r.signal}` : `the DBC has no message with id ${ref.split('.')[0]} (or it has no signals)`;
}

/** A mapping output as a batch value for `def`, or the problem with it. */
function outputFor(def: SignalDef, v: VssValue): Out | string {
  if (def.datatype === 'boolean') return typeof v === 'boolean' ? { value: v ? 1 : 0 } : `${def.path} is boolean: expected true or false, got ${JSON.stringify(v)}`;
  if (def.numeric) {
    if (typeof v !== 'number') return `${def.path} is ${def.datatype}: expected a number, got ${JSON.stringify(v)}`;
    if (def.integer && !Number.isInteger(v)) return `${def.path} is ${def.datatype}: expected an integer, got ${v}`;
    if ((def.min !== undefined && v < def.min) || (def.max !== undefined && v > def.max)) return `${def.path} = ${v} is outside [${def.min ?? '-inf'}, ${def.max ?? 'inf'}]`;
    if (def.allowed && !def.allowed.includes(v)) return `${def.path} = ${v} is not one of the allowed values`;
    return { value: v };
  }
  if (typeof v !== 'string') return `${def.path} is ${def.datatype}: expected a string, got ${JSON.stringify(v)}`;
  if (def.allowed && !def.allowed.includes(v)) return `${def.path} = ${JSON.stringify(v)} is not one of ${def.allowed.join(', ')}`;
  return { value: Number.NaN, text: v };
}

/**
 * Bind a parsed mapping to a DBC and a catalog; every problem is reported. The binding's
 * decoder extracts only the mapped signals (and the switches they depend on).
 */
export function bindCanMapping(mapping: CanMapping, db: DbcDatabase, catalog: SignalCatalog, options: CompileOptions = {}): { binding?: CanBinding; problems: string[] } {
  const problems: string[] = [];
  const targets: [number, Target][] = [];
  const { signals } = prepare(db);
  const keys = new Map(signals.map((s) => [s.key, s]));
  mapping.signals.forEach((e: CanMappingEntry, i) => {
    const at = (key: string): string => `${e.at}: signals.${i}.${key}`;
    const before = problems.length;
    const sig = resolve(signals, keys, e.signal);
    if (typeof sig === 'string') problems.push(`${at('signal')}: ${e.signal}: ${sig}`);
    const def = catalog.get(e.path);
    if (!def) problems.push(`${at('path')}: ${e.path} is not in the signal catalog`);
    else if (def.datatype.endsWith('[]')) problems.push(`${at('path')}: ${e.path} is an array (${def.datatype}); a CAN signal cannot feed it`);
    else if (!def.numeric && !e.values) problems.push(`${at('path')}: ${e.path} is a ${def.datatype}; map the DBC values to its values with \`values\``);
    if (problems.length > before || typeof sig === 'string' || !def) return;
    const label = `${sig.key} -> ${def.path}`;
    const ignore = e.ignore?.length ? new Set(e.ignore.map((r) => physical(sig, r))) : undefined;
    if (e.values) {
      const values = new Map<number, Out>();
      for (const [key, v] of Object.entries(e.values)) {
        const rawValue = /^-?\d+$|^0x[0-9a-f]+$/i.test(key) ? Number(key) : [...(sig.values ?? [])].find(([, label]) => label === key)?.[0];
        const o = outputFor(def, v);
        if (rawValue === undefined) problems.push(`${at(`values.${key}`)}: ${key} is neither an integer nor a value label of ${sig.key}${sig.values ? ` (labels: ${[...sig.values.values()].slice(0, 8).join(', ')})` : ''}`);
        else if (typeof o === 'string') problems.push(`${at(`values.${key}`)}: ${o}`);
        else values.set(physical(sig, rawValue), o);
      }
      let fallback: Out | undefined;
      if (e.default !== undefined) {
        const o = outputFor(def, e.default);
        if (typeof o === 'string') problems.push(`${at('default')}: ${o}`);
        else fallback = o;
      }
      targets.push([sig.index, { def, label, source: sig.key, mul: 1, add: 0, round: false, bool: false, values, ...(fallback ? { fallback } : {}), ...(ignore ? { ignore } : {}) }]);
      return;
    }
    // Units: the entry's `unit` (or the DBC's) converted to the catalog's, when both are known.
    const from = e.unit ?? sig.unit;
    let conv = { factor: 1, offset: 0 };
    if (def.unit && from && def.datatype !== 'boolean') {
      const c = unitConversion(from, def.unit);
      if (c) conv = c;
      else if (knownUnit(from) && knownUnit(def.unit)) problems.push(`${at(e.unit ? 'unit' : 'signal')}: ${sig.key} is in ${from}, which does not convert to ${def.path}'s ${def.unit}; set \`unit\` (and \`scale\`/\`offset\`) to say what the value is`);
      else if (e.unit) problems.push(`${at('unit')}: unknown unit ${JSON.stringify(from)} (or ${JSON.stringify(def.unit)}); give scale and offset instead`);
    }
    const scale = e.scale ?? 1;
    const offset = e.offset ?? 0;
    targets.push([sig.index, {
      def, label, source: sig.key, mul: scale * conv.factor, add: offset * conv.factor + conv.offset,
      round: def.integer, bool: def.datatype === 'boolean', ...(ignore ? { ignore } : {}),
    }]);
  });
  if (problems.length) return { problems };
  const decoder = compileDbc(db, { ...options, only: new Set(targets.map(([index]) => index)) });
  return { binding: new CanBinding(decoder, targets, targets.length), problems };
}

export interface CompiledBinding {
  readonly binding?: CanBinding;
  /** DBC errors (file:line:col), mapping problems and binding problems; the binding is absent when any exist. */
  readonly problems: readonly string[];
  readonly dbcWarnings: number;
}

/** Parse the DBC, parse the mapping, bind them: what the composition root checks and each lane runs. */
export function compileCanBinding(src: CanBindingSource, catalog: SignalCatalog): CompiledBinding {
  const dbc = parseDbc(src.dbcText, src.dbcFile);
  const map = parseCanMapping(src.mappingText, src.mappingFile);
  const problems = [...dbc.errors.map(formatDiagnostic), ...map.problems];
  const dbcName = src.dbcFile.split(/[\\/]/).pop();
  if (map.mapping?.dbc !== undefined && map.mapping.dbc !== dbcName) {
    problems.push(`${src.mappingFile}: dbc: the mapping is written for ${map.mapping.dbc}, not ${dbcName}`);
  }
  if (dbc.errors.length || !map.mapping) return { problems, dbcWarnings: dbc.warnings.length };
  const bound = bindCanMapping(map.mapping, dbc.db, catalog);
  problems.push(...bound.problems);
  return { ...(bound.binding && !problems.length ? { binding: bound.binding } : {}), problems, dbcWarnings: dbc.warnings.length };
}
