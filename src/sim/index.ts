/**
 * The fleet simulator: a deterministic fleet of connected vehicles that emits the JSON wire
 * format of src/decode/README.md (signals, IdsM security events, back-end log events), with
 * labelled attack scenarios. Transport-neutral: callers feed the records in-process or
 * write them wherever they like. See README.md for the design and the scenarios.
 *
 * Public API:
 *
 *   runSimulation(opts: SimOptions, sink: SimBatchSink, run: RunOptions): Promise<RunSummary>
 *     Produce `run.durationS` simulated seconds; `sink.write(items)` / `sink.labels(labels)`
 *     are awaited before more is made (backpressure).
 *
 *   new FleetSimulator(opts?: SimOptions)
 *     .tick(toMs, sink: SimSink, budget?): boolean   records with event time <= toMs, at most
 *                                                     `budget` signals messages per call
 *     .items(toMs, onLabel?): Generator<SimItem>     the same, pulled
 *     .fleet: Fleet                                  identities: .identity(i), .identities(), .vin(i)
 *     .stats, .now, .options
 *   simulatedFleet(opts): Fleet                      the same identities without the simulation state
 *
 *   SimItem  = { kind: 'signals' | 'security' | 'log', tenant, vin?, ts, payload: string }
 *   ScenarioLabel = { id, scenario, tenant, vin?, start, end, description, atm[], evidence[], details }
 *
 *   DEFAULT_SIGNALS, defaultCatalog(existingIds?)   the demo's VSS 6.0 signals
 */
export { DEFAULT_CATALOG_VERSION, DEFAULT_SIGNALS, defaultCatalog } from './default-catalog.js';
export { runSimulation, type RunOptions, type RunSummary, type SimBatchSink } from './run.js';
export { FleetSimulator, simulatedFleet, type SimSink, type SimStats } from './simulator.js';
export { DEFAULT_START, resolveSimOptions, simOptionsSchema, type ResolvedSimOptions, type SimOptions } from './options.js';
export { Fleet, MAX_VEHICLES, type VehicleIdentity } from './fleet.js';
export { IDSM, SENSOR, type SimItem } from './events.js';
export { ATTACK_SCENARIOS, SCENARIO_META, type AttackScenario, type ScenarioLabel, type ScenarioName, type ScenarioPlan } from './scenarios.js';
export { CAN_ID, CanEncoder, canChecksumOk, candumpLine, decodeCanFrame, type CanFrame } from './can-layout.js';
export { MODELS, REGIONS, SOFTWARE, type ModelDef, type Powertrain, type RegionDef } from './models.js';
export { PATHS, UNKNOWN_PATHS } from './signals.js';
export { checkSignalsMessage, type CheckProblem } from './check.js';
