/**
 * Real receivers for the notifier tests: an HTTP server that checks webhook signatures, and a
 * syslog server (TCP or TLS) that splits RFC 6587 octet-counted frames and parses RFC 5424.
 * Written from the RFCs, independently of the adapters, so a formatting bug cannot hide.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

/** What a receiver got, whatever the transport. */
export interface Received {
  readonly id: string;
  readonly tenant: string;
  readonly event: string;
  readonly severity: string;
  readonly message: string;
  /** The data fields, as strings (syslog carries only strings). */
  readonly fields: Record<string, string>;
}

export interface Receiver {
  readonly port: number;
  readonly messages: Received[];
  /** Listen (again) on the same port. */
  start(): Promise<void>;
  /** Stop listening and drop open connections: senders see refused connections. */
  stop(): Promise<void>;
}

export interface WebhookRequest {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  /** The signature matched the body under the shared secret, within 5 minutes. */
  readonly signatureValid: boolean;
}

export interface WebhookReceiver extends Receiver {
  readonly requests: WebhookRequest[];
  /** Answer the next `n` requests with `status` instead of 204. */
  failNext(n: number, status?: number): void;
}

/** The test's own check of `t=<s>,v1=<hex>`: HMAC-SHA256 over `<t>.<body>`. */
export function checkSignature(secret: string, header: string | undefined, body: string, nowS = Math.floor(Date.now() / 1000)): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  const t = Number(m[1]);
  if (Math.abs(nowS - t) > 300) return false;
  const want = createHmac('sha256', secret).update(`${m[1]}.${body}`).digest();
  return timingSafeEqual(want, Buffer.from(m[2]!, 'hex'));
}

async function listen(server: Server | HttpServer, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server | HttpServer, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  sockets.clear();
  return new Promise((r) => server.close(() => r()));
}

export async function webhookReceiver(secret: string): Promise<WebhookReceiver> {
  const messages: Received[] = [];
  const requests: WebhookRequest[] = [];
  const sockets = new Set<Socket>();
  let failing = 0;
  let failStatus = 500;
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const signatureValid = checkSignature(secret, req.headers['x-vigil-signature'] as string | undefined, body);
      requests.push({ headers: req.headers, body, signatureValid });
      if (failing > 0) {
        failing--;
        res.writeHead(failStatus).end('not now');
        return;
      }
      const j = JSON.parse(body) as { id: string; tenant: string; event: string; severity: string; message: string; data: Record<string, unknown> };
      messages.push({ id: j.id, tenant: j.tenant, event: j.event, severity: j.severity, message: j.message, fields: Object.fromEntries(Object.entries(j.data).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])) });
      res.writeHead(signatureValid ? 204 : 401).end();
    });
  });
  server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  let port = await listen(server, 0);
  return {
    get port() {
      return port;
    },
    messages,
    requests,
    failNext(n, status = 500) {
      failing = n;
      failStatus = status;
    },
    async start() {
      port = await listen(server, port);
    },
    stop: () => closeServer(server, sockets),
  };
}

/** One parsed RFC 5424 message. */
export interface SyslogMessage {
  readonly pri: number;
  readonly version: number;
  readonly timestamp: string;
  readonly hostname: string;
  readonly appName: string;
  readonly procId: string;
  readonly msgId: string;
  /** SD-ID -> params. */
  readonly sd: Record<string, Record<string, string>>;
  readonly msg: string;
}

/** Parses one RFC 5424 message (SYSLOG-MSG); throws on anything malformed. */
export function parseRfc5424(text: string): SyslogMessage {
  const head = /^<(\d{1,3})>(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) /.exec(text);
  if (!head) throw new Error(`not an RFC 5424 header: ${text.slice(0, 80)}`);
  const [, pri, version, timestamp, hostname, appName, procId, msgId] = head;
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$/.test(timestamp!)) throw new Error(`bad TIMESTAMP ${timestamp}`);
  let i = head[0].length;
  const sd: Record<string, Record<string, string>> = {};
  if (text[i] === '-') i++;
  else {
    while (text[i] === '[') {
      i++;
      const idEnd = text.slice(i).search(/[ \]]/);
      const id = text.slice(i, i + idEnd);
      i += idEnd;
      const params: Record<string, string> = {};
      while (text[i] === ' ') {
        i++;
        const eq = text.indexOf('="', i);
        const name = text.slice(i, eq);
        if (!/^[^= \]"]{1,32}$/.test(name)) throw new Error(`bad PARAM-NAME ${name}`);
        i = eq + 2;
        let value = '';
        for (;;) {
          const c = text[i++];
          if (c === undefined) throw new Error('unterminated PARAM-VALUE');
          if (c === '\\' && (text[i] === '"' || text[i] === '\\' || text[i] === ']')) value += text[i++];
          else if (c === '"') break;
          else if (c === ']') throw new Error('unescaped ] in PARAM-VALUE');
          else value += c;
        }
        params[name] = value;
      }
      if (text[i++] !== ']') throw new Error(`SD-ELEMENT ${id} not closed`);
      sd[id] = params;
    }
  }
  let msg = '';
  if (text[i] === ' ') msg = text.slice(i + 1);
  else if (i !== text.length) throw new Error(`junk after STRUCTURED-DATA at ${i}`);
  if (msg.startsWith('\uFEFF')) msg = msg.slice(1);
  return { pri: Number(pri), version: Number(version), timestamp: timestamp!, hostname: hostname!, appName: appName!, procId: procId!, msgId: msgId!, sd, msg };
}

export interface SyslogReceiver extends Receiver {
  readonly parsed: SyslogMessage[];
  /** Frames that did not parse (must stay empty). */
  readonly errors: string[];
}

/** A syslog receiver over TCP, or TLS with `tls: { key, cert }` (PEM text). */
export async function syslogReceiver(tls?: { key: string; cert: string }): Promise<SyslogReceiver> {
  const messages: Received[] = [];
  const parsed: SyslogMessage[] = [];
  const errors: string[] = [];
  const sockets = new Set<Socket>();
  const onSocket = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const sp = buf.indexOf(0x20);
        if (sp < 0) break;
        const len = Number(buf.subarray(0, sp).toString('ascii'));
        if (!Number.isInteger(len) || len <= 0) {
          errors.push(`bad frame length ${buf.subarray(0, sp).toString('ascii')}`);
          socket.destroy();
          return;
        }
        if (buf.length < sp + 1 + len) break;
        const text = buf.subarray(sp + 1, sp + 1 + len).toString('utf8');
        buf = buf.subarray(sp + 1 + len);
        try {
          const m = parseRfc5424(text);
          parsed.push(m);
          const p = m.sd['vigil@32473'] ?? {};
          const { id = '', tenant = '', event = '', severity = '', ...fields } = p;
          messages.push({ id, tenant, event, severity, message: m.msg, fields });
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
    });
  };
  const server = tls ? createTlsServer({ key: tls.key, cert: tls.cert }, onSocket) : createTcpServer(onSocket);
  let port = await listen(server, 0);
  return {
    get port() {
      return port;
    },
    messages,
    parsed,
    errors,
    async start() {
      port = await listen(server, port);
    },
    stop: () => closeServer(server, sockets),
  };
}
