/**
 * Publishers: send simulated (or replayed) wire messages to a running Vigil — or any other
 * VSOC — over its real transports, so the ingest path is exercised end to end.
 *
 * - `mqtt://host:port` / `mqtts://`: topic `vigil/<tenant>/<vin>/<kind>`, QoS 1.
 * - `http://host:port` / `https://`: `POST /v1/ingest/<signals|security|logs>?tenant=` with
 *   NDJSON bodies; 429/503 answers are retried after their Retry-After.
 */
import type { SimItem } from '../../sim/index.js';
import { HttpPublisher } from './http.js';
import { MqttPublisher } from './mqtt.js';

export interface Publisher {
  /** Send the items; resolves once the receiver has acknowledged them. */
  publish(items: readonly SimItem[]): Promise<void>;
  close(): Promise<void>;
  readonly sent: number;
}

export async function openPublisher(url: string): Promise<Publisher> {
  const scheme = new URL(url).protocol;
  if (scheme === 'mqtt:' || scheme === 'mqtts:') return MqttPublisher.connect(url);
  if (scheme === 'http:' || scheme === 'https:') return new HttpPublisher(url);
  throw new RangeError(`cannot publish to ${url}: use mqtt://, mqtts://, http:// or https://`);
}
