/**
 * What the CAN text parsers (candump, CSV) share: the frame id flags, fast
 * character helpers, and the FrameSink that turns parsed frames into CanFrameBatch chunks.
 *
 * Ids follow SocketCAN's canid_t, which core/can.ts already uses for bit 31: bit 31 marks a
 * 29-bit id, bit 30 a remote (RTR) frame, bit 29 an error frame. A data frame has neither
 * bit 30 nor bit 29 set; code that decodes payloads (DBC) must check `isDataFrame(id)` first,
 * because an error frame's low bits are an error class, not an arbitration id.
 */
import { CAN_EXTENDED_FLAG, CanFrameBatchBuilder, type CanFrameBatch } from '../../core/can.js';

export { CAN_EXTENDED_FLAG };
/** Remote transmission request (SocketCAN CAN_RTR_FLAG): dlc is the requested length, no data. */
export const CAN_RTR_FLAG = 0x40000000;
/** Error frame (SocketCAN CAN_ERR_FLAG): the low 29 bits are the error class, data the details. */
export const CAN_ERR_FLAG = 0x20000000;
/** Whether a batch id is a data frame (not remote, not error), i.e. one a DBC may decode. */
export const isDataFrame = (id: number): boolean => (id & (CAN_RTR_FLAG | CAN_ERR_FLAG)) === 0;

/** Frames per chunk by default: about 1 MiB of columns for classic CAN. */
export const DEFAULT_CHUNK_FRAMES = 65_536;
/** Times before 2000-01-01 (epoch ms) are taken as relative to the trace start when the base is `auto`. */
export const RELATIVE_TIME_LIMIT_MS = 946_684_800_000;
/** Frame times past 2200-01-01 (epoch ms) are refused: no trace is from then, and stores keep microseconds in 64 bits. */
export const MAX_TIME_MS = 7_258_118_400_000;

/** How trace times map to epoch ms: `relative` adds `start`; `auto` decides on the first frame. */
export type TimeBase = 'auto' | 'epoch' | 'relative';

/** Nibble value of a character code, or 16 when it is not a hex digit. */
export const NIBBLE = new Uint8Array(128).fill(16);
for (let c = 0; c < 10; c++) NIBBLE[48 + c] = c;
for (let c = 0; c < 6; c++) {
  NIBBLE[65 + c] = 10 + c;
  NIBBLE[97 + c] = 10 + c;
}
export const nibble = (code: number): number => (code < 128 ? NIBBLE[code]! : 16);

/** Views `VIEWS[n]` of one scratch buffer, so a parser hands n bytes to the builder without allocating. */
export class ByteScratch {
  readonly bytes = new Uint8Array(64);
  private readonly views: Uint8Array[] = Array.from({ length: 65 }, (_, n) => this.bytes.subarray(0, n));
  view(n: number): Uint8Array {
    return this.views[n]!;
  }
}

export interface FrameSinkOptions {
  readonly tenant: string;
  /** Which source read it (e.g. `file:V40_03.can.zip`). */
  readonly source: string;
  /** With a label column: batches carry the ground-truth label per frame. */
  readonly labels: boolean;
  /** Frames per chunk (default DEFAULT_CHUNK_FRAMES). */
  readonly chunkFrames?: number;
  readonly timeBase?: TimeBase;
  /** Epoch ms added to relative times. */
  readonly start: number;
  /** The batches' receivedAt (default Date.now()). */
  readonly now?: () => number;
}

interface Stream {
  readonly vin: string;
  readonly bus: string | undefined;
  stride: 8 | 64;
  builder: CanFrameBatchBuilder;
}

/**
 * Collects frames into one builder per (vehicle, bus) and moves full chunks to `ready`.
 * When one stream's chunk is full, every stream is flushed, so the chunks of one flush cover
 * the same stretch of the input (replay can pace them together). A stream turns to stride 64
 * at its first frame longer than 8 bytes (its classic chunk so far is flushed first).
 */
export class FrameSink {
  /** Completed chunks, in order; the reader drains this. */
  readonly ready: CanFrameBatch[] = [];
  /** Frames pushed in total. */
  frames = 0;
  /** Frames with a true label. */
  labelled = 0;
  private readonly streams: Stream[] = [];
  private current: Stream | undefined;
  private offset: number | undefined;
  private readonly chunk: number;

  constructor(private readonly opts: FrameSinkOptions) {
    this.chunk = Math.max(16, opts.chunkFrames ?? DEFAULT_CHUNK_FRAMES);
    const base = opts.timeBase ?? 'auto';
    if (base !== 'auto') this.offset = base === 'relative' ? opts.start : 0;
  }

  /** The epoch offset in use (`undefined` until the first frame decides an `auto` base). */
  get timeOffset(): number | undefined {
    return this.offset;
  }

  /**
   * Append one frame; `time` is in ms, relative or epoch per the time base; `bytes.length` is
   * its dlc. Returns false (and keeps nothing) when the epoch time is outside 1970..2200: the
   * caller rejects the line, so a garbled time never reaches the store.
   */
  push(vin: string, bus: string | undefined, time: number, id: number, bytes: Uint8Array, label: number): boolean {
    // An `auto` base is decided by the first frame that is kept, so one garbled time cannot decide it.
    const offset = this.offset ?? (time < RELATIVE_TIME_LIMIT_MS ? this.opts.start : 0);
    const t = time + offset;
    if (!(t >= 0 && t < MAX_TIME_MS)) return false;
    this.offset = offset;
    let s = this.current;
    if (s === undefined || s.vin !== vin || s.bus !== bus) s = this.current = this.stream(vin, bus);
    if (bytes.length > s.stride) this.widen(s);
    s.builder.push(t, id, bytes, label);
    this.frames++;
    if (label) this.labelled++;
    if (s.builder.size >= this.chunk) this.flush();
    return true;
  }

  /** Move every non-empty chunk to `ready`. */
  flush(): void {
    for (const s of this.streams) this.flushStream(s);
  }

  private flushStream(s: Stream): void {
    if (s.builder.size === 0) return;
    this.ready.push(s.builder.build());
    s.builder = this.builder(s.vin, s.bus, s.stride);
  }

  private widen(s: Stream): void {
    this.flushStream(s);
    s.stride = 64;
    s.builder = this.builder(s.vin, s.bus, 64);
  }

  private stream(vin: string, bus: string | undefined): Stream {
    for (const s of this.streams) if (s.vin === vin && s.bus === bus) return s;
    const s: Stream = { vin, bus, stride: 8, builder: this.builder(vin, bus, 8) };
    this.streams.push(s);
    return s;
  }

  private builder(vin: string, bus: string | undefined, stride: 8 | 64): CanFrameBatchBuilder {
    const head = {
      tenant: this.opts.tenant,
      vin,
      source: this.opts.source,
      receivedAt: (this.opts.now ?? Date.now)(),
      ...(bus !== undefined ? { bus } : {}),
    };
    // Start small and let the builder grow: a trace may hold many vehicles or buses.
    return new CanFrameBatchBuilder(head, Math.min(this.chunk, 4096), stride, this.opts.labels);
  }
}
