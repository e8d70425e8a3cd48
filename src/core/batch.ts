/**
 * Columnar signal batches: the unit of work on the hot path. No object per signal: typed
 * arrays for time, signal id and value, a dictionary-encoded vehicle column, and a sparse
 * side column for string values. Booleans travel as 0/1 in `value`.
 */
export interface SignalBatch {
  readonly tenant: string;
  readonly size: number;
  /** Vehicle dictionary: pseudonymized vehicle keys (see `vehicleKey`). */
  readonly vehicles: readonly string[];
  /** Per row, an index into `vehicles`. */
  readonly vehicle: Uint32Array;
  /** Event time, epoch milliseconds. */
  readonly time: Float64Array;
  /** Per row, the catalog id of the signal. */
  readonly signal: Uint32Array;
  readonly value: Float64Array;
  /** Per row, the string value for non-numeric signals; absent when the batch has none. */
  readonly text?: readonly (string | undefined)[];
  /** When the batch entered Vigil (epoch ms): ingest-to-store latency is measured from here. */
  readonly receivedAt: number;
}

/** Grows columns as rows are pushed; `build()` returns a batch over exactly the rows pushed. */
export class SignalBatchBuilder {
  private cap: number;
  private n = 0;
  private vehicleCol: Uint32Array;
  private timeCol: Float64Array;
  private signalCol: Uint32Array;
  private valueCol: Float64Array;
  private textCol: (string | undefined)[] | undefined;
  private readonly vehicleDict: string[] = [];
  private readonly vehicleIdx = new Map<string, number>();

  constructor(
    readonly tenant: string,
    capacity = 1024,
    private readonly receivedAt = Date.now(),
  ) {
    this.cap = Math.max(16, capacity);
    this.vehicleCol = new Uint32Array(this.cap);
    this.timeCol = new Float64Array(this.cap);
    this.signalCol = new Uint32Array(this.cap);
    this.valueCol = new Float64Array(this.cap);
  }

  get size(): number {
    return this.n;
  }

  /** The dictionary index of a vehicle key, adding it when new. */
  vehicleIndex(key: string): number {
    let idx = this.vehicleIdx.get(key);
    if (idx === undefined) {
      idx = this.vehicleDict.length;
      this.vehicleDict.push(key);
      this.vehicleIdx.set(key, idx);
    }
    return idx;
  }

  push(vehicle: number, time: number, signal: number, value: number, text?: string): void {
    if (this.n === this.cap) this.grow();
    const i = this.n++;
    this.vehicleCol[i] = vehicle;
    this.timeCol[i] = time;
    this.signalCol[i] = signal;
    this.valueCol[i] = value;
    if (text !== undefined) {
      this.textCol ??= [];
      this.textCol[i] = text;
    }
  }

  build(): SignalBatch {
    const n = this.n;
    const batch: SignalBatch = {
      tenant: this.tenant,
      size: n,
      vehicles: this.vehicleDict,
      vehicle: this.vehicleCol.slice(0, n),
      time: this.timeCol.slice(0, n),
      signal: this.signalCol.slice(0, n),
      value: this.valueCol.slice(0, n),
      receivedAt: this.receivedAt,
      ...(this.textCol ? { text: Array.from({ length: n }, (_, i) => this.textCol![i]) } : {}),
    };
    return batch;
  }

  private grow(): void {
    this.cap *= 2;
    const grow = <T extends Uint32Array | Float64Array>(old: T, make: (n: number) => T): T => {
      const next = make(this.cap);
      next.set(old);
      return next;
    };
    this.vehicleCol = grow(this.vehicleCol, (n) => new Uint32Array(n));
    this.timeCol = grow(this.timeCol, (n) => new Float64Array(n));
    this.signalCol = grow(this.signalCol, (n) => new Uint32Array(n));
    this.valueCol = grow(this.valueCol, (n) => new Float64Array(n));
  }
}

/** The buffers of a batch, for a zero-copy hand-over to another thread. */
export function transferables(batch: SignalBatch): ArrayBuffer[] {
  return [batch.vehicle.buffer, batch.time.buffer, batch.signal.buffer, batch.value.buffer] as ArrayBuffer[];
}

/** Concatenate batches of one tenant into one: columns copied in bulk, vehicle dictionaries merged. */
export function concatBatches(tenant: string, batches: readonly SignalBatch[]): SignalBatch {
  if (batches.length === 1 && batches[0]!.tenant === tenant) return batches[0]!;
  let total = 0;
  let receivedAt = Number.POSITIVE_INFINITY;
  let hasText = false;
  for (const b of batches) {
    if (b.tenant !== tenant) throw new RangeError(`batch of tenant ${b.tenant} cannot join tenant ${tenant}`);
    total += b.size;
    receivedAt = Math.min(receivedAt, b.receivedAt);
    hasText ||= b.text !== undefined;
  }
  const vehicles: string[] = [];
  const index = new Map<string, number>();
  const vehicle = new Uint32Array(total);
  const time = new Float64Array(total);
  const signal = new Uint32Array(total);
  const value = new Float64Array(total);
  const text: (string | undefined)[] | undefined = hasText ? new Array<string | undefined>(total) : undefined;
  let at = 0;
  for (const b of batches) {
    const remap = b.vehicles.map((k) => {
      let i = index.get(k);
      if (i === undefined) {
        i = vehicles.push(k) - 1;
        index.set(k, i);
      }
      return i;
    });
    for (let r = 0; r < b.size; r++) vehicle[at + r] = remap[b.vehicle[r]!]!;
    time.set(b.time.subarray(0, b.size), at);
    signal.set(b.signal.subarray(0, b.size), at);
    value.set(b.value.subarray(0, b.size), at);
    if (text && b.text) for (let r = 0; r < b.size; r++) text[at + r] = b.text[r];
    at += b.size;
  }
  return { tenant, size: total, vehicles, vehicle, time, signal, value, receivedAt, ...(text ? { text } : {}) };
}
