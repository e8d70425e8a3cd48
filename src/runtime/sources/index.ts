/**
 * The source contract. Each kind has a strict config schema (in ../config.ts) and a
 * `start(config, deps)` returning a RunningSource; the composition root (src/api/sources.ts)
 * maps a config's `type` to its start function. A source feeds the pipeline through
 * `offer(item, ack)` / `push` / `ready()`, so a full pipeline slows it down instead of losing
 * data; `ack` fires once the message is durable (QoS 1 PUBACK, HTTP 202). What it cannot even
 * frame as a message goes to `pipeline.deadLetter([...])` with a reason.
 */
import type { Clock } from '../../core/clock.js';
import type { Pipeline } from '../pipeline.js';

export interface SourceDeps {
  readonly pipeline: Pipeline;
  readonly defaultTenant: string;
  readonly clock: Clock;
}

export interface RunningSource {
  readonly name: string;
  /** One line for the start-up banner. */
  describe(): string;
  stop(): Promise<void>;
}
