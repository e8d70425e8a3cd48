/**
 * Metrics: counters, gauges and a latency histogram, rendered in the Prometheus text
 * format. Rates are derived from counters over a sliding window so `/metrics` shows
 * signals per second directly (Prometheus users would use rate() instead).
 */

export class LatencyHistogram {
  /** Bucket width in ms for the fine range; beyond `fineMaxMs` buckets are 10x coarser. */
  private static readonly STEP = 0.25;
  private readonly fine: Float64Array;
  private readonly coarse: Float64Array;
  count = 0;
  sum = 0;

  constructor(private readonly fineMaxMs = 1000) {
    this.fine = new Float64Array(Math.ceil(fineMaxMs / LatencyHistogram.STEP));
    this.coarse = new Float64Array(Math.ceil(60_000 / (LatencyHistogram.STEP * 10)) + 1);
  }

  /** Record a latency observed `weight` times (e.g. once per row of a batch). */
  observe(ms: number, weight = 1): void {
    const v = Math.max(0, ms);
    if (v < this.fineMaxMs) this.fine[Math.floor(v / LatencyHistogram.STEP)]! += weight;
    else this.coarse[Math.min(this.coarse.length - 1, Math.floor((v - this.fineMaxMs) / (LatencyHistogram.STEP * 10)))]! += weight;
    this.count += weight;
    this.sum += v * weight;
  }

  /** The q-quantile (0..1) in ms, to the upper edge of its bucket. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const target = q * this.count;
    let acc = 0;
    for (let i = 0; i < this.fine.length; i++) {
      acc += this.fine[i]!;
      if (acc >= target) return (i + 1) * LatencyHistogram.STEP;
    }
    for (let i = 0; i < this.coarse.length; i++) {
      acc += this.coarse[i]!;
      if (acc >= target) return this.fineMaxMs + (i + 1) * LatencyHistogram.STEP * 10;
    }
    return Number.POSITIVE_INFINITY;
  }

  reset(): void {
    this.fine.fill(0);
    this.coarse.fill(0);
    this.count = 0;
    this.sum = 0;
  }
}

interface Metric {
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  value: number | (() => number);
}

/** Window over which `_per_second` rates are computed. */
export const RATE_WINDOW_MS = 10_000;

export class Metrics {
  private readonly metrics = new Map<string, Metric>();
  private readonly rated = new Set<string>();
  private readonly samples: { t: number; values: Map<string, number> }[] = [];
  readonly ingestToStore = new LatencyHistogram();
  /** Duration of one group write to the store. */
  readonly storeWrite = new LatencyHistogram();

  constructor(private readonly now: () => number = Date.now) {}

  counter(name: string, help: string, opts: { rate?: boolean } = {}): void {
    if (!this.metrics.has(name)) this.metrics.set(name, { help, type: 'counter', value: 0 });
    if (opts.rate) this.rated.add(name);
  }

  inc(name: string, by = 1): void {
    const m = this.metrics.get(name);
    if (!m) throw new Error(`unknown metric ${name}`);
    if (typeof m.value === 'number') m.value += by;
  }

  /** A gauge whose value is read when rendered. */
  gauge(name: string, help: string, read: () => number): void {
    this.metrics.set(name, { help, type: 'gauge', value: read });
  }

  get(name: string): number {
    const m = this.metrics.get(name);
    if (!m) return 0;
    return typeof m.value === 'number' ? m.value : m.value();
  }

  /** Per-second rate of a counter over the recent window. */
  rate(name: string): number {
    this.sample();
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.t === first.t) return 0;
    return ((last.values.get(name) ?? 0) - (first.values.get(name) ?? 0)) / ((last.t - first.t) / 1000);
  }

  /** Take a sample for rates; call periodically (the runtime does once a second). */
  sample(): void {
    const t = this.now();
    const last = this.samples[this.samples.length - 1];
    if (last && t - last.t < 250) return;
    this.samples.push({ t, values: new Map([...this.rated].map((n) => [n, this.get(n)])) });
    while (this.samples.length > 2 && t - this.samples[1]!.t >= RATE_WINDOW_MS) this.samples.shift();
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.metrics.keys()].map((n) => [n, this.get(n)]));
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const lines: string[] = [];
    for (const [name, m] of this.metrics) {
      lines.push(`# HELP ${name} ${m.help}`, `# TYPE ${name} ${m.type}`, `${name} ${fmt(this.get(name))}`);
    }
    for (const name of this.rated) {
      const rateName = `${name.replace(/_total$/, '')}_per_second`;
      lines.push(`# HELP ${rateName} Rate of ${name} over the last ${RATE_WINDOW_MS / 1000} s`, `# TYPE ${rateName} gauge`, `${rateName} ${fmt(this.rate(name))}`);
    }
    const summary = (q: string, help: string, h: LatencyHistogram): void => {
      lines.push(`# HELP ${q} ${help}`, `# TYPE ${q} summary`);
      for (const quantile of [0.5, 0.9, 0.99]) lines.push(`${q}{quantile="${quantile}"} ${fmt(h.quantile(quantile))}`);
      lines.push(`${q}_sum ${fmt(h.sum)}`, `${q}_count ${fmt(h.count)}`);
    };
    summary('vigil_ingest_to_store_latency_ms', 'Latency from ingest to durable store, per signal row', this.ingestToStore);
    summary('vigil_store_write_ms', 'Duration of one group write to the store', this.storeWrite);
    return `${lines.join('\n')}\n`;
  }
}

const fmt = (v: number): string => (Number.isFinite(v) ? String(Math.round(v * 1000) / 1000) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN');
