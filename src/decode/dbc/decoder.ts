/**
 * `compileDbc(db)`: a decoder for every message of a parsed DBC. `decode()` writes one row per
 * decoded signal — a global signal index into `outSignal` and the physical value into
 * `outValue` — and allocates nothing: callers pass preallocated typed arrays with room for
 * `maxSignalsPerFrame` rows past `outPos`. `decodeBatch()` does that for a `CanFrameBatch`.
 */
import type { CanFrameBatch } from '../../core/can.js';
import { generateMessageDecoder, type DecodeStats, type MessageDecoder } from './codegen.js';
import type { DbcDatabase } from './model.js';
import { planMessageDecoder } from './plan.js';
import { prepare, type DecoderSignal } from './prepare.js';

export type DecodeStrategy = 'codegen' | 'plan';

export interface CompileOptions {
  /** `codegen` (default where allowed) or `plan`; `auto` uses plans when code generation is disabled. */
  readonly strategy?: DecodeStrategy | 'auto';
  /**
   * Decode only these signals (global indices, as in `signals`), plus the multiplexors they
   * need: a VSS mapping uses a few signals of each message. Other signals produce no rows.
   */
  readonly only?: ReadonlySet<number>;
}

/** Rows decoded from a batch: row k is signal `signal[k]` of frame `frame[k]` with value `value[k]`. */
export interface DecodedRows {
  size: number;
  frame: Uint32Array;
  signal: Uint32Array;
  value: Float64Array;
}

export function emptyRows(capacity = 1024): DecodedRows {
  return { size: 0, frame: new Uint32Array(capacity), signal: new Uint32Array(capacity), value: new Float64Array(capacity) };
}

/** Standard ids index a dense table; extended (and out-of-range) ids a map. */
const TABLE_SIZE = 0x800;

export class DbcDecoder {
  readonly signals: readonly DecoderSignal[];
  /** The most rows one frame can produce: the room `decode()` needs past `outPos`. */
  readonly maxSignalsPerFrame: number;
  readonly stats: DecodeStats = { shortFrames: 0, unknownFrames: 0 };
  readonly strategy: DecodeStrategy;
  readonly messageCount: number;
  private readonly table: MessageDecoder[];
  private readonly wide = new Map<number, MessageDecoder>();
  private readonly unknown: MessageDecoder;
  private readonly keys: Map<string, number>;

  constructor(db: DbcDatabase, options: CompileOptions = {}) {
    const { signals, messages } = prepare(db, options.only);
    this.signals = signals;
    this.messageCount = messages.length;
    this.maxSignalsPerFrame = messages.reduce((a, m) => Math.max(a, m.signals.length), 0);
    const stats = this.stats;
    this.unknown = (_d, _o, _n, _s, _v, p) => {
      stats.unknownFrames++;
      return p;
    };
    this.table = new Array<MessageDecoder>(TABLE_SIZE).fill(this.unknown);
    const scratch = new DataView(new ArrayBuffer(8));
    let strategy: DecodeStrategy = options.strategy === 'plan' ? 'plan' : 'codegen';
    if (strategy === 'codegen' && options.strategy !== 'codegen' && !codegenAllowed()) strategy = 'plan';
    this.strategy = strategy;
    for (const m of messages) {
      const fn = strategy === 'codegen' ? generateMessageDecoder(m, stats, scratch) : planMessageDecoder(m, stats, scratch);
      if (m.id < TABLE_SIZE) this.table[m.id] = fn;
      else this.wide.set(m.id, fn);
    }
    this.keys = new Map(signals.map((s) => [s.key, s.index]));
  }

  /**
   * Decode one frame: `length` bytes of `data` from `offset`. Returns the new `outPos`; an id
   * the DBC does not define returns `outPos` unchanged (counted in `stats.unknownFrames`).
   */
  decode(id: number, data: Uint8Array, offset: number, length: number, outSignal: Uint32Array, outValue: Float64Array, outPos: number): number {
    const fn = id < TABLE_SIZE ? this.table[id]! : (this.wide.get(id) ?? this.unknown);
    return fn(data, offset, length, outSignal, outValue, outPos);
  }

  /** Whether the DBC defines a message with this id (bit 31 set for extended ids). */
  has(id: number): boolean {
    return id < TABLE_SIZE ? this.table[id] !== this.unknown : this.wide.has(id);
  }

  /** Global index of `Message.Signal` (message by name), or -1. */
  signalIndex(message: string, signal: string): number {
    return this.keys.get(`${message}.${signal}`) ?? -1;
  }

  /** Decode every frame of a batch into `out` (grown as needed; reused across calls to avoid allocation). */
  decodeBatch(batch: CanFrameBatch, out: DecodedRows = emptyRows(batch.size * 4)): DecodedRows {
    const max = this.maxSignalsPerFrame;
    const { id, dlc, data, stride } = batch;
    let p = 0;
    for (let i = 0; i < batch.size; i++) {
      if (p + max > out.signal.length) grow(out, Math.max(p + max, out.signal.length * 2));
      const q = this.decode(id[i]!, data, i * stride, dlc[i]!, out.signal, out.value, p);
      for (let k = p; k < q; k++) out.frame[k] = i;
      p = q;
    }
    out.size = p;
    return out;
  }
}

function grow(out: DecodedRows, capacity: number): void {
  const frame = new Uint32Array(capacity);
  const signal = new Uint32Array(capacity);
  const value = new Float64Array(capacity);
  frame.set(out.frame);
  signal.set(out.signal);
  value.set(out.value);
  out.frame = frame;
  out.signal = signal;
  out.value = value;
}

let codegen: boolean | undefined;
function codegenAllowed(): boolean {
  if (codegen === undefined) {
    try {
      codegen = new Function('return 1')() === 1;
    } catch {
      codegen = false;
    }
  }
  return codegen;
}

/** Compile a parsed DBC into a decoder (see DbcDecoder). */
export function compileDbc(db: DbcDatabase, options?: CompileOptions): DbcDecoder {
  return new DbcDecoder(db, options);
}
