/**
 * Scenario `mqtt-single` (run by bench/run.ts; alone: `node --import tsx
 * bench/scenarios/mqtt-single.ts [--json] [--messages N] [--vehicles N] [--publishers N]
 * [--connections N] [--window N] [--workers N] [--skip-qos0]`): JSON messages of ONE signal
 * each, published over TCP to the embedded broker, QoS 1, PUBACK once durable in DuckDB.
 * The per-message cost of the whole path: target >= 80,000 messages/s.
 */
import { runMqttScenario } from '../mqtt.js';

await runMqttScenario({
  name: 'mqtt-single',
  shape: 'single',
  messages: 400_000,
  vehicles: 10_000,
  connections: 32,
  window: 256,
  signalsPerMessage: 1,
  target: { messagesPerS: 80_000 },
});
