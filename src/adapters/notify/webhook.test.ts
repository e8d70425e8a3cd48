/**
 * Signed webhooks against a real HTTP server on localhost: the Notifier contract, the HMAC
 * signature checked by the receiver's own code, retries on 5xx, no retry on 4xx.
 */
import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { DeliveryAttempt } from '../../alerts/notifier.js';
import { runNotifierContract, note } from '../../../test/contract/notifier-contract.js';
import { checkSignature, webhookReceiver } from '../../../test/notify-receivers.js';
import { signWebhook, verifyWebhookSignature, WebhookNotifier } from './webhook.js';

const SECRET = 'whsec-test-0123456789';

runNotifierContract('webhook', async () => {
  const receiver = await webhookReceiver(SECRET);
  return { receiver, make: (retry) => new WebhookNotifier({ channel: 'soar', url: `http://user:secret@127.0.0.1:${receiver.port}/hook`, secret: SECRET, retry, timeoutMs: 15_000 }) };
});

describe('webhook notifier', () => {
  it('signs every request: HMAC-SHA256 over timestamp and body, checked by the receiver', async () => {
    const r = await webhookReceiver(SECRET);
    const n = new WebhookNotifier({ channel: 'soar', url: `http://127.0.0.1:${r.port}/hook`, secret: SECRET });
    try {
      const m = note();
      expect((await n.deliver(m)).status).toBe('delivered');
      const req = r.requests[0]!;
      expect(req.signatureValid).toBe(true);
      expect(req.headers['x-vigil-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(req.headers['x-vigil-delivery']).toBe(m.id);
      expect(req.headers['x-vigil-event']).toBe('alert');
      // A changed body or another secret does not verify.
      expect(checkSignature(SECRET, req.headers['x-vigil-signature'] as string, req.body.replace('acme', 'evil'))).toBe(false);
      expect(checkSignature('other', req.headers['x-vigil-signature'] as string, req.body)).toBe(false);
      // The exported verifier agrees with the receiver, and refuses a stale timestamp.
      const now = Math.floor(Date.now() / 1000);
      expect(verifyWebhookSignature(SECRET, req.headers['x-vigil-signature'] as string, req.body, now)).toBe(true);
      expect(verifyWebhookSignature(SECRET, signWebhook(SECRET, now - 600, req.body), req.body, now)).toBe(false);
      expect(verifyWebhookSignature(SECRET, 'v1=abc', req.body, now)).toBe(false);
    } finally {
      await n.close();
      await r.stop();
    }
  });

  it('retries a receiver that fails twice, then succeeds: three attempts, same delivery id', async () => {
    const r = await webhookReceiver(SECRET);
    const n = new WebhookNotifier({ channel: 'soar', url: `http://127.0.0.1:${r.port}/hook`, secret: SECRET, retry: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000 } });
    try {
      r.failNext(2, 503);
      const attempts: DeliveryAttempt[] = [];
      const m = note();
      await n.deliver(m, (a) => attempts.push(a));
      expect(attempts.map((a) => [a.attempt, a.status, a.httpStatus])).toEqual([[1, 'retrying', 503], [2, 'retrying', 503], [3, 'delivered', 204]]);
      expect(r.requests.map((q) => [q.headers['x-vigil-delivery'], q.headers['x-vigil-attempt'], q.signatureValid])).toEqual([[m.id, '1', true], [m.id, '2', true], [m.id, '3', true]]);
      expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(45);
      expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(95);
    } finally {
      await n.close();
      await r.stop();
    }
  });

  it('does not retry an answer that will not change (4xx), nor follow redirects', async () => {
    const r = await webhookReceiver(SECRET);
    const n = new WebhookNotifier({ channel: 'soar', url: `http://127.0.0.1:${r.port}/hook`, secret: 'wrong-secret', retry: { maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 50 } });
    try {
      const attempts: DeliveryAttempt[] = [];
      const last = await n.deliver(note(), (a) => attempts.push(a));
      expect(attempts).toHaveLength(1);
      expect(last).toMatchObject({ attempt: 1, status: 'failed', httpStatus: 401, error: 'HTTP 401' });
      r.failNext(1, 302);
      expect(await n.deliver(note())).toMatchObject({ attempt: 1, status: 'failed', httpStatus: 302 });
    } finally {
      await n.close();
      await r.stop();
    }
  });

  it('times out a receiver that never answers', async () => {
    const held: Socket[] = [];
    const silent = createServer((s) => void held.push(s));
    await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
    const port = (silent.address() as { port: number }).port;
    const n = new WebhookNotifier({ channel: 'soar', url: `http://127.0.0.1:${port}/`, timeoutMs: 200, retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20 } });
    try {
      const last = await n.deliver(note());
      expect(last).toMatchObject({ attempt: 2, status: 'failed', error: 'timed out after 200 ms' });
    } finally {
      await n.close();
      for (const s of held) s.destroy();
      await new Promise((res) => silent.close(res));
    }
  });

  it('refuses a URL that is not http(s)', () => {
    expect(() => new WebhookNotifier({ channel: 'x', url: 'file:///etc/passwd' })).toThrow(/not an http\(s\) URL/);
  });
});
