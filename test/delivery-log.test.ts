/**
 * The delivery log keeps every attempt: written in batches to a real DuckDB file, and kept
 * while the store fails, written once it is back (nothing dropped, nothing twice).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DuckDBStore } from '../src/adapters/duckdb/duckdb-store.js';
import { DuckDBResponseStore } from '../src/adapters/duckdb/response-store.js';
import { WebhookNotifier } from '../src/adapters/notify/webhook.js';
import { DeliveryLog } from '../src/alerts/delivery-log.js';
import type { DeliveryRecord } from '../src/alerts/response.js';
import { webhookReceiver } from './notify-receivers.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-delivery-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const row = (id: string, attempt: number): DeliveryRecord => ({ tenant: 'acme', id, attempt, channel: 'soc', target: 'http://x', event: 'notify', status: attempt < 3 ? 'retrying' : 'delivered', at: Date.UTC(2026, 0, 1) + attempt });

describe('DeliveryLog', () => {
  it('logs every attempt of a delivery through a real notifier', async () => {
    const db = await DuckDBStore.open({ path: ':memory:', threads: 1 });
    const r = await webhookReceiver('s');
    const n = new WebhookNotifier({ channel: 'soc', url: `http://127.0.0.1:${r.port}/`, secret: 's', retry: { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 40 } });
    try {
      const store = new DuckDBResponseStore(db.connection);
      const log = new DeliveryLog(store);
      r.failNext(1, 500);
      const last = await log.deliver(n, { id: 'm1', tenant: 'acme', event: 'notify', severity: 'low', message: 'hi', time: Date.now(), data: {} });
      expect(last).toMatchObject({ attempt: 2, status: 'delivered' });
      const got = await store.listDeliveries({ tenant: 'acme', id: 'm1', limit: 10 });
      expect(got.items.map((d) => [d.attempt, d.status, d.httpStatus])).toEqual([[2, 'delivered', 204], [1, 'retrying', 500]]);
    } finally {
      await n.close();
      await r.stop();
      await db.close();
    }
  });

  it('keeps attempts while the store fails and writes them once it is back', async () => {
    const file = join(dir, 'v.duckdb');
    let db = await DuckDBStore.open({ path: file, threads: 1 });
    let store = new DuckDBResponseStore(db.connection);
    const log = new DeliveryLog({ recordDeliveries: (rows) => store.recordDeliveries(rows) });
    log.record(row('a', 1));
    await log.flush();
    await db.close();
    // The store is closed: these fail, and are kept.
    log.record(row('a', 2));
    log.record(row('b', 1));
    await log.flush();
    expect(log.lastError?.message).toMatch(/closed/);
    db = await DuckDBStore.open({ path: file, threads: 1 });
    store = new DuckDBResponseStore(db.connection);
    log.record(row('a', 3));
    await log.flush();
    expect(log.lastError).toBeUndefined();
    expect(log.dropped).toBe(0);
    const all = await store.listDeliveries({ tenant: 'acme', limit: 10 });
    expect(all.items.map((d) => `${d.id}${d.attempt}`).sort()).toEqual(['a1', 'a2', 'a3', 'b1']);
    await db.close();
  });
});
