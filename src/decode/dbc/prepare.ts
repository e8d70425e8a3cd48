/**
 * The decoder's view of a database: every decodable signal gets a global index (the number a
 * decoder writes into `outSignal`), and each message an ordered list of what to extract —
 * multiplexors first, in dependency order, so a multiplexed signal's switch value is known
 * before the signal is considered. The code generator and the plan interpreter both start here.
 */
import { bitSegments, bytesNeeded, type BitSegment } from './layout.js';
import { INDEPENDENT_SIGNALS, type DbcDatabase, type DbcMuxCondition, type DbcSignal, type DbcValueType } from './model.js';

/** What a decoder knows about the signal behind a global index. */
export interface DecoderSignal {
  readonly index: number;
  readonly name: string;
  readonly message: string;
  /** With bit 31 set for extended ids. */
  readonly messageId: number;
  /** `Message.Signal`. */
  readonly key: string;
  readonly unit: string;
  readonly min: number;
  readonly max: number;
  readonly factor: number;
  readonly offset: number;
  readonly length: number;
  readonly signed: boolean;
  readonly valueType: DbcValueType;
  /** Raw value -> label (VAL_). Decoded values are physical: look up `(value - offset) / factor`. */
  readonly values?: ReadonlyMap<number, string>;
  readonly multiplexor: boolean;
  /** Present only when its switch's raw value is in one of the ranges. */
  readonly mux?: DbcMuxCondition;
}

export interface PreparedSignal {
  readonly info: DecoderSignal;
  readonly segments: readonly BitSegment[];
  /** Bytes of frame data the signal needs. */
  readonly need: number;
  /** For a multiplexor: the slot its raw value is kept in while the frame is decoded; else -1. */
  readonly switchSlot: number;
  /** For a multiplexed signal: the switch slot and the raw ranges that make it present. */
  readonly cond?: { readonly slot: number; readonly ranges: readonly (readonly [number, number])[] };
}

export interface PreparedMessage {
  readonly id: number;
  readonly name: string;
  readonly size: number;
  /** Bytes needed by every signal (max of their `need`, at least `size`). */
  readonly need: number;
  readonly switchCount: number;
  /** In decode order: multiplexors (dependencies first), then the rest in file order. */
  readonly signals: readonly PreparedSignal[];
}

export interface Prepared {
  readonly signals: readonly DecoderSignal[];
  readonly messages: readonly PreparedMessage[];
}

/**
 * `only`: decode just these global signal indices (and the multiplexors they depend on); the
 * indices stay those of the whole database, so a restricted decoder writes the same numbers.
 */
export function prepare(db: DbcDatabase, only?: ReadonlySet<number>): Prepared {
  const signals: DecoderSignal[] = [];
  const messages: PreparedMessage[] = [];
  for (const m of db.messages) {
    if (m.name === INDEPENDENT_SIGNALS) continue;
    const infos = new Map<DbcSignal, DecoderSignal>();
    for (const s of m.signals) {
      const info: DecoderSignal = {
        index: signals.length, name: s.name, message: m.name, messageId: m.id, key: `${m.name}.${s.name}`, unit: s.unit,
        min: s.min, max: s.max, factor: s.factor, offset: s.offset, length: s.length, signed: s.signed, valueType: s.valueType,
        multiplexor: s.multiplexor, ...(s.values ? { values: s.values } : {}), ...(s.mux ? { mux: s.mux } : {}),
      };
      signals.push(info);
      infos.set(s, info);
    }
    const byName = new Map(m.signals.map((s) => [s.name, s]));
    // A multiplexed signal whose switch is missing cannot be decoded; link.ts has reported it.
    const decodable = (s: DbcSignal, depth = 0): boolean =>
      !s.mux || (depth < 16 && byName.get(s.mux.switchName)?.multiplexor === true && decodable(byName.get(s.mux.switchName)!, depth + 1));
    // With `only`: the wanted signals and, transitively, the switches they hang off.
    const wanted = new Set<DbcSignal>();
    const want = (s: DbcSignal): void => {
      if (wanted.has(s)) return;
      wanted.add(s);
      if (s.mux && decodable(s)) want(byName.get(s.mux.switchName)!);
    };
    for (const s of m.signals) if (!only || only.has(infos.get(s)!.index)) want(s);
    const ordered: DbcSignal[] = [];
    const placed = new Set<DbcSignal>();
    const place = (s: DbcSignal): void => {
      if (placed.has(s)) return;
      placed.add(s);
      if (s.mux) place(byName.get(s.mux.switchName)!);
      ordered.push(s);
    };
    for (const s of m.signals) if (s.multiplexor && decodable(s) && wanted.has(s)) place(s);
    const switchCount = ordered.length;
    for (const s of m.signals) if (!s.multiplexor && s.muxValue === undefined && !s.mux && wanted.has(s)) ordered.push(s);
    for (const s of m.signals) if (!s.multiplexor && s.mux && decodable(s) && wanted.has(s)) ordered.push(s);
    const slots = new Map<string, number>(ordered.slice(0, switchCount).map((s, i) => [s.name, i]));
    const prepared = ordered.map((s): PreparedSignal => ({
      info: infos.get(s)!,
      segments: bitSegments(s.startBit, s.length, s.byteOrder),
      need: bytesNeeded(s.startBit, s.length, s.byteOrder),
      switchSlot: slots.get(s.name) ?? -1,
      ...(s.mux ? { cond: { slot: slots.get(s.mux.switchName)!, ranges: s.mux.ranges } } : {}),
    }));
    const need = prepared.reduce((a, s) => Math.max(a, s.need), m.size);
    messages.push({ id: m.id, name: m.name, size: m.size, need, switchCount, signals: prepared });
  }
  return { signals, messages };
}
