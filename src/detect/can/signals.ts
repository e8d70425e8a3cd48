/**
 * Per-signal ranges when the bus's DBC is known: learn the physical range of every decoded
 * signal from clean traffic (`learnSignalRanges`), then check each frame's decoded signals
 * against it, widened by `signalSlack` of the width on each side. The detector sees this
 * through the SignalRanges interface only, so another signal model (rates of change,
 * multiplexed layouts) can take its place.
 */
import type { CanFrameBatch } from '../../core/can.js';
import { emptyRows, type DbcDecoder } from '../../decode/dbc/index.js';
import type { SignalRange } from './profile.js';

/** What the detector asks of a signal model: does this frame break it, and why. */
export interface SignalRanges {
  violates(id: number, data: Uint8Array, offset: number, length: number): boolean;
  /** A sentence naming the first signal out of range (called only when an alert is raised). */
  describe(id: number, data: Uint8Array, offset: number, length: number): string;
}

/** The range of every signal the DBC decodes from the training frames. */
export function learnSignalRanges(decoder: DbcDecoder, traces: readonly CanFrameBatch[]): SignalRange[] {
  const min = new Float64Array(decoder.signals.length).fill(Infinity);
  const max = new Float64Array(decoder.signals.length).fill(-Infinity);
  const rows = emptyRows(4096);
  for (const t of traces) {
    decoder.decodeBatch(t, rows);
    for (let k = 0; k < rows.size; k++) {
      const s = rows.signal[k]!;
      const v = rows.value[k]!;
      if (v < min[s]!) min[s] = v;
      if (v > max[s]!) max[s] = v;
    }
  }
  const out: SignalRange[] = [];
  decoder.signals.forEach((s, i) => {
    if (min[i]! <= max[i]!) out.push({ key: s.key, min: min[i]!, max: max[i]! });
  });
  return out;
}

/** Checks frames against learnt ranges by decoding them with the DBC (allocation-free). */
export class DbcSignalRanges implements SignalRanges {
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;
  private readonly outSignal: Uint32Array;
  private readonly outValue: Float64Array;

  constructor(
    private readonly decoder: DbcDecoder,
    ranges: readonly SignalRange[],
    slack = 0.1,
  ) {
    this.lo = new Float64Array(decoder.signals.length).fill(-Infinity);
    this.hi = new Float64Array(decoder.signals.length).fill(Infinity);
    const index = new Map(decoder.signals.map((s) => [s.key, s.index]));
    for (const r of ranges) {
      const i = index.get(r.key);
      if (i === undefined) continue;
      const w = (r.max - r.min) * slack;
      this.lo[i] = r.min - w;
      this.hi[i] = r.max + w;
    }
    this.outSignal = new Uint32Array(Math.max(1, decoder.maxSignalsPerFrame));
    this.outValue = new Float64Array(Math.max(1, decoder.maxSignalsPerFrame));
  }

  violates(id: number, data: Uint8Array, offset: number, length: number): boolean {
    return this.first(id, data, offset, length) >= 0;
  }

  describe(id: number, data: Uint8Array, offset: number, length: number): string {
    const k = this.first(id, data, offset, length);
    if (k < 0) return 'no signal out of range';
    const s = this.outSignal[k]!;
    return `${this.decoder.signals[s]!.key} = ${this.outValue[k]} outside ${this.lo[s]}..${this.hi[s]}`;
  }

  private first(id: number, data: Uint8Array, offset: number, length: number): number {
    const n = this.decoder.decode(id, data, offset, length, this.outSignal, this.outValue, 0);
    for (let k = 0; k < n; k++) {
      const s = this.outSignal[k]!;
      const v = this.outValue[k]!;
      if (v < this.lo[s]! || v > this.hi[s]!) return k;
    }
    return -1;
  }
}
