/**
 * The Notifier contract (src/alerts/notifier.ts), run unchanged against every adapter with a
 * real receiver on localhost:
 * - a message arrives with its id, tenant, event, severity, message and data fields;
 * - many messages all arrive, once each;
 * - a receiver that is down for two attempts gets the message on the third, and the attempts
 *   are reported 1, 2, 3 as retrying, retrying, delivered;
 * - a receiver that stays down makes the message `failed` after `maxAttempts`, every attempt reported;
 * - after close, deliver fails at once.
 *
 *   runNotifierContract('webhook', async () => { const r = await webhookReceiver(s); return { receiver: r, make: (retry) => new WebhookNotifier(...) }; });
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeliveryAttempt, Notification, Notifier, RetryPolicy } from '../../src/alerts/notifier.js';
import type { Receiver } from '../notify-receivers.js';

export interface NotifierFixture {
  readonly receiver: Receiver;
  make(retry: RetryPolicy): Notifier;
  close?(): Promise<void>;
}

let seq = 0;
export function note(over: Partial<Notification> = {}): Notification {
  seq++;
  return {
    id: `n-${seq}`, tenant: 'acme', event: 'alert', severity: 'high', message: `Rule fired on vehicle ${seq} — "quoted" [bracket] \\ back`,
    time: Date.UTC(2026, 11, 3, 14, 0, 0, 123), data: { rule: 'uds.reprogramming', vehicle: '00112233aabbccdd', count: 3, nested: { a: [1, 2] } }, ...over,
  };
}

const until = async (check: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
};

export function runNotifierContract(name: string, open: () => Promise<NotifierFixture>): void {
  describe(`Notifier contract: ${name}`, () => {
    let fx: NotifierFixture;
    const notifiers: Notifier[] = [];
    const make = (retry: RetryPolicy): Notifier => {
      const n = fx.make(retry);
      notifiers.push(n);
      return n;
    };
    beforeEach(async () => {
      fx = await open();
    });
    afterEach(async () => {
      await Promise.all(notifiers.splice(0).map((n) => n.close()));
      await fx.receiver.stop().catch(() => undefined);
      await fx.close?.();
    });

    it('delivers a message with its id, tenant, event, severity, text and data', async () => {
      const n = make({ maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100 });
      const attempts: DeliveryAttempt[] = [];
      const m = note();
      const last = await n.deliver(m, (a) => attempts.push(a));
      expect(last).toMatchObject({ attempt: 1, status: 'delivered' });
      expect(attempts).toEqual([last]);
      await until(() => fx.receiver.messages.length === 1);
      const got = fx.receiver.messages[0]!;
      expect(got).toMatchObject({ id: m.id, tenant: 'acme', event: 'alert', severity: 'high', message: m.message });
      expect(got.fields).toMatchObject({ rule: 'uds.reprogramming', vehicle: '00112233aabbccdd', count: '3', nested: '{"a":[1,2]}' });
      expect(n.target).not.toMatch(/secret/);
    });

    it('delivers many messages, each once', async () => {
      const n = make({ maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100 });
      const sent = Array.from({ length: 100 }, (_, i) => note({ message: `message ${i}`, severity: (['info', 'low', 'medium', 'high', 'critical'] as const)[i % 5] }));
      const results = await Promise.all(sent.map((m) => n.deliver(m)));
      expect(results.every((r) => r.status === 'delivered')).toBe(true);
      await until(() => fx.receiver.messages.length === sent.length);
      expect(new Set(fx.receiver.messages.map((m) => m.id))).toEqual(new Set(sent.map((m) => m.id)));
      expect(fx.receiver.messages.find((m) => m.id === sent[7]!.id)).toMatchObject({ message: 'message 7', severity: 'medium' });
    });

    it('retries with backoff while the receiver is down and delivers on the third attempt', async () => {
      await fx.receiver.stop();
      const n = make({ maxAttempts: 5, baseDelayMs: 150, maxDelayMs: 1000 });
      const attempts: DeliveryAttempt[] = [];
      const t0 = Date.now();
      const last = await n.deliver(note(), (a) => {
        attempts.push(a);
        if (a.attempt === 2) void fx.receiver.start();
      });
      expect(attempts.map((a) => [a.attempt, a.status])).toEqual([[1, 'retrying'], [2, 'retrying'], [3, 'delivered']]);
      expect(last).toEqual(attempts[2]);
      expect(attempts[0]!.error).toBeTruthy();
      // Backoff: at least half of 150 ms, then half of 300 ms, between the attempts.
      expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(70);
      expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(145);
      expect(Date.now() - t0).toBeLessThan(8000);
      await until(() => fx.receiver.messages.length === 1);
    });

    it('gives up after maxAttempts and says so, every attempt reported', async () => {
      await fx.receiver.stop();
      const n = make({ maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 });
      const attempts: DeliveryAttempt[] = [];
      const last = await n.deliver(note(), (a) => attempts.push(a));
      expect(attempts.map((a) => [a.attempt, a.status])).toEqual([[1, 'retrying'], [2, 'retrying'], [3, 'failed']]);
      expect(last.status).toBe('failed');
      expect(last.error).toBeTruthy();
    });

    it('fails at once after close', async () => {
      const n = make({ maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 });
      await n.close();
      const attempts: DeliveryAttempt[] = [];
      const last = await n.deliver(note(), (a) => attempts.push(a));
      expect(last).toMatchObject({ attempt: 1, status: 'failed', error: 'notifier closed' });
      expect(attempts).toEqual([last]);
    });
  });
}
