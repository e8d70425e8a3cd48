/**
 * The embedded MQTT broker (aedes, MQTT 3.1.1): vehicles publish straight to Vigil.
 *
 * Every client PUBLISH is ingested from aedes' `authorizePublish` hook, the one step aedes
 * runs before it answers: aedes sends the PUBACK of a QoS 1 message only when the hook calls
 * back, and it reads no more from that socket until every message of the chunk it is
 * handling has called back. So the hook calls back once the message is durable (QoS 1) or
 * taken by the pipeline (QoS 0): the PUBACK means "stored or dead-lettered", and a full
 * pipeline stops the socket being read. The messages of a chunk are answered together, in
 * arrival order (acks.ts). After the hook, aedes routes the message to its subscribers as
 * any broker would (lookups.ts skips that work while nobody subscribes).
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AedesOptions, type Client } from 'aedes';
import type { SourceConfig } from '../../runtime/config.js';
import type { RunningSource, SourceDeps } from '../../runtime/sources/index.js';
import { ClientAcks } from './acks.js';
import { MqttIngest } from './ingest.js';
import { skipLookupsWithoutSubscribers } from './lookups.js';
import { readPem, resolvePassword } from './credentials.js';

type MqttBrokerConfig = Extract<SourceConfig, { type: 'mqtt-broker' }>;

export interface MqttBrokerSource extends RunningSource {
  /** The port actually listened on (config `port: 0` picks a free one). */
  readonly port: number;
  readonly ingest: MqttIngest;
  /** Publish from Vigil to the broker's subscribers (QoS 1): commands to vehicles (`vigil/<tenant>/<vehicle>/commands`). */
  publish(topic: string, payload: Buffer): Promise<void>;
}

export async function startMqttBrokerSource(config: MqttBrokerConfig, deps: SourceDeps): Promise<MqttBrokerSource> {
  const ingest = new MqttIngest(deps.pipeline, {
    source: `mqtt:${config.name}`,
    tenants: config.tenants,
    fallbackTenant: config.tenant ?? deps.defaultTenant,
  });
  const acks = new WeakMap<Client, ClientAcks>();
  let lastClient: Client | undefined;
  let lastAcks: ClientAcks | undefined;
  const options: AedesOptions = {
    authorizePublish(client, packet, callback) {
      // $SYS is the broker's own namespace: refused, and the client disconnected, as aedes does by default.
      const err = packet.topic.startsWith('$SYS/') ? new Error('$SYS/ topic is reserved') : null;
      let done: () => void;
      if (client) {
        // A chunk's messages come from one client in a row: remember the last one's acks.
        if (client !== lastClient) {
          lastAcks = acks.get(client);
          if (!lastAcks) acks.set(client, (lastAcks = new ClientAcks()));
          lastClient = client;
        }
        done = lastAcks!.add(callback, err);
      } else done = () => callback(err);
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      ingest.take(packet.topic, payload, undefined, packet.qos > 0, done);
    },
  };
  if (config.auth) options.authenticate = checkCredentials(config.auth.username, resolvePassword(config.auth, `sources.${config.name}.auth`));

  const broker = new Aedes(options);
  await broker.listen();
  skipLookupsWithoutSubscribers(broker);
  broker.on('clientDisconnect', (client) => {
    if (client === lastClient) lastClient = lastAcks = undefined;
  });
  let server: Server;
  try {
    const tls = config.tls;
    const where = `sources.${config.name}.tls`;
    server = tls
      ? createTlsServer({ key: readPem(tls.key, `${where}.key`), cert: readPem(tls.cert, `${where}.cert`), ...(tls.ca ? { ca: readPem(tls.ca, `${where}.ca`), requestCert: true, rejectUnauthorized: true } : {}) }, broker.handle)
      : createTcpServer(broker.handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await new Promise<void>((r) => broker.close(() => r()));
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  const scheme = config.tls ? 'mqtts' : 'mqtt';
  return {
    name: config.name,
    port,
    ingest,
    publish: (topic, payload) =>
      new Promise<void>((resolve, reject) => {
        // Broker-originated: aedes hands it to subscribers without authorizePublish, so it never reaches the ingest.
        broker.publish({ cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false }, (err) => (err ? reject(err) : resolve()));
      }),
    describe: () =>
      `MQTT broker "${config.name}" on ${scheme}://${config.host}:${port}${config.tls?.ca ? ' (client certificates required)' : ''}${config.auth ? ' (username/password)' : ''}, topics vigil/<tenant>/<vehicle>/<kind>[.msgpack]`,
    async stop() {
      ingest.stop();
      await new Promise<void>((r) => broker.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** aedes `authenticate`: one username/password pair, compared in constant time. */
function checkCredentials(username: string, password: string): NonNullable<AedesOptions['authenticate']> {
  const digest = (s: string | Buffer): Buffer => createHash('sha256').update(s).digest();
  const want = digest(`${username}\0${password}`);
  return (_client, user, pass, done) => {
    const got = digest(Buffer.concat([Buffer.from(`${user ?? ''}\0`), pass ?? Buffer.alloc(0)]));
    if (timingSafeEqual(got, want)) return done(null, true);
    const err = Object.assign(new Error('bad username or password'), { returnCode: 4 as const });
    done(err, null);
  };
}
