/**
 * Scenario `mqtt-batched` (run by bench/run.ts; alone: `node --import tsx
 * bench/scenarios/mqtt-batched.ts [--json] [--messages N] [--signals-per-message N]
 * [--vehicles N] [--publishers N] [--connections N] [--window N] [--workers N] [--skip-qos0]`):
 * MessagePack batches (compact samples, 100 signals each by default) published over TCP to
 * the embedded broker, QoS 1, PUBACK once durable in DuckDB: target >= 1,000,000 signals/s.
 */
import { runMqttScenario } from '../mqtt.js';

await runMqttScenario({
  name: 'mqtt-batched',
  shape: 'batched',
  messages: 60_000,
  vehicles: 10_000,
  connections: 32,
  window: 32,
  signalsPerMessage: 100,
  target: { signalsPerS: 1_000_000 },
});
