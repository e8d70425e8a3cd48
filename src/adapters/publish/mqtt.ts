/** Publishes wire messages to an MQTT broker, QoS 1, with a bounded number awaiting PUBACK. */
import mqtt, { type MqttClient } from 'mqtt';
import type { SimItem } from '../../sim/index.js';
import type { Publisher } from './index.js';

/** QoS 1 publishes awaiting their PUBACK at once. */
export const MQTT_INFLIGHT = 1000;

export class MqttPublisher implements Publisher {
  sent = 0;
  private constructor(private readonly client: MqttClient) {}

  static async connect(url: string): Promise<MqttPublisher> {
    const client = await mqtt.connectAsync(url, { clientId: `vigil-sim-${process.pid}-${Date.now()}`, reconnectPeriod: 1000 });
    return new MqttPublisher(client);
  }

  async publish(items: readonly SimItem[]): Promise<void> {
    let inflight: Promise<unknown>[] = [];
    for (const it of items) {
      const topic = `vigil/${it.tenant}/${it.vin ?? '_'}/${it.kind}`;
      inflight.push(this.client.publishAsync(topic, it.payload, { qos: 1 }));
      if (inflight.length >= MQTT_INFLIGHT) {
        await Promise.all(inflight);
        inflight = [];
      }
    }
    await Promise.all(inflight);
    this.sent += items.length;
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
