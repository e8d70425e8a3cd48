/** Publishes wire messages to Vigil's HTTP batch ingest as NDJSON, one request per kind and tenant. */
import type { SimItem } from '../../sim/index.js';
import type { Publisher } from './index.js';

const PATH = { signals: 'signals', security: 'security', log: 'logs' } as const;
/** Records per request at most. */
export const HTTP_BATCH = 5000;
/** Attempts of one request while the receiver answers 429/503. */
const MAX_ATTEMPTS = 60;

export class HttpPublisher implements Publisher {
  sent = 0;
  /** `token`: the API token sent as a bearer token (default: the VIGIL_TOKEN environment variable). */
  constructor(
    private readonly base: string,
    private readonly token: string | undefined = process.env.VIGIL_TOKEN,
  ) {}

  async publish(items: readonly SimItem[]): Promise<void> {
    const groups = new Map<string, SimItem[]>();
    for (const it of items) {
      const key = `${it.kind}\u0000${it.tenant}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = []));
      g.push(it);
    }
    for (const g of groups.values()) {
      for (let i = 0; i < g.length; i += HTTP_BATCH) {
        const part = g.slice(i, i + HTTP_BATCH);
        await this.post(part[0]!.kind, part[0]!.tenant, part.map((x) => x.payload));
        this.sent += part.length;
      }
    }
  }

  /**
   * POST the records as NDJSON. A 503 that took part of the batch names `retryFrom`: the
   * records before it are durable, so only the rest is sent again (no duplicates).
   */
  private async post(kind: SimItem['kind'], tenant: string, records: readonly string[]): Promise<void> {
    const url = new URL(`/v1/ingest/${PATH[kind]}`, this.base);
    url.searchParams.set('tenant', tenant);
    let rest = records;
    for (let attempt = 1; ; attempt++) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) }, body: rest.join('\n') });
      if (res.status === 429 || res.status === 503) {
        const answer = (await res.json().catch(() => ({}))) as { retryFrom?: unknown };
        if (typeof answer.retryFrom === 'number' && answer.retryFrom > 0) rest = rest.slice(answer.retryFrom);
        if (attempt >= MAX_ATTEMPTS) throw new Error(`${url} still refuses after ${attempt} attempts (${res.status})`);
        const wait = Math.min(10, Number(res.headers.get('retry-after')) || 1);
        await new Promise((r) => setTimeout(r, wait * 1000));
        continue;
      }
      // 202: accepted (bad records inside are counted and dead-lettered by the receiver).
      if (res.status !== 202 && res.status !== 200 && res.status !== 400) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
      await res.body?.cancel();
      return;
    }
  }

  async close(): Promise<void> {}
}
