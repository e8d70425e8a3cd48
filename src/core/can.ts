/**
 * Raw CAN frames, columnar: what candump logs, CAN CSV traces (DAGA, ROAD) and TCU uploads
 * carry. A batch belongs to one vehicle of one tenant (a trace, an upload); the lane decodes
 * its frames with the vehicle's DBC into VSS signals, and the frames themselves feed the CAN
 * intrusion-detection models.
 *
 * Ids: 11-bit standard ids as they are; 29-bit extended ids with bit 31 set (the DBC file
 * convention), so `id & 0x1fffffff` is the arbitration id and `id >>> 31` the IDE flag.
 */

/** Bit 31 marks an extended (29-bit) id. */
export const CAN_EXTENDED_FLAG = 0x80000000;
/** Classic CAN: 8 data bytes; CAN FD: 64. */
export const CAN_MAX_DATA = 64;

export interface CanFrameBatch {
  readonly tenant: string;
  /** The vehicle as the source knows it (a VIN); pseudonymized by the lane. */
  readonly vin: string;
  /** Which source read it (e.g. `file:V40_03.can.zip`). */
  readonly source: string;
  readonly size: number;
  /** Event time, epoch ms (fractions keep microseconds). */
  readonly time: Float64Array;
  /** Per frame: the id, with CAN_EXTENDED_FLAG for 29-bit ids. */
  readonly id: Uint32Array;
  /** Per frame: data length in bytes (0..8, or up to 64 for CAN FD). */
  readonly dlc: Uint8Array;
  /** Frame data, `stride` bytes per frame (bytes past `dlc` are zero). */
  readonly data: Uint8Array;
  /** 8 for classic CAN, 64 when any frame is CAN FD. */
  readonly stride: 8 | 64;
  /** Bus or interface name (`can0`, `PT`), when known. */
  readonly bus?: string;
  /** Ground-truth label per frame (1 = attack) when the trace has one, e.g. DAGA's ANOMALY. */
  readonly label?: Uint8Array;
  readonly receivedAt: number;
}

/** Grows columns as frames are pushed; `build()` returns a batch over exactly the frames pushed. */
export class CanFrameBatchBuilder {
  private cap: number;
  private n = 0;
  private time: Float64Array;
  private id: Uint32Array;
  private dlc: Uint8Array;
  private data: Uint8Array;
  private label: Uint8Array | undefined;

  constructor(
    private readonly head: { tenant: string; vin: string; source: string; bus?: string; receivedAt?: number },
    capacity = 4096,
    private readonly stride: 8 | 64 = 8,
    withLabels = false,
  ) {
    this.cap = Math.max(16, capacity);
    this.time = new Float64Array(this.cap);
    this.id = new Uint32Array(this.cap);
    this.dlc = new Uint8Array(this.cap);
    this.data = new Uint8Array(this.cap * stride);
    if (withLabels) this.label = new Uint8Array(this.cap);
  }

  get size(): number {
    return this.n;
  }

  /** Append a frame; `bytes` longer than the stride is a caller error. */
  push(time: number, id: number, bytes: ArrayLike<number>, label = 0): void {
    if (bytes.length > this.stride) throw new RangeError(`frame of ${bytes.length} bytes exceeds the batch stride ${this.stride}`);
    if (this.n === this.cap) this.grow();
    const i = this.n++;
    this.time[i] = time;
    this.id[i] = id >>> 0;
    this.dlc[i] = bytes.length;
    const at = i * this.stride;
    for (let b = 0; b < bytes.length; b++) this.data[at + b] = bytes[b]!;
    if (this.label) this.label[i] = label;
  }

  build(): CanFrameBatch {
    const n = this.n;
    return {
      tenant: this.head.tenant,
      vin: this.head.vin,
      source: this.head.source,
      size: n,
      time: this.time.slice(0, n),
      id: this.id.slice(0, n),
      dlc: this.dlc.slice(0, n),
      data: this.data.slice(0, n * this.stride),
      stride: this.stride,
      receivedAt: this.head.receivedAt ?? Date.now(),
      ...(this.head.bus !== undefined ? { bus: this.head.bus } : {}),
      ...(this.label ? { label: this.label.slice(0, n) } : {}),
    };
  }

  private grow(): void {
    const cap = this.cap * 2;
    const grow = <T extends Float64Array | Uint32Array | Uint8Array>(old: T, next: T): T => {
      next.set(old);
      return next;
    };
    this.time = grow(this.time, new Float64Array(cap));
    this.id = grow(this.id, new Uint32Array(cap));
    this.dlc = grow(this.dlc, new Uint8Array(cap));
    this.data = grow(this.data, new Uint8Array(cap * this.stride));
    if (this.label) this.label = grow(this.label, new Uint8Array(cap));
    this.cap = cap;
  }
}

/** The buffers of a frame batch, for a zero-copy hand-over to another thread. */
export function canTransferables(b: CanFrameBatch): ArrayBuffer[] {
  const out = [b.time.buffer, b.id.buffer, b.dlc.buffer, b.data.buffer] as ArrayBuffer[];
  if (b.label) out.push(b.label.buffer as ArrayBuffer);
  return out;
}

/** The frames as candump log lines (`(sec.usec) bus ID#DATA`): how a refused batch keeps its raw content. */
export function candumpText(b: CanFrameBatch): string {
  const lines: string[] = [];
  const bus = b.bus ?? 'can0';
  for (let i = 0; i < b.size; i++) {
    const t = b.time[i]! / 1000;
    const ext = (b.id[i]! & CAN_EXTENDED_FLAG) !== 0;
    const id = (b.id[i]! & 0x1fffffff).toString(16).toUpperCase().padStart(ext ? 8 : 3, '0');
    let hex = '';
    for (let k = 0; k < b.dlc[i]!; k++) hex += b.data[i * b.stride + k]!.toString(16).toUpperCase().padStart(2, '0');
    lines.push(`(${t.toFixed(6)}) ${bus} ${id}${b.dlc[i]! > 8 ? '##0' : '#'}${hex}`);
  }
  return lines.join('\n');
}
