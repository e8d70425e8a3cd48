/**
 * The simulator source: a live, deterministic fleet fed into the pipeline in-process.
 * Simulated time follows the clock (times `speed`), starting now, so the demo looks live.
 * It respects backpressure: when the pipeline is full it stops generating until there is
 * room, and simulated time falls behind rather than anything being dropped.
 */
import type { SourceConfig } from '../config.js';
import type { InputItem } from '../lane.js';
import { FleetSimulator, type ScenarioLabel, type SimItem } from '../../sim/index.js';
import type { RunningSource, SourceDeps } from './index.js';

/** How often the source wakes to generate what simulated time has reached. */
export const SIM_TICK_MS = 100;
/** Signals messages generated per wake at most, so one wake cannot flood memory. */
export const SIM_BUDGET_PER_TICK = 50_000;

type SimulatorConfig = Extract<SourceConfig, { type: 'simulator' }>;

export interface SimulatorSource extends RunningSource {
  readonly labels: readonly ScenarioLabel[];
  readonly simulator: FleetSimulator;
}

export async function startSimulatorSource(config: SimulatorConfig, deps: SourceDeps): Promise<SimulatorSource> {
  const tenant = config.tenant ?? deps.defaultTenant;
  const wallStart = deps.clock.now();
  const sim = new FleetSimulator({
    seed: config.seed,
    vehicles: config.vehicles,
    tenants: [tenant],
    start: wallStart,
    reportIntervalS: config.reportIntervalS,
    attacks: config.attacks,
    malformedRate: config.malformedRate,
  });
  await deps.pipeline.registerVehicles(tenant, sim.fleet.identities());

  const labels: ScenarioLabel[] = [];
  const backlog: SimItem[] = [];
  const source = `sim:${config.name}`;
  const sink = { item: (it: SimItem) => void backlog.push(it), label: (l: ScenarioLabel) => void labels.push(l) };
  let stopped = false;
  let running: Promise<void> = Promise.resolve();

  const toInput = (it: SimItem): InputItem => ({ kind: it.kind, tenant: it.tenant, source, payload: it.payload, receivedAt: Date.now() });

  const pump = async (): Promise<void> => {
    const target = wallStart + (deps.clock.now() - wallStart) * config.speed;
    let done = false;
    while (!done && !stopped) {
      // tick() returns true once everything up to `target` is produced, false when the budget cut it short.
      done = sim.tick(target, sink, SIM_BUDGET_PER_TICK);
      let i = 0;
      while (i < backlog.length && !stopped) {
        if (deps.pipeline.offer(toInput(backlog[i]!))) i++;
        else await deps.pipeline.ready();
      }
      backlog.length = 0;
    }
  };

  const timer = setInterval(() => {
    // One pump at a time; a slow one (backpressure) delays the next instead of piling up.
    running = running.then(pump);
  }, SIM_TICK_MS);

  return {
    name: config.name,
    labels,
    simulator: sim,
    describe: () => `simulated fleet "${config.name}" of ${config.vehicles.toLocaleString('en-US')} vehicles (tenant ${tenant}, seed ${config.seed})`,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
