/**
 * Syslog over TCP and TLS against real receivers on localhost (a self-signed CA made by
 * openssl at test time): the Notifier contract, RFC 5424 fields as a parser written from the
 * RFC reads them, octet-counted framing, reconnection, the bounded queue, an untrusted certificate.
 */
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { DeliveryAttempt } from '../../alerts/notifier.js';
import { note, runNotifierContract } from '../../../test/contract/notifier-contract.js';
import { makeTls } from '../../../test/mqtt-helpers.js';
import { syslogReceiver } from '../../../test/notify-receivers.js';
import { formatRfc5424, frameOctetCounted, SyslogNotifier } from './syslog.js';

const tls = makeTls();
afterAll(() => rmSync(tls.dir, { recursive: true, force: true }));
const pem = { key: readFileSync(tls.serverKey, 'utf8'), cert: readFileSync(tls.serverCert, 'utf8') };
const ca = readFileSync(tls.ca, 'utf8');

runNotifierContract('syslog over TCP', async () => {
  const receiver = await syslogReceiver();
  return { receiver, make: (retry) => new SyslogNotifier({ channel: 'siem', host: '127.0.0.1', port: receiver.port, retry, connectTimeoutMs: 1000 }) };
});

runNotifierContract('syslog over TLS', async () => {
  const receiver = await syslogReceiver(pem);
  return { receiver, make: (retry) => new SyslogNotifier({ channel: 'siem', host: '127.0.0.1', port: receiver.port, tls: { ca }, retry, connectTimeoutMs: 1000 }) };
});

const until = async (check: () => boolean): Promise<void> => {
  const end = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('syslog notifier', () => {
  it('sends RFC 5424 with structured data over TLS, in order, one connection', async () => {
    const r = await syslogReceiver(pem);
    const n = new SyslogNotifier({ channel: 'siem', host: '127.0.0.1', port: r.port, tls: { ca, servername: 'localhost' }, hostname: 'vigil-1', facility: 10 });
    try {
      const sent = [note({ severity: 'critical', message: 'Bremse manipuliert — ECU reprogrammed' }), note({ severity: 'info', message: 'plain ascii' })];
      for (const m of sent) expect((await n.deliver(m)).status).toBe('delivered');
      await until(() => r.parsed.length === 2);
      expect(r.errors).toEqual([]);
      const [a, b] = r.parsed;
      // authpriv (10) * 8 + crit (2) = 82; + informational (6) = 86.
      expect([a!.pri, b!.pri]).toEqual([82, 86]);
      expect(a).toMatchObject({ version: 1, timestamp: '2026-12-03T14:00:00.123Z', hostname: 'vigil-1', appName: 'vigil', procId: String(process.pid), msgId: 'alert', msg: sent[0]!.message });
      expect(a!.sd['vigil@32473']).toEqual({ id: sent[0]!.id, tenant: 'acme', event: 'alert', severity: 'critical', rule: 'uds.reprogramming', vehicle: '00112233aabbccdd', count: '3', nested: '{"a":[1,2]}' });
      expect(b!.msg).toBe('plain ascii');
    } finally {
      await n.close();
      await r.stop();
    }
  });

  it('frames by octet count (bytes, not characters) and escapes structured-data values', () => {
    const text = formatRfc5424(note({ message: 'ü', data: { 'a b=c': 'x"y]z\\' } }), { facility: 16, hostname: 'h', appName: 'vigil', procId: '1' });
    expect(text).toContain('a_b_c="x\\"y\\]z\\\\"');
    expect(text.startsWith('<131>1 ')).toBe(true);
    const frame = frameOctetCounted(text);
    const sp = frame.indexOf(0x20);
    expect(Number(frame.subarray(0, sp).toString())).toBe(frame.length - sp - 1);
    expect(Number(frame.subarray(0, sp).toString())).toBeGreaterThan(text.length);
  });

  it('reconnects after the receiver drops the connection', async () => {
    const r = await syslogReceiver();
    const n = new SyslogNotifier({ channel: 'siem', host: '127.0.0.1', port: r.port, retry: { maxAttempts: 5, baseDelayMs: 20, maxDelayMs: 100 } });
    try {
      expect((await n.deliver(note())).status).toBe('delivered');
      await until(() => r.messages.length === 1);
      await r.stop();
      await r.start();
      // The old connection is gone; the notifier notices and opens a new one.
      await new Promise((res) => setTimeout(res, 50));
      expect((await n.deliver(note({ message: 'after restart' }))).status).toBe('delivered');
      await until(() => r.messages.length === 2);
      expect(r.messages[1]!.message).toBe('after restart');
    } finally {
      await n.close();
      await r.stop();
    }
  });

  it('bounds its queue: a message past it fails at once and is reported, the others are kept', async () => {
    const r = await syslogReceiver();
    await r.stop();
    const n = new SyslogNotifier({ channel: 'siem', host: '127.0.0.1', port: r.port, maxQueue: 3, retry: { maxAttempts: 20, baseDelayMs: 50, maxDelayMs: 50 } });
    try {
      const pending = [1, 2, 3].map((i) => n.deliver(note({ message: `queued ${i}` })));
      const refused: DeliveryAttempt[] = [];
      const fourth = await n.deliver(note(), (a) => refused.push(a));
      expect(fourth).toMatchObject({ attempt: 1, status: 'failed', error: 'queue full (3 waiting)' });
      expect(refused).toEqual([fourth]);
      expect(n.queued).toBe(3);
      await r.start();
      expect((await Promise.all(pending)).map((a) => a.status)).toEqual(['delivered', 'delivered', 'delivered']);
      await until(() => r.messages.length === 3);
      expect(r.messages.map((m) => m.message)).toEqual(['queued 1', 'queued 2', 'queued 3']);
    } finally {
      await n.close();
      await r.stop();
    }
  });

  it('refuses a receiver whose certificate it does not trust', async () => {
    const r = await syslogReceiver(pem);
    const n = new SyslogNotifier({ channel: 'siem', host: '127.0.0.1', port: r.port, tls: {}, retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 10 } });
    try {
      const last = await n.deliver(note());
      expect(last.status).toBe('failed');
      expect(last.error).toMatch(/certificate/i);
      expect(r.messages).toEqual([]);
    } finally {
      await n.close();
      await r.stop();
    }
  });

  it('measures: 10,000 messages over TCP to a local receiver', async () => {
    const r = await syslogReceiver();
    const n = new SyslogNotifier({ channel: 'siem', host: '127.0.0.1', port: r.port, maxQueue: 50_000 });
    try {
      const t0 = performance.now();
      const results = await Promise.all(Array.from({ length: 10_000 }, (_, i) => n.deliver(note({ message: `m${i}` }))));
      const sent = performance.now() - t0;
      await until(() => r.messages.length === 10_000);
      const ms = performance.now() - t0;
      expect(results.every((a) => a.status === 'delivered')).toBe(true);
      expect(r.messages[9_999]!.message).toBe('m9999');
      console.log(`syslog TCP: 10000 messages written in ${sent.toFixed(0)} ms (${Math.round(10_000 / (sent / 1000))}/s), all parsed by the receiver in ${ms.toFixed(0)} ms`);
    } finally {
      await n.close();
      await r.stop();
    }
  });
});
