/**
 * A lane is what one worker does with a hand-over of raw messages: decode, normalize,
 * update twins, detect. It owns the twins and detector state of its partitions. Output is
 * columnar signal batches (one per tenant) plus the rarer records, and every message is
 * accounted for: stored, dead-lettered whole, or (entry by entry) partly dead-lettered.
 */
import { randomUUID } from 'node:crypto';
import { SignalBatchBuilder, type SignalBatch } from '../core/batch.js';
import { SignalCatalog, type SignalSpec } from '../core/catalog.js';
import { candumpText, type CanFrameBatch } from '../core/can.js';
import type { Clock } from '../core/clock.js';
import type { Alert, ApiEvent, DeadLetter, RecordKind, SecurityEvent, VehicleRecord } from '../core/records.js';
import { compileCanBinding, type CanBinding, type CanBindingSource, type RefusedValues } from '../decode/dbc/bind.js';
import { decodeLog, decodeSecurity, decodeSignals } from '../decode/json.js';
import { OcppCallWindow } from '../decode/logs/ocpp-window.js';
import { decodePayload, type Encoding, type PayloadContext } from '../decode/payload.js';
import type { Reject } from '../decode/reject.js';
import { GeoIp } from '../normalize/geoip.js';
import { BaselineDetector, DEFAULT_BASELINE, type BaselineParams } from '../detect/baseline.js';
import { BUILTIN_DETECTORS } from '../detect/builtin.js';
import { CanIdsVehicles, type CanIdsEntry } from '../detect/can/vehicles.js';
import { SignalEngine } from '../detect/engine.js';
import { RuleRunner, type RuleFile } from '../detect/rules/index.js';
import type { CustomRule } from '../detect/rules/custom.js';
import { securityEventAlert } from '../detect/security.js';
import { RecentIds } from '../normalize/dedupe.js';
import type { NormalizePolicy } from '../normalize/policy.js';
import { Pseudonymizer } from '../normalize/pseudonym.js';
import { normalizeLog, normalizeSecurity } from '../normalize/records.js';
import { DEFAULT_SECURITY_EXTRACT, type SecurityEventDef } from '../normalize/security-extract.js';
import { SignalNormalizer, type EntryReject } from '../normalize/signals.js';
import { isValidVin } from '../normalize/vin.js';
import { TwinRegistry } from '../twin/twins.js';
import { IndicatorDetector } from '../intel/indicators/detector.js';
import type { CompileReport } from '../intel/indicators/compile.js';
import type { Indicator } from '../intel/model.js';
import { compileRulePack } from './detection.js';

/** One raw message as a source received it. */
export interface InputItem {
  readonly kind: RecordKind;
  readonly tenant: string;
  readonly source: string;
  readonly payload: string | Uint8Array;
  /** How the payload is encoded (default JSON); see src/decode/payload.ts. */
  readonly encoding?: Encoding;
  readonly receivedAt: number;
  /**
   * The transport's id of this message, when it has one (a JetStream stream sequence): a
   * redelivery carries the same id, so a signals message without a `seq` is still recognised
   * as a duplicate. The payload's own `seq` wins when both are present.
   */
  readonly transportId?: string;
  /** What the source knows that the payload may not say: log service, OCPP charge point, signal units. */
  readonly context?: PayloadContext;
}

export interface LaneOptions {
  readonly catalog: readonly SignalSpec[];
  readonly catalogIds: ReadonlyMap<string, number>;
  readonly policy: NormalizePolicy;
  readonly secret: string;
  /** Run detectors (default true). */
  readonly detect?: boolean;
  /**
   * `decode`: parse and shape-check each message, count its entries, keep nothing. This is
   * the benchmark's decode-only limit; everything else is `full`.
   */
  readonly mode?: 'full' | 'decode';
  /** IdsM event id -> meaning (default: the built-in extract); from `security.extract` in the config. */
  readonly securityExtract?: ReadonlyMap<number, SecurityEventDef>;
  /** DBC + mapping per vehicle group, first match wins; from `can.dbc` in the config. */
  readonly can?: readonly CanBindingOption[];
  /** Learnt CAN profiles per vehicle group, first match wins; from `can.ids` in the config. */
  readonly canIds?: readonly CanIdsEntry[];
  /** Cohort-baseline deviation parameters (default DEFAULT_BASELINE = rules/models/cohort-baseline.yaml). */
  readonly baseline?: BaselineParams;
  /** A MaxMind DB file's bytes (shared by the lanes) locating API callers (src/normalize/geoip.ts). */
  readonly geoip?: Uint8Array;
  /** Detection rule files (YAML text: a worker compiles them; see src/detect/rules). */
  readonly rules?: readonly RuleFile[];
  /** Rule ids not to run (config `detection.disabled`). */
  readonly disabledRules?: readonly string[];
  /** Per-tenant rule parameter overrides in force (rule tuning, src/detect/rules/tuning.ts). */
  readonly ruleTuning?: readonly RuleTuningEntry[];
  /**
   * Tenants' own rules in force (detections made from templates, src/detect/rules/custom.ts).
   * Given (even empty), the lane runs a rule runner without a pack too, so rules can be added later.
   */
  readonly customDetections?: readonly CustomRule[];
  /** STIX indicators API and security events are matched against (src/intel/indicators); later sets through `setIndicators`. */
  readonly indicators?: readonly Indicator[];
}

/** A change to the tenants' own rules a lane runs. */
export type CustomRuleChange = { readonly op: 'add'; readonly rule: CustomRule } | { readonly op: 'remove'; readonly tenant: string; readonly id: string };

/** One tenant's overrides of one rule's parameters. */
export interface RuleTuningEntry {
  readonly tenant: string;
  readonly rule: string;
  readonly params: Readonly<Record<string, unknown>>;
}

/** A DBC and its VSS mapping (as text: a worker compiles them), and the vehicles it decodes. */
export interface CanBindingOption extends CanBindingSource {
  readonly match?: CanMatch;
}

/** Which frame batches a DBC decodes: all given conditions hold. */
export interface CanMatch {
  readonly tenant?: string;
  /** VIN prefix: the WMI (`YV1`: Volvo cars), or WMI + model code. */
  readonly vin?: string;
  /** Bus or interface name of the batch (`can0`). */
  readonly bus?: string;
}

export interface LaneStats {
  messages: number;
  /** Messages dead-lettered whole. */
  messagesRejected: number;
  signalRows: number;
  /** Signal entries dead-lettered one by one (their message was accepted). */
  entriesRejected: number;
  /** Entries dropped by policy (`unknownSignals: ignore`). */
  entriesIgnored: number;
  /** Messages dropped as duplicates of a recent record id (intentional, counted). */
  duplicates: number;
  late: number;
  securityEvents: number;
  logEvents: number;
  alerts: number;
  alertsSuppressed: number;
  /** Raw CAN frames accepted (stored) and refused (dead-lettered with their batch). */
  canFrames: number;
  canFramesRejected: number;
  /** Security events whose id the extract does not know (stored as IDSM_0x...., severity medium). */
  securityUnknown: number;
  /** Frames of a vehicle with a DBC whose id that DBC does not define (stored raw, not decoded). */
  canFramesUnknownId: number;
  /** Frames of vehicles no DBC is bound to (stored raw, not decoded). */
  canFramesNoDbc: number;
  /** Frames the CAN IDS flagged (`can.ids`), and vehicles whose IDS state was dropped for the cap. */
  canFramesFlagged: number;
  canIdsEvicted: number;
  /** Record-indicator matches (before deduplication; the deduplicated ones count in alertsSuppressed). */
  indicatorHits: number;
}

/** Raw frames of one vehicle, keyed by its pseudonym, for the store. */
export interface VehicleFrames {
  readonly vehicle: string;
  readonly batch: CanFrameBatch;
}

export interface LaneOutput {
  readonly batches: SignalBatch[];
  readonly frames?: VehicleFrames[];
  readonly security: SecurityEvent[];
  readonly logs: ApiEvent[];
  readonly alerts: Alert[];
  readonly deadLetters: DeadLetter[];
  readonly stats: LaneStats;
}

export const emptyStats = (): LaneStats => ({
  messages: 0, messagesRejected: 0, signalRows: 0, entriesRejected: 0, entriesIgnored: 0,
  duplicates: 0, late: 0, securityEvents: 0, logEvents: 0, alerts: 0, alertsSuppressed: 0,
  canFrames: 0, canFramesRejected: 0, securityUnknown: 0, canFramesUnknownId: 0, canFramesNoDbc: 0,
  canFramesFlagged: 0, canIdsEvicted: 0, indicatorHits: 0,
});

const encoder = new TextEncoder();
const bytes = (p: string | Uint8Array): Uint8Array => (typeof p === 'string' ? encoder.encode(p) : p);

function countEntries(signals: Readonly<Record<string, unknown>> | undefined, samples: readonly unknown[] | undefined): number {
  let n = samples?.length ?? 0;
  for (const _ in signals) n++;
  return n;
}

export class Lane {
  readonly twins: TwinRegistry;
  private readonly normalizer: SignalNormalizer;
  private readonly pseudonyms: Pseudonymizer;
  private readonly engine: SignalEngine | undefined;
  private readonly rules: RuleRunner | undefined;
  private readonly recent = new RecentIds();
  /** Recent OCPP calls, to resolve results to their action (stateful, bounded). */
  private readonly ocppCalls = new OcppCallWindow();
  private readonly securityExtract: ReadonlyMap<number, SecurityEventDef>;
  private readonly can: readonly { readonly match?: CanMatch; readonly binding: CanBinding }[];
  private readonly canIds: CanIdsVehicles | undefined;
  private readonly baseline: BaselineDetector | undefined;
  private readonly geoip: GeoIp | undefined;
  private readonly indicators: IndicatorDetector | undefined;

  constructor(
    private readonly opts: LaneOptions,
    private readonly clock: Clock,
  ) {
    const catalog = new SignalCatalog(opts.catalog, opts.catalogIds);
    this.pseudonyms = new Pseudonymizer(opts.secret);
    this.securityExtract = opts.securityExtract ?? DEFAULT_SECURITY_EXTRACT;
    this.normalizer = new SignalNormalizer(catalog, this.pseudonyms, opts.policy);
    this.geoip = opts.geoip ? new GeoIp(opts.geoip) : undefined;
    this.twins = new TwinRegistry(catalog, { cohortWindowMs: (opts.baseline ?? DEFAULT_BASELINE).windowMs });
    this.engine = opts.detect === false ? undefined : new SignalEngine(catalog, BUILTIN_DETECTORS, opts.policy.latenessMs);
    // Checked by the composition root (`vigil rules check`); a pack with problems throws here.
    this.rules = opts.detect === false || (!opts.rules?.length && !opts.customDetections) ? undefined
      : new RuleRunner(compileRulePack({ files: opts.rules ?? [], disabled: opts.disabledRules }, catalog, 'disable'), { clock, latenessMs: opts.policy.latenessMs });
    // Checked by the pipeline against the same pack before they reach a lane.
    for (const t of opts.ruleTuning ?? []) this.tune(t.tenant, t.rule, t.params);
    for (const rule of opts.customDetections ?? []) this.custom({ op: 'add', rule });
    // The composition root has checked these; a problem here is a bug, and fails loudly.
    this.can = (opts.can ?? []).map((c) => {
      const { binding, problems } = compileCanBinding(c, catalog);
      if (!binding) throw new Error(`CAN binding ${c.dbcFile} + ${c.mappingFile}: ${problems.join('; ')}`);
      return { binding, ...(c.match ? { match: c.match } : {}) };
    });
    this.baseline = opts.detect === false ? undefined : new BaselineDetector(catalog, opts.baseline);
    this.canIds = opts.detect === false || !opts.canIds?.length ? undefined : new CanIdsVehicles(opts.canIds);
    this.indicators = opts.detect === false ? undefined : new IndicatorDetector(opts.indicators ?? []);
  }

  /** Match API and security events against `indicators` from the next hand-over on (replacing the previous set). */
  setIndicators(indicators: readonly Indicator[]): CompileReport | undefined {
    return this.indicators?.setIndicators(indicators).report;
  }

  /** Run `rule` with `params` for `tenant` from the next hand-over on; the problems when they do not fit. */
  tune(tenant: string, rule: string, params: Readonly<Record<string, unknown>>): string[] {
    return this.rules ? this.rules.tune(tenant, rule, params) : ['no detection rules run in this lane'];
  }

  /** Add (or replace) or remove a tenant's own rule from the next hand-over on; the problems when it does not fit. */
  custom(change: CustomRuleChange): string[] {
    if (!this.rules) return ['no detection rules run in this lane'];
    if (change.op === 'add') return this.rules.addCustom(change.rule);
    this.rules.removeCustom(change.tenant, change.id);
    return [];
  }

  process(items: readonly InputItem[]): LaneOutput {
    const now = this.clock.now();
    const stats = emptyStats();
    const builders = new Map<string, SignalBatchBuilder>();
    const security: SecurityEvent[] = [];
    const logs: ApiEvent[] = [];
    const alerts: Alert[] = [];
    const deadLetters: DeadLetter[] = [];
    const entryRejects: EntryReject[] = [];

    // A message the transport redelivers (JetStream after a lost ack) carries the same
    // transportId: its dead letters get the same ids, so they are filed once.
    let deadOf: InputItem | undefined;
    let deadIndex = 0;
    const dead = (item: InputItem, kind: DeadLetter['kind'], r: Reject, raw: Uint8Array = bytes(item.payload)): void => {
      if (item !== deadOf) [deadOf, deadIndex] = [item, 0];
      const id = item.transportId === undefined ? randomUUID() : `${item.source}|${item.transportId}|${deadIndex++}`;
      deadLetters.push({ id, tenant: item.tenant, source: item.source, kind, code: r.code, reason: r.reason, receivedAt: item.receivedAt, raw });
    };

    const decodeOnly = this.opts.mode === 'decode';
    for (const item of items) {
      stats.messages++;
      const parsed = decodePayload(item.payload, item.encoding, { context: item.context, receivedAt: item.receivedAt, scope: item.tenant, ocppCalls: this.ocppCalls });
      if (decodeOnly) {
        const msg = parsed.ok && item.kind === 'signals' ? decodeSignals(parsed.value) : undefined;
        if (msg?.ok) stats.signalRows += countEntries(msg.value.signals, msg.value.samples);
        continue;
      }
      if (!parsed.ok) {
        stats.messagesRejected++;
        dead(item, item.kind, parsed.reject);
        continue;
      }
      const ctx = { tenant: item.tenant, source: item.source, now };
      if (item.kind === 'signals') {
        const msg = decodeSignals(parsed.value);
        if (!msg.ok) {
          stats.messagesRejected++;
          dead(item, 'signals', msg.reject);
          continue;
        }
        // With `ts` in the id, a sender whose sequence restarts (a TCU reboot) is not taken for a redelivery.
        const recordKey = msg.value.seq !== undefined ? `${msg.value.vin}/${msg.value.seq}/${msg.value.ts}` : item.transportId !== undefined ? `@${item.transportId}` : undefined;
        if (recordKey !== undefined && this.recent.seen(`${item.tenant}/${item.source}/${recordKey}`)) {
          stats.duplicates++;
          continue;
        }
        let b = builders.get(item.tenant);
        if (!b) builders.set(item.tenant, (b = new SignalBatchBuilder(item.tenant, 4096, item.receivedAt)));
        entryRejects.length = 0;
        const r = this.normalizer.normalize(msg.value, item.tenant, now, b, entryRejects, this.unitsOf(item));
        if (r.reject) {
          stats.messagesRejected++;
          dead(item, 'signals', r.reject);
          continue;
        }
        stats.signalRows += r.rows;
        stats.entriesIgnored += r.ignored;
        stats.entriesRejected += entryRejects.length;
        for (const e of entryRejects) dead(item, 'signals', e, encoder.encode(e.raw));
      } else if (item.kind === 'security') {
        const msg = decodeSecurity(parsed.value);
        const ev = msg.ok ? normalizeSecurity(msg.value, item.payload, ctx, this.pseudonyms, this.opts.policy, this.securityExtract) : msg;
        if (!ev.ok) {
          stats.messagesRejected++;
          dead(item, 'security', ev.reject);
          continue;
        }
        stats.securityEvents++;
        if (!this.securityExtract.has(ev.value.eventId)) stats.securityUnknown++;
        security.push(ev.value);
        const a = this.engine ? securityEventAlert(ev.value, now) : undefined;
        if (a) alerts.push(a);
      } else {
        const msg = decodeLog(parsed.value);
        const ev = msg.ok ? normalizeLog(msg.value, item.payload, ctx, this.pseudonyms, this.opts.policy) : msg;
        if (!ev.ok) {
          stats.messagesRejected++;
          dead(item, 'log', ev.reject);
          continue;
        }
        stats.logEvents++;
        logs.push(this.geoip ? this.geoip.enrich(ev.value) : ev.value);
      }
    }

    const batches: SignalBatch[] = [];
    for (const b of builders.values()) {
      if (b.size === 0) continue;
      const batch = b.build();
      batches.push(batch);
      if (this.engine) {
        const base = this.baseline!.process(batch, this.twins, now);
        alerts.push(...base.alerts);
        stats.alertsSuppressed += base.suppressed;
        const r = this.engine.process(batch, this.twins, now);
        stats.late += r.late;
        stats.alertsSuppressed += r.suppressed;
        alerts.push(...r.alerts);
      }
    }
    if (this.rules) alerts.push(...this.rules.process({ batches, security, logs }), ...this.rules.tickIfDue());
    if (this.indicators && (logs.length || security.length)) {
      const r = this.indicators.process(logs, security, now);
      alerts.push(...r.alerts);
      stats.indicatorHits += r.hits;
      stats.alertsSuppressed += r.suppressed;
    }
    stats.alerts = alerts.length;
    this.twins.noteEvents(security, alerts);
    return { batches, security, logs, alerts, deadLetters, stats };
  }

  /**
   * Raw CAN frames of one vehicle: the VIN is checked and pseudonymized and the frames kept
   * for the store. When a DBC is bound to the vehicle (`can.dbc`), its mapped signals are
   * decoded into a VSS signal batch, checked like any signal (values refused per target and
   * reason are dead-lettered with their frames as candump text) and fed to the twin and the
   * detectors. Frames whose id the DBC lacks, or of vehicles without a DBC, are counted; they
   * are stored raw all the same. A batch whose vehicle cannot be identified is dead-lettered
   * whole, as candump text.
   */
  processFrames(batch: CanFrameBatch): LaneOutput {
    const stats = emptyStats();
    stats.messages = 1;
    const out = { batches: [] as SignalBatch[], security: [], logs: [], alerts: [] as Alert[], deadLetters: [] as DeadLetter[], stats };
    if (!isValidVin(batch.vin, { checkDigit: this.opts.policy.vinCheckDigit })) {
      stats.messagesRejected = 1;
      stats.canFramesRejected = batch.size;
      out.deadLetters.push({
        id: randomUUID(), tenant: batch.tenant, source: batch.source, kind: 'can', code: 'vin.invalid',
        reason: `invalid VIN ${JSON.stringify(batch.vin.slice(0, 40))} for ${batch.size} CAN frames`,
        receivedAt: batch.receivedAt, raw: encoder.encode(candumpText(batch)),
      });
      return out;
    }
    const vehicle = this.pseudonyms.key(batch.tenant, batch.vin);
    stats.canFrames = batch.size;
    const frames = [{ vehicle, batch }];
    const now = this.clock.now();
    if (this.canIds && this.opts.mode !== 'decode') this.scoreFrames(batch, vehicle, now, out);
    const binding = this.opts.mode === 'decode' ? undefined : this.canBindingOf(batch);
    if (!binding) {
      stats.canFramesNoDbc = batch.size;
      stats.alerts = out.alerts.length;
      this.twins.noteEvents([], out.alerts);
      return { ...out, frames };
    }
    const b = new SignalBatchBuilder(batch.tenant, Math.max(64, batch.size), batch.receivedAt);
    const r = binding.map(batch, b, b.vehicleIndex(vehicle), now + this.opts.policy.maxFutureSkewMs);
    stats.canFramesUnknownId = r.unknownFrames;
    stats.signalRows = r.rows;
    stats.entriesIgnored = r.ignored;
    for (const g of r.refused) {
      stats.entriesRejected += g.count;
      out.deadLetters.push(refusedLetter(batch, g));
    }
    if (b.size > 0) {
      const signals = b.build();
      out.batches.push(signals);
      if (this.engine) {
        const base = this.baseline!.process(signals, this.twins, now);
        out.alerts.push(...base.alerts);
        stats.alertsSuppressed += base.suppressed;
        const d = this.engine.process(signals, this.twins, now);
        stats.late += d.late;
        stats.alertsSuppressed += d.suppressed;
        out.alerts.push(...d.alerts);
      }
      if (this.rules) out.alerts.push(...this.rules.signals(signals));
    }
    stats.alerts = out.alerts.length;
    this.twins.noteEvents([], out.alerts);
    return { ...out, frames };
  }

  /** The CAN IDS (`can.ids`) over one vehicle's frames, before any decoding: undecodable frames are attacks too. */
  private scoreFrames(batch: CanFrameBatch, vehicle: string, now: number, out: { alerts: Alert[]; stats: LaneStats }): void {
    const evicted = this.canIds!.evicted;
    const r = this.canIds!.score(batch, vehicle, now);
    if (!r) return;
    out.stats.canFramesFlagged = r.flagged;
    out.stats.alertsSuppressed += r.suppressed;
    out.stats.canIdsEvicted = this.canIds!.evicted - evicted;
    out.alerts.push(...r.alerts);
  }

  private canBindingOf(batch: CanFrameBatch): CanBinding | undefined {
    for (const c of this.can) {
      const m = c.match;
      if (m && ((m.tenant !== undefined && m.tenant !== batch.tenant) || (m.vin !== undefined && !batch.vin.startsWith(m.vin)) || (m.bus !== undefined && m.bus !== batch.bus))) continue;
      return c.binding;
    }
    return undefined;
  }

  /** Units the source declares (VSS path -> unit): what the transport says, over the source's configured `units`. */
  private unitsOf(item: InputItem): Readonly<Record<string, string>> | undefined {
    const configured = this.opts.policy.sourceUnits?.[item.source];
    const told = item.context?.units;
    return told === undefined ? configured : configured === undefined ? told : { ...configured, ...told };
  }

  /**
   * Clock tick without traffic: absence rules judge vehicles that went silent. The pipeline
   * calls it on a timer, so a worker that receives nothing still raises those alerts.
   */
  tick(): LaneOutput {
    const stats = emptyStats();
    const alerts = this.rules?.tick() ?? [];
    stats.alerts = alerts.length;
    this.twins.noteEvents([], alerts);
    return { batches: [], security: [], logs: [], alerts, deadLetters: [], stats };
  }

  /** Twin summaries changed since the last call. */
  takeVehicleUpdates(): VehicleRecord[] {
    return this.twins.takeDirty();
  }
}

/** Decoded values refused for one target and reason: one dead letter, with their frames as candump text. */
function refusedLetter(batch: CanFrameBatch, g: RefusedValues): DeadLetter {
  const f = g.frames;
  const pick = <T extends Float64Array | Uint32Array | Uint8Array>(col: T, make: (n: number) => T): T => {
    const o = make(f.length);
    for (let i = 0; i < f.length; i++) o[i] = col[f[i]!]!;
    return o;
  };
  const data = new Uint8Array(f.length * batch.stride);
  for (let i = 0; i < f.length; i++) data.set(batch.data.subarray(f[i]! * batch.stride, (f[i]! + 1) * batch.stride), i * batch.stride);
  const { label: _label, ...head } = batch;
  const subset: CanFrameBatch = {
    ...head, size: f.length, data,
    time: pick(batch.time, (n) => new Float64Array(n)), id: pick(batch.id, (n) => new Uint32Array(n)), dlc: pick(batch.dlc, (n) => new Uint8Array(n)),
  };
  return {
    id: randomUUID(), tenant: batch.tenant, source: batch.source, kind: 'can', code: g.code,
    reason: g.reason, receivedAt: batch.receivedAt, raw: encoder.encode(candumpText(subset)),
  };
}
