/**
 * A client of an external MQTT broker (Mosquitto, EMQX, AWS IoT Core, ...), with mqtt.js.
 *
 * QoS 1: mqtt.js sends a message's PUBACK when `handleMessage` calls back, so the callback
 * waits until the message is durable (stored or dead-lettered). mqtt.js hands over the next
 * message only after that callback, which is also the backpressure: a full pipeline stops
 * the client reading, and the broker queues for it. With `cleanSession: false` and a stable
 * client id, the broker keeps the subscription and every unacknowledged QoS 1 message while
 * Vigil is away, and sends them again on reconnect (at least once; a message's `seq` makes
 * the redelivery idempotent).
 */
import mqtt, { type IClientOptions, type IPublishPacket } from 'mqtt';
import type { SourceConfig } from '../../runtime/config.js';
import type { RunningSource, SourceDeps } from '../../runtime/sources/index.js';
import { readPem, resolvePassword } from './credentials.js';
import { MqttIngest } from './ingest.js';

type MqttClientConfig = Extract<SourceConfig, { type: 'mqtt' }>;

/** How long stop() waits for messages already taken to become durable (and be acknowledged). */
const STOP_GRACE_MS = 5000;

export interface MqttClientSource extends RunningSource {
  readonly ingest: MqttIngest;
  /** Resolves once connected and subscribed for the first time. */
  readonly subscribed: Promise<void>;
  /** The last connection or subscription error, while there is one. */
  readonly lastError: Error | undefined;
}

export async function startMqttSource(config: MqttClientConfig, deps: SourceDeps): Promise<MqttClientSource> {
  const ingest = new MqttIngest(deps.pipeline, {
    source: `mqtt:${config.name}`,
    tenants: config.tenants,
    fallbackTenant: config.tenant ?? deps.defaultTenant,
  });
  const where = `sources.${config.name}`;
  const v5 = config.protocolVersion === 5;
  const options: IClientOptions = {
    clientId: config.clientId ?? `vigil-${config.name}`,
    clean: config.cleanSession,
    protocolVersion: config.protocolVersion,
    keepalive: config.keepaliveS,
    reconnectPeriod: config.reconnectPeriodMs,
    connectTimeout: 30_000,
    // Subscribed on connect below, only where the broker has no session to resume.
    resubscribe: false,
    ...(v5 && !config.cleanSession ? { properties: { sessionExpiryInterval: config.sessionExpiryS } } : {}),
    ...(config.auth ? { username: config.auth.username, password: resolvePassword(config.auth, `${where}.auth`) } : {}),
    ...(config.tls
      ? {
          rejectUnauthorized: config.tls.rejectUnauthorized,
          ...(config.tls.ca ? { ca: readPem(config.tls.ca, `${where}.tls.ca`) } : {}),
          ...(config.tls.cert && config.tls.key ? { cert: readPem(config.tls.cert, `${where}.tls.cert`), key: readPem(config.tls.key, `${where}.tls.key`) } : {}),
        }
      : {}),
  };

  let lastError: Error | undefined;
  let closing = false;
  /** Messages handed to the ingest whose callback has not fired yet. */
  let outstanding = 0;
  let onSubscribed!: () => void;
  const subscribed = new Promise<void>((r) => (onSubscribed = r));

  const client = mqtt.connect(config.url, { ...options, manualConnect: true });
  client.handleMessage = (packet: IPublishPacket, callback) => {
    // While stopping, a message is not taken and not acknowledged: the broker sends it again.
    if (closing) return;
    outstanding++;
    const topic = typeof packet.topic === 'string' ? packet.topic : String(packet.topic);
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    ingest.take(topic, payload, packet.properties?.contentType, packet.qos > 0, () => {
      outstanding--;
      callback();
    });
  };
  client.on('connect', (connack) => {
    lastError = undefined;
    // A resumed session still has its subscription (re-subscribing under MQTT 3.1.1 would
    // resend retained messages); MQTT 5 re-subscribes with "retained only if new".
    if (connack.sessionPresent && !v5) {
      onSubscribed();
      return;
    }
    client.subscribe(config.topic, { qos: config.qos, ...(v5 ? { rh: 1 } : {}) }, (err, granted) => {
      const refused = granted?.find((g) => g.qos === 128);
      if (err || refused) lastError = err ?? new Error(`the broker refused the subscription to ${config.topic}`);
      else onSubscribed();
    });
  });
  client.on('error', (e) => {
    lastError = e;
  });
  client.connect();

  return {
    name: config.name,
    ingest,
    subscribed,
    get lastError() {
      return lastError;
    },
    describe: () =>
      `MQTT client "${config.name}" of ${redact(config.url)} (client id ${options.clientId}, ${config.topic}, QoS ${config.qos}${config.cleanSession ? '' : ', persistent session'})`,
    async stop() {
      closing = true;
      const end = Date.now() + STOP_GRACE_MS;
      while (outstanding > 0 && Date.now() < end && client.connected) await new Promise((r) => setTimeout(r, 5));
      ingest.stop();
      await client.endAsync(true);
    },
  };
}

/** A URL without its password, for logs. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
