/**
 * Source factory: maps a configured source `type` to the code that starts it. Sources that
 * do I/O live in src/adapters; pure ones (the simulator) in src/runtime/sources.
 */
import type { SourceConfig } from '../runtime/config.js';
import type { RunningSource, SourceDeps } from '../runtime/sources/index.js';
import { startSimulatorSource } from '../runtime/sources/simulator.js';
import { startMqttBrokerSource } from '../adapters/mqtt/broker.js';
import { startMqttSource } from '../adapters/mqtt/client.js';
import { startNatsSource } from '../adapters/nats/source.js';

export async function startSource(config: SourceConfig, deps: SourceDeps): Promise<RunningSource> {
  switch (config.type) {
    case 'simulator':
      return startSimulatorSource(config, deps);
    case 'mqtt-broker':
      return startMqttBrokerSource(config, deps);
    case 'mqtt':
      return startMqttSource(config, deps);
    case 'nats':
      return startNatsSource(config, deps);
  }
}
