/**
 * The embedded pipeline: sources offer raw messages; each is routed by vehicle to the
 * worker that owns its partition; workers decode, normalize, update twins and detect;
 * their output is written to the store. One bound covers the whole path: messages in
 * flight per worker, from hand-over until durably stored. When it is reached, `offer`
 * refuses and `push` waits: the source slows down. Nothing is dropped silently.
 */
import { Worker } from 'node:worker_threads';
import { Pseudonymizer } from '../normalize/pseudonym.js';
import { isValidVin } from '../normalize/vin.js';
import type { SignalCatalog } from '../core/catalog.js';
import type { Clock } from '../core/clock.js';
import { BackpressureError } from '../core/errors.js';
import { candumpText, canTransferables, type CanFrameBatch } from '../core/can.js';
import type { Alert, DeadLetter, VehicleRecord } from '../core/records.js';
import type { Store } from '../core/store.js';
import type { NormalizePolicy } from '../normalize/policy.js';
import type { VehicleRegistration } from '../normalize/onboarding.js';
import type { SecurityEventDef } from '../normalize/security-extract.js';
import type { BaselineParams } from '../detect/baseline.js';
import type { CanIdsEntry } from '../detect/can/vehicles.js';
import { answerTwinRequest, type TwinAnswer, type TwinRequest } from '../twin/requests.js';
import type { VehicleIdentity } from '../twin/cohorts.js';
import type { TwinView } from '../twin/twins.js';
import { RuleRunner } from '../detect/rules/index.js';
import { RULE_TICK_INTERVAL_MS } from '../detect/rules/runner.js';
import { compileRulePack, hasCorrelationRules, type RulePackSource } from './detection.js';
import { packedTransferables, packItems } from './handover.js';
import { emptyStats, Lane, type CustomRuleChange, type CanBindingOption, type InputItem, type LaneOptions, type LaneOutput, type LaneStats, type RuleTuningEntry } from './lane.js';
import { ConfigError } from '../core/errors.js';
import { compileTuned } from '../detect/rules/tuning.js';
import { RuleSwitches, splitSwitch, switchProblem } from './rule-switches.js';
import { compileCustom, type CustomRule } from '../detect/rules/custom.js';
import { compileRules, type CompiledPack } from '../detect/rules/compile.js';
import { compileIndicators, type CompileReport } from '../intel/indicators/compile.js';
import type { Indicator } from '../intel/model.js';
import { Metrics } from './metrics.js';
import { Partitioner, routingVin } from './partition.js';
import { StoreWriter } from './store-writer.js';
import type { FromWorker, ToWorker } from './worker.js';
import type { PartitionPublisher } from './bus.js';

/** Vehicles registered per store call. */
const REGISTER_CHUNK = 10_000;
/** Default period of twin checkpoints. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5 * 60_000;

/** What registration takes: an identity by VIN (the VIN never reaches the store). */
export type VehicleIdentityInput = VehicleRegistration;

export interface PipelineOptions {
  readonly store: Store;
  readonly catalog: SignalCatalog;
  readonly clock: Clock;
  readonly policy: NormalizePolicy;
  readonly secret: string;
  /** IdsM event id -> meaning; default: the built-in extract. */
  readonly securityExtract?: ReadonlyMap<number, SecurityEventDef>;
  /** DBCs and mappings that decode raw CAN frames into VSS signals (config `can.dbc`). */
  readonly can?: readonly CanBindingOption[];
  /** Learnt CAN profiles the lanes score raw frames with (config `can.ids`). */
  readonly canIds?: readonly CanIdsEntry[];
  /** Cohort-baseline deviation parameters (rules/models/cohort-baseline.yaml). */
  readonly baseline?: BaselineParams;
  /** A MaxMind DB file's bytes locating API callers; pass a SharedArrayBuffer view so the lanes share one copy. */
  readonly geoip?: Uint8Array;
  readonly workers: number;
  readonly partitions: number;
  readonly maxInFlightPerWorker: number;
  readonly maxPendingRows: number;
  readonly onFull: 'block' | 'reject';
  readonly handoffBatch: number;
  readonly flushIntervalMs: number;
  readonly flushRows: number;
  /** Run lanes on the calling thread instead of worker threads (tests, deterministic replay). */
  readonly inline?: boolean;
  /** Run detectors (default true). */
  readonly detect?: boolean;
  /** `decode` measures the decode-only limit: lanes parse and discard (benchmark). */
  readonly mode?: 'full' | 'decode';
  readonly metrics?: Metrics;
  /**
   * Detection rules for every lane (config `detection`), checked by the composition root.
   * Correlation rules (`source: alert`) run here, once, over the alerts of all workers.
   */
  readonly rules?: RulePackSource;
  /** Per-tenant rule tuning in force at start (from the WorkflowStore); later ones through `tuneRule`. */
  readonly ruleTuning?: readonly RuleTuningEntry[];
  /** Tenants' own rules (detections made from templates) in force at start; later ones through `addCustomDetection`. */
  readonly customDetections?: readonly CustomRule[];
  /** How often lanes tick absence rules without traffic (default 10 s; 0 = only on traffic). */
  readonly ruleTickIntervalMs?: number;
  /** How often each worker's twins are checkpointed to the store (also on stop; default 5 min, 0 = only on stop). */
  readonly checkpointIntervalMs?: number;
  /** STIX indicators the lanes match API and security events against from the start; later sets through `setIndicators`. */
  readonly indicators?: readonly Indicator[];
  /**
   * Scale-out ingest role (src/runtime/bus.ts): no lanes here; each partition's hand-overs are
   * published to the bus, one per tenant, and count as durable once the bus holds them.
   */
  readonly bus?: PartitionPublisher;
}

interface Pending {
  readonly items: InputItem[];
  readonly frames?: CanFrameBatch;
  readonly units: number;
}

/** In-flight units a frame batch counts for: one per this many frames (a message is one unit). */
export const FRAMES_PER_UNIT = 256;

/** Called once a message is durable: stored, or dead-lettered with its reason. */
export type Ack = () => void;

interface Lanehost {
  readonly index: number;
  inFlight: number;
  buffer: InputItem[];
  /** Acks of the buffered messages, index-aligned with `buffer` (sparse: most messages have none). */
  bufferAcks: (Ack | undefined)[] | undefined;
  /** Hand-overs not yet durable: their messages (for dead-lettering if the worker dies) and in-flight units. */
  readonly pending: Map<number, Pending>;
  readonly pendingAcks: Map<number, (Ack | undefined)[]>;
  worker?: Worker;
  /** Between a worker's death and its replacement: hand-overs wait in the buffer. */
  restarting?: boolean;
  readonly lane?: Lane;
}

const STAT_COUNTERS: [keyof LaneStats, string, string][] = [
  ['messagesRejected', 'vigil_messages_dead_lettered_total', 'Messages dead-lettered whole'],
  ['duplicates', 'vigil_messages_duplicate_total', 'Messages dropped as duplicates of a recent record id (intentional)'],
  ['signalRows', 'vigil_signals_normalized_total', 'Signal rows that passed normalization'],
  ['entriesRejected', 'vigil_signal_entries_dead_lettered_total', 'Signal entries dead-lettered one by one'],
  ['entriesIgnored', 'vigil_signal_entries_ignored_total', 'Signal entries dropped by the unknown-signal policy (intentional)'],
  ['late', 'vigil_signals_late_total', 'Signal rows later than the lateness window (stored, not detected on)'],
  ['alerts', 'vigil_alerts_raised_total', 'Alerts raised by detectors'],
  ['alertsSuppressed', 'vigil_alerts_suppressed_total', 'Detections suppressed by the per-rule cooldown'],
  ['canFramesRejected', 'vigil_can_frames_dead_lettered_total', 'Raw CAN frames dead-lettered with their batch'],
  ['canFramesUnknownId', 'vigil_can_frames_unknown_id_total', 'Raw CAN frames whose id the vehicle\'s DBC does not define (stored raw, not decoded)'],
  ['canFramesNoDbc', 'vigil_can_frames_no_dbc_total', 'Raw CAN frames of vehicles no DBC is bound to (stored raw, not decoded)'],
  ['canFramesFlagged', 'vigil_can_frames_flagged_total', 'Raw CAN frames the CAN IDS flagged (can.ids)'],
  ['canIdsEvicted', 'vigil_can_ids_vehicles_evicted_total', 'Vehicles whose CAN IDS state was dropped for MAX_CAN_IDS_VEHICLES (intentional)'],
  ['indicatorHits', 'vigil_intel_indicator_hits_total', 'API and security events that matched a STIX indicator (before deduplication)'],
];

export class Pipeline {
  readonly metrics: Metrics;
  private readonly hosts: Lanehost[] = [];
  private readonly partitioner: Partitioner;
  private readonly writer: StoreWriter;
  private nextId = 1;
  private flushScheduled = false;
  private readyWaiters: (() => void)[] = [];
  private sampler: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;
  private readonly workerErrors: string[] = [];
  private registrar: Pseudonymizer | undefined;
  private checkpointer: NodeJS.Timeout | undefined;
  private ruleTicker: NodeJS.Timeout | undefined;
  /** Fleet correlation: `source: alert` rules over the alerts of every worker. */
  private readonly correlation: RuleRunner | undefined;

  constructor(private readonly opts: PipelineOptions) {
    this.metrics = opts.metrics ?? new Metrics(() => opts.clock.now());
    const m = this.metrics;
    m.counter('vigil_messages_received_total', 'Messages offered to the pipeline', { rate: true });
    m.counter('vigil_signals_stored_total', 'Signal rows durably stored', { rate: true });
    m.counter('vigil_can_frames_stored_total', 'Raw CAN frames durably stored', { rate: true });
    m.counter('vigil_dead_letters_stored_total', 'Dead letters stored (whole messages and single entries)', { rate: true });
    m.counter('vigil_security_events_stored_total', 'IDS security events stored', { rate: true });
    m.counter('vigil_api_events_stored_total', 'Back-end API/log events stored', { rate: true });
    m.counter('vigil_alerts_stored_total', 'Alerts stored', { rate: true });
    m.counter('vigil_store_errors_total', 'Failed store writes (retried)');
    m.counter('vigil_backpressure_total', 'Times a source was refused or made to wait by a full queue');
    m.counter('vigil_worker_errors_total', 'Hand-overs a worker failed on (dead-lettered)');
    for (const [, name, help] of STAT_COUNTERS) m.counter(name, help, { rate: name === 'vigil_alerts_raised_total' });
    m.gauge('vigil_inflight_messages', 'Messages handed over and not yet stored', () => this.inFlight);
    m.gauge('vigil_store_queue_rows', 'Signal rows waiting for the store', () => this.writer.pendingRows);
    m.gauge('vigil_workers', 'Lanes (worker threads, or inline lanes)', () => this.hosts.length);
    m.gauge('vigil_intel_indicators', 'STIX indicators the lanes match (compiled; revoked and unmatchable ones left out)', () => this.indicatorReport.compiled);
    m.gauge('vigil_intel_indicators_skipped', 'STIX indicators given but not matched (revoked, unsupported pattern, bad value)', () => this.indicatorReport.skipped.length);
    // On the bus every partition is a host of its own: its hand-overs go to its own subject.
    this.partitioner = new Partitioner(opts.partitions, opts.bus ? opts.partitions : Math.max(1, opts.workers));
    this.writer = new StoreWriter(opts.store, m, opts.clock, opts);
    const pack = this.runsRules ? compileRulePack(opts.rules!, opts.catalog, 'disable') : undefined;
    this.rulePack = pack;
    if (pack && hasCorrelationRules(pack)) this.correlation = new RuleRunner(pack, { clock: opts.clock, latenessMs: opts.policy.latenessMs });
    if (opts.indicators?.length) this.setIndicators(opts.indicators);
    for (const t of opts.ruleTuning ?? []) {
      const problems = this.checkRuleTuning(t.rule, t.params);
      if (problems.length) this.tuningProblems.push(`rule tuning of ${t.rule} for ${t.tenant} not applied: ${problems.join('; ')}`);
      else this.applyTuningAndSwitch(t);
    }
    for (const c of opts.customDetections ?? []) {
      const problems = this.checkCustomDetection(c);
      if (problems.length) this.customProblems.push(`custom detection ${c.id} of ${c.tenant} not run: ${problems.join('; ')}`);
      else this.customs.set(`${c.tenant}\u0000${c.id}`, c);
    }
  }

  /** The pack every lane runs, compiled here too (tuning checks, correlation). */
  private readonly rulePack: ReturnType<typeof compileRulePack> | undefined;
  /** Tuning in force, by tenant and rule: what a (re)started lane is given. */
  private readonly tunings = new Map<string, RuleTuningEntry>();
  /** Stored tunings that no longer fit the pack (a rule removed or changed type), skipped at start. */
  readonly tuningProblems: string[] = [];

  /** What is wrong with tuning `rule` with `params` (unknown or disabled rule, a parameter it has not, a bad value); empty when fine. */
  checkRuleTuning(rule: string, params: Readonly<Record<string, unknown>>): string[] {
    const pack = this.rulePack;
    if (!pack) return ['no detection rules run'];
    const r = pack.rules.find((x) => x.meta.id === rule);
    if (!r) return [`no rule ${rule} runs (unknown, or disabled in the config)`];
    if (!r.spec.enabled) return [`rule ${rule} is not enabled`];
    // `enabled` switches the rule for the tenant (rule-switches.ts); the rest changes how it runs.
    const { enabled, params: rest } = splitSwitch(params);
    const bad = switchProblem(enabled);
    if (bad) return [bad];
    if (enabled !== undefined && !Object.keys(rest).length) return [];
    return compileTuned(pack, rule, rest, pack.rules.length).problems;
  }

  /** Rules of the pack switched off per tenant: their alerts are dropped before correlation and storing. */
  private readonly switches = new RuleSwitches();

  /** The rules switched off for `tenant` (tuning `enabled: false`). */
  rulesOffFor(tenant: string): string[] {
    return this.switches.offFor(tenant);
  }

  /** Applies a checked tuning: the switch here, the parameters (if any) to the correlation; returns the lanes' part, if any. */
  private applyTuningAndSwitch(t: RuleTuningEntry): RuleTuningEntry | undefined {
    const { enabled, params } = splitSwitch(t.params);
    if (enabled !== undefined) this.switches.set(t.tenant, t.rule, enabled as boolean);
    if (!Object.keys(params).length) return undefined;
    const lanes = { tenant: t.tenant, rule: t.rule, params };
    this.applyTuning(lanes);
    return lanes;
  }

  /**
   * From the next hand-over on, every lane (and the fleet correlation) runs `rule` with
   * `params` for `tenant`, instead of the pack's parameters. Throws ConfigError with the problems
   * when they do not fit the rule.
   */
  tuneRule(tenant: string, rule: string, params: Readonly<Record<string, unknown>>): void {
    const problems = this.checkRuleTuning(rule, params);
    if (problems.length) throw new ConfigError(`cannot tune rule ${rule}`, problems);
    const t = this.applyTuningAndSwitch({ tenant, rule, params });
    if (!t) return;
    for (const h of this.hosts) {
      if (h.lane) h.lane.tune(tenant, rule, t.params);
      else h.worker?.postMessage({ type: 'tune', id: this.nextId++, tuning: t } satisfies ToWorker);
    }
  }

  /** The indicator set every lane matches, and what compiling it reported. */
  private indicators: readonly Indicator[] = [];
  private indicatorReport: CompileReport = compileIndicators([]).report;

  /**
   * Replace the STIX indicators every lane matches API/log and security events against
   * (global: one set for all tenants). Takes effect from each lane's next hand-over; a
   * restarted worker gets the set in force. Returns what compiling it reported: indicators
   * matched, and those left out with why (revoked, unsupported qualifiers, bad values).
   */
  setIndicators(indicators: readonly Indicator[]): CompileReport {
    const report = compileIndicators(indicators).report;
    this.indicators = [...indicators];
    this.indicatorReport = report;
    for (const h of this.hosts) {
      if (h.lane) h.lane.setIndicators(this.indicators);
      else h.worker?.postMessage({ type: 'indicators', id: this.nextId++, indicators: this.indicators } satisfies ToWorker);
    }
    return report;
  }

  /** What the indicator set in force compiled to (counts and left-out indicators). */
  get indicatorStatus(): CompileReport {
    return this.indicatorReport;
  }

  private applyTuning(t: RuleTuningEntry): void {
    this.tunings.set(`${t.tenant}\u0000${t.rule}`, t);
    const correlates = this.rulePack?.rules.some((r) => r.meta.id === t.rule && r.plan.ports.some((p) => p.kind === 'alert'));
    if (this.correlation && correlates) this.correlation.tune(t.tenant, t.rule, t.params);
  }

  /** Tenants' own rules in force, by tenant and id: what a (re)started lane is given. */
  private readonly customs = new Map<string, CustomRule>();
  /** Stored custom detections that no longer compile against the pack (a signal or rule id changed), skipped at start. */
  readonly customProblems: string[] = [];
  private emptyPack: CompiledPack | undefined;

  /** Whether lanes can run tenants' own rules: detection is on (with or without a pack). */
  private get runsCustom(): boolean {
    return this.opts.detect !== false && this.opts.mode !== 'decode';
  }

  /** What is wrong with running `rule` for its tenant (it does not parse or compile against the pack, or collides with a pack rule); empty when fine. */
  checkCustomDetection(rule: CustomRule): string[] {
    if (!this.runsCustom) return ['detection is off in this pipeline'];
    const pack = this.rulePack ?? (this.emptyPack ??= compileRules({ rules: [], problems: [] }, this.opts.catalog));
    return compileCustom(pack, rule, pack.rules.length).problems;
  }

  /**
   * From the next hand-over on, every lane runs `rule` for its tenant only, replacing one of the
   * same id. Throws ConfigError with the problems when it does not fit.
   */
  addCustomDetection(rule: CustomRule): void {
    const problems = this.checkCustomDetection(rule);
    if (problems.length) throw new ConfigError(`cannot run custom detection ${rule.id}`, problems);
    this.customs.set(`${rule.tenant}\u0000${rule.id}`, rule);
    this.changeCustom({ op: 'add', rule });
  }

  /** Stop running a tenant's own rule (disabled or deleted); false when it was not running. */
  removeCustomDetection(tenant: string, id: string): boolean {
    if (!this.customs.delete(`${tenant}\u0000${id}`)) return false;
    this.changeCustom({ op: 'remove', tenant, id });
    return true;
  }

  /** `tenant/id` of the tenants' own rules in force. */
  get customDetections(): string[] {
    return [...this.customs.values()].map((c) => `${c.tenant}/${c.id}`).sort();
  }

  private changeCustom(change: CustomRuleChange): void {
    for (const h of this.hosts) {
      if (h.lane) h.lane.custom(change);
      else h.worker?.postMessage({ type: 'custom', id: this.nextId++, change } satisfies ToWorker);
    }
  }

  private get runsRules(): boolean {
    return !!this.opts.rules?.files.length && this.opts.detect !== false && this.opts.mode !== 'decode';
  }

  /** How many rules each lane runs (the pack compiled against the same catalog), for reports. */
  get ruleCount(): number {
    return this.runsRules ? compileRulePack(this.opts.rules!, this.opts.catalog, 'disable').rules.filter((r) => r.spec.enabled).length : 0;
  }

  get inFlight(): number {
    return this.hosts.reduce((s, h) => s + h.inFlight, 0);
  }

  /** Why the pipeline is unhealthy, if it is. */
  get problems(): string[] {
    const p = [...this.workerErrors];
    if (this.writer.lastError) p.push(`store writes failing: ${this.writer.lastError.message}`);
    return p;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const laneOpts: LaneOptions = {
      catalog: this.opts.catalog.specs(),
      catalogIds: this.opts.catalog.idMap(),
      policy: this.opts.policy,
      secret: this.opts.secret,
      detect: this.opts.detect !== false,
      mode: this.opts.mode ?? 'full',
      ...(this.opts.securityExtract ? { securityExtract: this.opts.securityExtract } : {}),
      ...(this.opts.can?.length ? { can: this.opts.can } : {}),
      ...(this.opts.canIds?.length ? { canIds: this.opts.canIds } : {}),
      ...(this.opts.baseline ? { baseline: this.opts.baseline } : {}),
      ...(this.opts.geoip ? { geoip: this.opts.geoip } : {}),
      ...(this.runsRules ? { rules: this.opts.rules!.files, disabledRules: this.opts.rules!.disabled ?? [] } : {}),
      ...(this.tunings.size ? { ruleTuning: [...this.tunings.values()] } : {}),
      ...(this.runsCustom ? { customDetections: [...this.customs.values()] } : {}),
      ...(this.indicators.length ? { indicators: this.indicators } : {}),
    };
    if (this.opts.bus) {
      for (let index = 0; index < this.opts.partitions; index++) this.hosts.push({ index, inFlight: 0, buffer: [], bufferAcks: undefined, pending: new Map(), pendingAcks: new Map() });
      this.sampler = setInterval(() => this.metrics.sample(), 1000);
      this.sampler.unref();
      return;
    }
    const n = Math.max(1, this.opts.workers);
    for (let index = 0; index < n; index++) {
      if (this.opts.inline) {
        this.hosts.push({ index, inFlight: 0, buffer: [], bufferAcks: undefined, pending: new Map(), pendingAcks: new Map(), lane: new Lane(laneOpts, this.opts.clock) });
        continue;
      }
      this.hosts.push(await this.spawnHost(index, laneOpts));
    }
    this.sampler = setInterval(() => this.metrics.sample(), 1000);
    this.sampler.unref();
    await this.restoreTwins();
    const every = this.opts.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    if (every > 0) {
      this.checkpointer = setInterval(() => void this.checkpoint().catch((e: Error) => this.workerErrors.push(`twin checkpoint failed: ${e.message}`)), every);
      this.checkpointer.unref();
    }
    const tickEvery = this.opts.ruleTickIntervalMs ?? RULE_TICK_INTERVAL_MS;
    if (this.runsRules && tickEvery > 0) {
      this.ruleTicker = setInterval(() => this.tickRules(), tickEvery);
      this.ruleTicker.unref();
    }
  }

  /**
   * Have every lane judge its absence rules against the clock now; their alerts go to the
   * store like any other (`drain` waits for them). The timer calls this; tests with a manual clock too.
   */
  tickRules(): void {
    if (this.stopped || !this.runsRules || this.opts.bus) return;
    for (const h of this.hosts) {
      if (h.restarting) continue;
      const id = this.nextId++;
      h.pending.set(id, { items: [], units: 0 });
      this.ticksInFlight++;
      if (h.lane) this.onOutput(h, id, h.lane.tick(), []);
      else h.worker!.postMessage({ type: 'tick', id } satisfies ToWorker);
    }
  }

  private ticksInFlight = 0;
  private readonly alertListeners: ((alerts: readonly Alert[]) => void)[] = [];

  /**
   * Call `listener` with each group of alerts (correlation alerts included) once they are
   * durably stored: the alert pipeline starts from there. Returns a function that removes it.
   */
  onAlertsStored(listener: (alerts: readonly Alert[]) => void): () => void {
    this.alertListeners.push(listener);
    return () => {
      const i = this.alertListeners.indexOf(listener);
      if (i >= 0) this.alertListeners.splice(i, 1);
    };
  }

  /** The live twin of a vehicle, from the worker holding it (any worker may: the key is a pseudonym). */
  async vehicleTwin(tenant: string, vehicle: string): Promise<TwinView | undefined> {
    const answers = await Promise.all(this.hosts.map((h) => this.askTwins(h, { op: 'view', tenant, vehicle })));
    for (const a of answers) if (a.op === 'view' && a.view) return a.view;
    return undefined;
  }

  /** Save every worker's twins to the store; returns how many twins were saved. */
  async checkpoint(): Promise<number> {
    let n = 0;
    if (this.opts.bus) return n;
    for (const h of this.hosts) {
      const a = await this.askTwins(h, { op: 'checkpoint' });
      if (a.op !== 'checkpoint') continue;
      await this.opts.store.saveCheckpoint(this.checkpointName(h), a.bytes);
      n += a.twins;
    }
    return n;
  }

  /** A checkpoint is per worker of one topology: with other worker or partition counts, vehicles would sit in the wrong worker. */
  private checkpointName(h: Lanehost): string {
    return `twins/${this.hosts.length}x${this.opts.partitions}/${h.index}`;
  }

  private async restoreTwins(hosts: readonly Lanehost[] = this.hosts): Promise<void> {
    if (this.opts.bus) return;
    for (const h of hosts) {
      const bytes = await this.opts.store.loadCheckpoint(this.checkpointName(h));
      if (bytes) await this.askTwins(h, { op: 'restore', bytes });
    }
  }

  /** One request to a lane's twins: answered in place (inline) or by its worker thread. */
  private askTwins(h: Lanehost, request: TwinRequest): Promise<TwinAnswer> {
    if (h.lane) return Promise.resolve(answerTwinRequest(h.lane.twins, request).answer);
    if (this.opts.bus) return Promise.reject(new Error('twins live in the scale-out workers, not in the ingest role'));
    const id = this.nextId++;
    const worker = h.worker!;
    return new Promise((resolve, reject) => {
      const onMsg = (msg: FromWorker): void => {
        if (msg.id !== id || (msg.type !== 'twin' && msg.type !== 'error')) return;
        worker.off('message', onMsg);
        if (msg.type === 'twin') resolve(msg.answer);
        else reject(new Error(msg.message.split('\n')[0]));
      };
      worker.on('message', onMsg);
      worker.postMessage({ type: 'twin', id, request } satisfies ToWorker, request.op === 'restore' ? [request.bytes.buffer as ArrayBuffer] : []);
    });
  }

  private async spawnHost(index: number, laneOpts: LaneOptions, host?: Lanehost): Promise<Lanehost> {
    // The tenants' own rules in force now (a restarted worker), not at first start.
    const worker = spawnWorker(this.runsCustom ? { ...laneOpts, customDetections: [...this.customs.values()] } : laneOpts);
    const h: Lanehost = host ?? { index, inFlight: 0, buffer: [], bufferAcks: undefined, pending: new Map(), pendingAcks: new Map() };
    h.worker = worker;
    worker.on('message', (msg: FromWorker) => this.onWorkerMessage(h, msg));
    await new Promise<void>((resolve, reject) => {
      worker.once('online', resolve);
      worker.once('error', reject);
    });
    worker.on('error', (e) => this.workerErrors.push(`worker ${index}: ${e.message}`));
    worker.once('exit', (code) => {
      if (this.stopped) return;
      // A dead worker's hand-overs are dead-lettered, not lost; a fresh lane takes over
      // its partitions, its twins restored from the last checkpoint.
      h.restarting = true;
      this.workerErrors.push(`worker ${index} exited with code ${code}; restarted`);
      for (const id of [...h.pending.keys()]) this.onWorkerMessage(h, { type: 'error', id, message: `worker ${index} exited with code ${code}` });
      // The tuning in force now, not at first start.
      void this.spawnHost(index, { ...laneOpts, ruleTuning: [...this.tunings.values()], indicators: this.indicators }, h).then(async () => {
        await this.restoreTwins([h]).catch((e: Error) => this.workerErrors.push(`worker ${index}: twin checkpoint not restored: ${e.message}`));
        h.restarting = false;
        this.handOver(h);
      });
    });
    return h;
  }

  /** True when a message would be taken now. */
  canAccept(): boolean {
    return this.writer.pendingRows < this.opts.maxPendingRows && this.hosts.every((h) => h.inFlight < this.opts.maxInFlightPerWorker);
  }

  /**
   * Take a message if there is room; returns false (and takes nothing) when full. With
   * `onFull: reject` a full pipeline throws BackpressureError instead, with a retry hint.
   * `ack` is called once the message is durable (stored, or dead-lettered): an MQTT QoS 1
   * PUBACK or an HTTP 202 waits for it.
   */
  offer(item: InputItem, ack?: Ack): boolean {
    if (this.stopped) throw new Error('pipeline is stopped');
    const vin = item.kind === 'log' ? undefined : routingVin(item.payload);
    const host = this.hosts[this.partitioner.workerOf(item.tenant, vin ?? undefined)]!;
    if (host.inFlight >= this.opts.maxInFlightPerWorker || this.writer.pendingRows >= this.opts.maxPendingRows) {
      this.metrics.inc('vigil_backpressure_total');
      if (this.opts.onFull === 'reject') throw new BackpressureError('pipeline is full', this.opts.flushIntervalMs * 10);
      return false;
    }
    this.metrics.inc('vigil_messages_received_total');
    host.inFlight++;
    if (ack) (host.bufferAcks ??= [])[host.buffer.length] = ack;
    host.buffer.push(item);
    if (host.buffer.length >= this.opts.handoffBatch) this.handOver(host);
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        for (const h of this.hosts) this.handOver(h);
      });
    }
    return true;
  }

  /**
   * Take a batch of raw CAN frames of one vehicle if there is room (false when full, nothing
   * taken). It goes to the worker owning the vehicle, transferred rather than copied: the
   * caller must not touch the batch afterwards. `ack` fires once the frames are durable.
   */
  offerFrames(batch: CanFrameBatch, ack?: Ack): boolean {
    if (this.stopped) throw new Error('pipeline is stopped');
    const host = this.hosts[this.partitioner.workerOf(batch.tenant, batch.vin)]!;
    const units = 1 + Math.floor(batch.size / FRAMES_PER_UNIT);
    // An empty host always takes a batch, however large, so one big batch cannot wait forever.
    if ((host.inFlight > 0 && host.inFlight + units > this.opts.maxInFlightPerWorker) || this.writer.pendingRows >= this.opts.maxPendingRows) {
      this.metrics.inc('vigil_backpressure_total');
      if (this.opts.onFull === 'reject') throw new BackpressureError('pipeline is full', this.opts.flushIntervalMs * 10);
      return false;
    }
    this.metrics.inc('vigil_messages_received_total');
    host.inFlight += units;
    const id = this.nextId++;
    host.pending.set(id, { items: [], frames: batch, units });
    if (ack) host.pendingAcks.set(id, [ack]);
    if (host.lane) this.onOutput(host, id, host.lane.processFrames(batch), []);
    else if (host.restarting) this.onWorkerMessage(host, { type: 'error', id, message: `worker ${host.index} is restarting` });
    else if (this.opts.bus) this.onWorkerMessage(host, { type: 'error', id, message: 'raw CAN frames are not carried over the scale-out bus' });
    else host.worker!.postMessage({ type: 'frames', id, batch } satisfies ToWorker, canTransferables(batch));
    return true;
  }

  /** offerFrames, waiting for room as long as needed. */
  async pushFrames(batch: CanFrameBatch, ack?: Ack): Promise<void> {
    while (!this.offerFrames(batch, ack)) await this.ready();
  }

  /** Offer, waiting for room as long as needed (the `block` backpressure mode). */
  async push(item: InputItem, ack?: Ack): Promise<void> {
    while (!this.offer(item, ack)) await this.ready();
  }

  /** Offer, waiting for room, and resolve when the message is durable. */
  pushDurable(item: InputItem): Promise<void> {
    return new Promise((resolve, reject) => {
      this.push(item, resolve).catch(reject);
    });
  }

  /** Resolves when there is room again. */
  ready(): Promise<void> {
    if (this.canAccept()) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /**
   * Register vehicle identities (make, model, year, ECU software...) by VIN: the VIN is
   * pseudonymized exactly as the lanes do, so identity and telemetry meet in one twin row.
   * Returns how many were registered; invalid VINs are returned as problems.
   */
  async registerVehicles(tenant: string, vehicles: Iterable<VehicleIdentityInput>): Promise<{ registered: number; invalid: string[] }> {
    const pseudonyms = (this.registrar ??= new Pseudonymizer(this.opts.secret));
    const invalid: string[] = [];
    let chunk: VehicleRecord[] = [];
    let registered = 0;
    /** Identities for the twins, per worker. */
    let twins: { id: string; identity: VehicleIdentity }[][] = [];
    const flush = async (): Promise<void> => {
      if (chunk.length) await this.opts.store.upsertVehicles(chunk);
      registered += chunk.length;
      chunk = [];
      const time = this.opts.clock.now();
      await Promise.all(twins.map((vehicles, w) => this.hosts[w] && this.askTwins(this.hosts[w]!, { op: 'identify', tenant, time, vehicles })));
      twins = [];
    };
    for (const v of vehicles) {
      if (!isValidVin(v.vin, { checkDigit: this.opts.policy.vinCheckDigit })) {
        invalid.push(v.vin);
        continue;
      }
      const { vin, ...identity } = v;
      const id = pseudonyms.key(tenant, vin);
      chunk.push({ ...identity, tenant, id, signalCount: 0 });
      if (!this.opts.bus) (twins[this.partitioner.workerOf(tenant, vin)] ??= []).push({ id, identity });
      if (chunk.length >= REGISTER_CHUNK) await flush();
    }
    await flush();
    return { registered, invalid };
  }

  /**
   * Store dead letters found before the pipeline (e.g. a source's framing errors); `ack` is
   * called once they are durable (an HTTP answer or a JetStream ack waits for it).
   */
  deadLetter(records: readonly DeadLetter[], ack?: Ack): void {
    this.writer.enqueue({ out: { batches: [], security: [], logs: [], alerts: [], deadLetters: [...records], stats: emptyStats() }, vehicles: [], done: () => ack?.() });
  }

  /** Resolves when every message offered so far is durably stored (or dead-lettered). */
  async drain(): Promise<void> {
    for (const h of this.hosts) this.handOver(h);
    while (this.inFlight > 0 || this.ticksInFlight > 0 || this.writer.pendingJobs > 0) {
      await new Promise((r) => setTimeout(r, 2));
      await this.writer.idle();
    }
  }

  /** Drain, write the final twin summaries, stop the workers. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    await this.drain();
    this.stopped = true;
    if (this.sampler) clearInterval(this.sampler);
    if (this.checkpointer) clearInterval(this.checkpointer);
    if (this.ruleTicker) clearInterval(this.ruleTicker);
    const summaries = await Promise.all(this.hosts.map((h) => this.vehicleSummaries(h)));
    const vehicles = summaries.flat();
    if (vehicles.length) await this.opts.store.upsertVehicles(vehicles);
    try {
      await this.checkpoint();
    } finally {
      await Promise.all(this.hosts.map((h) => h.worker?.terminate()));
    }
  }

  private vehicleSummaries(h: Lanehost): Promise<ReturnType<Lane['takeVehicleUpdates']>> {
    if (h.lane) return Promise.resolve(h.lane.takeVehicleUpdates());
    if (this.opts.bus) return Promise.resolve([]);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const onMsg = (msg: FromWorker): void => {
        if (msg.type === 'vehicles' && msg.id === id) {
          h.worker!.off('message', onMsg);
          resolve(msg.vehicles);
        }
      };
      h.worker!.on('message', onMsg);
      h.worker!.postMessage({ type: 'flush-vehicles', id } satisfies ToWorker);
    });
  }

  private handOver(h: Lanehost): void {
    if (h.buffer.length === 0 || h.restarting) return;
    const items = h.buffer;
    h.buffer = [];
    const id = this.nextId++;
    h.pending.set(id, { items, units: items.length });
    if (h.bufferAcks) {
      h.pendingAcks.set(id, h.bufferAcks);
      h.bufferAcks = undefined;
    }
    if (h.lane) {
      const out = h.lane.process(items);
      this.onOutput(h, id, out, h.lane.takeVehicleUpdates());
    } else if (this.opts.bus) {
      this.publish(h, id, items, this.opts.bus);
    } else {
      const packed = packItems(items);
      h.worker!.postMessage({ type: 'items', id, packed } satisfies ToWorker, packedTransferables(packed));
    }
  }

  /**
   * Scale-out: publish a hand-over, one bus message per tenant (a write group on the worker
   * holds one tenant's signals); durable, and so acknowledged, once the bus holds every part.
   */
  private publish(h: Lanehost, id: number, items: InputItem[], bus: PartitionPublisher): void {
    const byTenant = new Map<string, InputItem[]>();
    for (const it of items) {
      const list = byTenant.get(it.tenant);
      if (list) list.push(it);
      else byTenant.set(it.tenant, [it]);
    }
    Promise.all([...byTenant.values()].map((part) => bus.publish(h.index, packItems(part)))).then(
      () => this.onOutput(h, id, { batches: [], security: [], logs: [], alerts: [], deadLetters: [], stats: emptyStats() }, []),
      (e: Error) => this.onWorkerMessage(h, { type: 'error', id, message: `not published to the bus: ${e.message}` }),
    );
  }

  private onWorkerMessage(h: Lanehost, msg: FromWorker): void {
    if (msg.type === 'out') this.onOutput(h, msg.id, msg.out, msg.vehicles);
    else if (msg.type === 'error') {
      // The lane threw on this hand-over: dead-letter every message of it with the error.
      const pending = h.pending.get(msg.id);
      const items = pending?.items ?? [];
      this.metrics.inc('vigil_worker_errors_total');
      this.workerErrors.push(msg.message.split('\n')[0]!);
      const enc = new TextEncoder();
      const deadLetters: DeadLetter[] = items.map((it, i) => ({
        id: `worker-error:${msg.id}:${i}:${Date.now()}`, tenant: it.tenant, source: it.source, kind: it.kind,
        code: 'internal.worker_error', reason: msg.message.split('\n')[0]!, receivedAt: it.receivedAt,
        raw: typeof it.payload === 'string' ? enc.encode(it.payload) : it.payload,
      }));
      if (pending?.frames) {
        const f = pending.frames;
        deadLetters.push({
          id: `worker-error:${msg.id}:frames:${Date.now()}`, tenant: f.tenant, source: f.source, kind: 'can',
          code: 'internal.worker_error', reason: msg.message.split('\n')[0]!, receivedAt: f.receivedAt, raw: enc.encode(candumpText(f)),
        });
      }
      this.metrics.inc('vigil_messages_dead_lettered_total', deadLetters.length);
      this.onOutput(h, msg.id, { batches: [], security: [], logs: [], alerts: [], deadLetters, stats: emptyStats() }, []);
    }
  }

  private onOutput(h: Lanehost, id: number, out: LaneOutput, vehicles: readonly VehicleRecord[]): void {
    const pending = h.pending.get(id);
    h.pending.delete(id);
    if (pending && pending.units === 0 && !pending.frames) this.ticksInFlight--;
    out = this.dropSwitchedOff(out);
    if (this.correlation && out.alerts.length) out = this.dropSwitchedOff(this.correlate(out));
    const acks = h.pendingAcks.get(id);
    h.pendingAcks.delete(id);
    const n = pending?.units ?? 0;
    for (const [key, name] of STAT_COUNTERS) if (out.stats[key]) this.metrics.inc(name, out.stats[key]);
    const stored = out.alerts.length && this.alertListeners.length ? out.alerts : undefined;
    this.writer.enqueue({
      out,
      vehicles,
      done: () => {
        h.inFlight -= n;
        if (acks) for (const ack of acks) ack?.();
        if (stored) this.notifyAlerts(stored);
        this.wakeReady();
      },
    });
  }

  /** A listener's failure must not fail the store write that already succeeded. */
  private notifyAlerts(alerts: readonly Alert[]): void {
    for (const listener of this.alertListeners) {
      try {
        listener(alerts);
      } catch (e) {
        this.workerErrors.push(`alert listener failed: ${(e as Error).message}`);
      }
    }
  }

  /** `out` without the alerts of rules switched off for their tenant. */
  private dropSwitchedOff(out: LaneOutput): LaneOutput {
    const kept = this.switches.keep(out.alerts);
    if (kept === out.alerts) return out;
    return { ...out, alerts: [...kept], stats: { ...out.stats, alerts: out.stats.alerts - (out.alerts.length - kept.length) } };
  }

  /** Alerts of one worker through the fleet correlation rules; what they raise is stored with them. */
  private correlate(out: LaneOutput): LaneOutput {
    const more = this.correlation!.alerts(out.alerts);
    if (!more.length) return out;
    return { ...out, alerts: [...out.alerts, ...more], stats: { ...out.stats, alerts: out.stats.alerts + more.length } };
  }

  private wakeReady(): void {
    if (!this.readyWaiters.length || !this.canAccept()) return;
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w();
  }
}

/**
 * Start a worker thread for a lane. From compiled JavaScript the worker file is loaded
 * directly; from TypeScript sources (tests, bench) a tiny bootstrap registers tsx inside
 * the worker first, because Node 20 does not apply `--import` hooks to a worker's entry.
 */
function spawnWorker(workerData: LaneOptions): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), { workerData });
  const entry = JSON.stringify(new URL('./worker.ts', import.meta.url).href);
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${entry}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
