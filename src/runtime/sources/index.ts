/**
 * Sources: each kind has a strict config schema (in ../config.ts) and a `start` that
 * returns the running thing. A source feeds the pipeline through `offer`/`ready`, so a
 * full pipeline slows it down instead of losing data.
 */
import type { Clock } from '../../core/clock.js';
import type { SourceConfig } from '../config.js';
import type { Pipeline } from '../pipeline.js';
import { startSimulatorSource } from './simulator.js';

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

export async function startSource(config: SourceConfig, deps: SourceDeps): Promise<RunningSource> {
  switch (config.type) {
    case 'simulator':
      return startSimulatorSource(config, deps);
  }
}
