/**
 * `vigil learn can --train CLEAN... --out profile.json` learns a CAN profile (see
 * src/detect/can/README.md) from clean traces; `vigil eval can --train CLEAN... --test
 * LABELLED... [--json]` learns the same way (or loads `--profile`) and scores every labelled
 * trace frame by frame: precision, recall, F1, false alerts per hour, detection latency.
 * Traces are read by the same reader and options as `vigil import` (candump, CAN CSV with
 * layouts and mappings, .gz/.zip). Lines that cannot be read are counted and reported per
 * file (an evaluation stores nothing, so there is no dead-letter store to keep them in).
 * `--cv K` holds out K stretches of the training traces in time, for test traces made by
 * injecting attacks into a training trace (DAGA): no scored clean frame was learnt from.
 * `vigil learn can --from-store --vin VIN --since T [--until T]` learns from live traffic the
 * pipeline stored (learn-store.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { evalFleetCommand } from './eval-fleet.js';
import { CanFrameBatchBuilder, type CanFrameBatch } from '../core/can.js';
import { ConfigError, DecodeError } from '../core/errors.js';
import type { CsvMapping } from '../decode/can-text/csv-mapping.js';
import { mappingOf, withTraceFormatOptions } from './import.js';
import { compileDbc, formatDiagnostic, parseDbc, type DbcDecoder } from '../decode/dbc/index.js';
import type { TraceFormat } from '../decode/file-format.js';
import { readTrace } from '../adapters/files/trace.js';
import { learnFromStore, openStoreFor } from './learn-store.js';
import {
  CanDetector,
  CanLearner,
  crossValidate,
  DbcSignalRanges,
  learnSignalRanges,
  parseCanProfile,
  TraceScorer,
  type CanProfile,
  type LearnOptions,
  type TraceScore,
} from '../detect/can/index.js';

export interface EvalEnv {
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { write(s: string): unknown };
}
const defaultEnv = (): EvalEnv => ({ stdout: process.stdout, stderr: process.stderr });

interface TraceFlags {
  readonly tenant?: string;
  readonly vin?: string;
  readonly format?: TraceFormat;
  readonly layout?: string;
  readonly mapping?: string;
  readonly map: string[];
  readonly start?: number;
}

interface LearnFlags extends TraceFlags {
  readonly train?: string[];
  readonly ngram: 'auto' | 'on' | 'off';
  readonly n: number;
  readonly dbc?: string;
}

interface EvalFlags extends LearnFlags {
  readonly test: string[];
  readonly profile?: string;
  readonly json?: boolean;
  readonly cv?: number;
  readonly cooldown?: number;
}

interface StoreFlags {
  readonly fromStore?: boolean;
  readonly config?: string;
  readonly since?: number;
  readonly until?: number;
}

/** A profile from the store's frames of one vehicle in the learning window. */
async function learnStored(flags: LearnFlags & StoreFlags): Promise<CanProfile> {
  const problems: string[] = [];
  if (flags.train !== undefined) problems.push('give either --train or --from-store, not both');
  if (flags.vin === undefined) problems.push('--from-store needs --vin: the vehicle to learn');
  if (flags.since === undefined) problems.push('--from-store needs --since: the start of the learning window');
  if (flags.dbc !== undefined) problems.push('--from-store does not learn DBC signal ranges; leave out --dbc');
  if (problems.length) throw new ConfigError('invalid vigil learn can --from-store', problems);
  const { store, tenant, vehicle } = await openStoreFor(flags.config, flags.tenant, flags.vin!);
  try {
    return await learnFromStore(store, { tenant, vehicle, since: flags.since!, until: flags.until ?? Date.now() }, learnOptions(flags));
  } finally {
    await store.close();
  }
}

function timeArg(v: string): number {
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(t)) throw new InvalidArgumentError('expected an ISO time (2026-12-01T08:00:00Z) or epoch ms');
  return t;
}

/** `vigil learn can`. */
export const learnCommand = (env: EvalEnv = defaultEnv()): Command =>
  new Command('learn').description('learn detection models from clean traffic').addCommand(
    withModelOptions(withTraceOptions(new Command('can')))
      .description('learn a CAN intrusion-detection profile (ids, timing, payload, id sequences) from clean traces')
      .option('--train <files...>', 'clean trace files (one bus of one vehicle)')
      .option('--from-store', 'learn from the raw frames the pipeline stored for --vin between --since and --until')
      .option('-c, --config <file>', 'with --from-store: the config of the store (store path, data directory, secret)')
      .option('--since <time>', 'with --from-store: start of the learning window (ISO time or epoch ms)', timeArg)
      .option('--until <time>', 'with --from-store: end of the learning window, exclusive (default: now)', timeArg)
      .requiredOption('--out <file>', 'where to write the profile (JSON)')
      .action(async (flags: LearnFlags & StoreFlags & { out: string }) => {
        const profile = flags.fromStore ? await learnStored(flags) : (await learnFrom(flags.train ?? [], flags, env)).profile;
        writeFileSync(flags.out, `${JSON.stringify(profile)}\n`);
        const enabled = profile.ngram.enabled ? 'on' : `off (held-out unseen ${pct(profile.ngram.holdoutUnseen)})`;
        env.stdout.write(`${flags.out}: ${profile.ids.length} ids from ${profile.trainedFrames.toLocaleString('en')} frames (${(profile.trainedMs / 1000).toFixed(1)} s); ${profile.ngram.n}-grams ${enabled}${profile.signals ? `; ${profile.signals.length} DBC signal ranges` : ''}\n`);
      }),
  );

/** `vigil eval can`. */
export const evalCommand = (env: EvalEnv = defaultEnv()): Command =>
  new Command('eval').description('score detectors on labelled data').addCommand(
    withModelOptions(withTraceOptions(new Command('can')))
      .description('learn on clean traces, score labelled traces frame by frame (precision, recall, F1, false alerts per hour, latency)')
      .option('--train <files...>', 'clean trace files to learn from')
      .option('--profile <file>', 'a profile from vigil learn can, instead of --train')
      .requiredOption('--test <files...>', 'labelled trace files to score')
      .option('--cv <k>', 'k-fold cross-validation in time over the training traces (test traces made from a training trace)', intAtLeast(2))
      .option('--cooldown <ms>', 'one alert per (id, model) within this many ms', intAtLeast(0))
      .option('--json', 'one JSON object per test file')
      .action((flags: EvalFlags) => runEval(flags, env)),
  ).addCommand(evalFleetCommand());

function withTraceOptions(cmd: Command): Command {
  return withTraceFormatOptions(
    cmd
      .option('--tenant <tenant>', 'tenant the frames are read for (default: eval; --from-store: the config tenant)')
      .option('--vin <vin>', 'vehicle of the traces (default: one unnamed vehicle)'),
  );
}

function withModelOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--ngram <mode>', 'id-sequence model: auto enables it when held-out training data supports it').choices(['auto', 'on', 'off']).default('auto'))
    .option('--n <n>', 'n-gram length (2..4)', intAtLeast(2), 2)
    .option('--dbc <file>', 'DBC of the bus: also learn and check per-signal ranges');
}

function intAtLeast(min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
    return n;
  };
}

const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;

function dbcOf(path: string | undefined): DbcDecoder | undefined {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read the DBC ${path}`, [(e as Error).message], { cause: e });
  }
  const { db, errors } = parseDbc(text, path);
  if (errors.length) throw new ConfigError(`invalid DBC ${path}`, errors.map(formatDiagnostic));
  return compileDbc(db);
}

/** The CAN frame batches of one file, in order; unreadable lines are counted and the first few reported. */
async function* framesOf(path: string, flags: TraceFlags, mapping: CsvMapping | undefined, env: EvalEnv): AsyncGenerator<CanFrameBatch> {
  let rejected = 0;
  const reasons: string[] = [];
  let frames = 0;
  for await (const c of readTrace(path, {
    tenant: flags.tenant ?? 'eval',
    vin: flags.vin ?? 'trace',
    ...(flags.format ? { format: flags.format } : {}),
    ...(mapping ? { mapping } : {}),
    start: flags.start ?? 0,
  })) {
    if (c.type === 'frames') {
      frames += c.batch.size;
      yield c.batch;
    } else if (c.type === 'rejects') {
      rejected += c.deadLetters.length;
      for (const d of c.deadLetters) if (reasons.length < 3) reasons.push(d.reason);
    } else if (c.type === 'records') throw new DecodeError(`${path}: holds JSONL wire messages, not CAN frames`);
  }
  if (frames === 0) throw new DecodeError(`${path}: no CAN frames`);
  if (rejected) env.stderr.write(`${path}: ${rejected} line(s) could not be read and were skipped; first: ${reasons.join(' | ')}\n`);
}

/** One batch holding a whole file (cross-validation slices it in time). */
async function wholeFile(path: string, flags: TraceFlags, mapping: CsvMapping | undefined, env: EvalEnv): Promise<CanFrameBatch> {
  const parts: CanFrameBatch[] = [];
  for await (const b of framesOf(path, flags, mapping, env)) parts.push(b);
  return concatBatches(parts);
}

function concatBatches(parts: readonly CanFrameBatch[]): CanFrameBatch {
  if (parts.length === 1) return parts[0]!;
  const first = parts[0]!;
  const stride = parts.some((p) => p.stride === 64) ? 64 : 8;
  const labels = parts.some((p) => p.label !== undefined);
  const b = new CanFrameBatchBuilder({ tenant: first.tenant, vin: first.vin, source: first.source, receivedAt: first.receivedAt, ...(first.bus !== undefined ? { bus: first.bus } : {}) }, parts.reduce((n, p) => n + p.size, 0), stride, labels);
  for (const p of parts) {
    for (let i = 0; i < p.size; i++) b.push(p.time[i]!, p.id[i]!, p.data.subarray(i * p.stride, i * p.stride + p.dlc[i]!), p.label?.[i] ?? 0);
  }
  return b.build();
}

function learnOptions(flags: LearnFlags): LearnOptions {
  if (flags.n > 4) throw new ConfigError('invalid --n', ['n-gram length must be 2..4']);
  return { n: flags.n, ngram: flags.ngram };
}

async function learnFrom(files: readonly string[], flags: LearnFlags, env: EvalEnv): Promise<{ profile: CanProfile; decoder?: DbcDecoder }> {
  if (!files.length) throw new ConfigError('nothing to learn from', ['give --train CLEAN... (or --profile for vigil eval can)']);
  const mapping = mappingOf(flags);
  const decoder = dbcOf(flags.dbc);
  const learner = new CanLearner(learnOptions(flags));
  const forSignals: CanFrameBatch[] = [];
  for (const f of files) {
    for await (const b of framesOf(f, flags, mapping, env)) {
      learner.add(b);
      if (decoder) forSignals.push(b);
    }
    learner.endSegment();
  }
  let profile = learner.profile();
  if (decoder) profile = { ...profile, signals: learnSignalRanges(decoder, forSignals) };
  return { profile, ...(decoder ? { decoder } : {}) };
}

async function runEval(flags: EvalFlags, env: EvalEnv): Promise<void> {
  if (flags.profile !== undefined && flags.train !== undefined) throw new ConfigError('give either --train or --profile, not both');
  if (flags.cv !== undefined && flags.train === undefined) throw new ConfigError('--cv learns from --train traces; it cannot use a saved --profile');
  if (flags.cv !== undefined && flags.dbc !== undefined) throw new ConfigError('--cv does not learn DBC signal ranges; leave out --dbc');
  const mapping = mappingOf(flags);
  let scores: TraceScore[];
  if (flags.cv !== undefined) {
    const train = await Promise.all(flags.train!.map((f) => wholeFile(f, flags, mapping, env)));
    const tests = [];
    for (const f of flags.test) tests.push({ file: f, batch: await wholeFile(f, flags, mapping, env) });
    scores = crossValidate(train, tests, flags.cv, learnOptions(flags), flags.cooldown !== undefined ? { alertCooldownMs: flags.cooldown } : {});
  } else {
    let profile: CanProfile;
    let decoder: DbcDecoder | undefined;
    if (flags.profile !== undefined) {
      profile = loadProfile(flags.profile);
      decoder = dbcOf(flags.dbc);
    } else ({ profile, decoder } = await learnFrom(flags.train ?? [], flags, env));
    const signals = decoder && profile.signals ? new DbcSignalRanges(decoder, profile.signals, profile.tolerances.signalSlack) : undefined;
    scores = [];
    for (const f of flags.test) {
      const det = new CanDetector(profile, { ...(signals ? { signals } : {}), ...(flags.cooldown !== undefined ? { alertCooldownMs: flags.cooldown } : {}) });
      const scorer = new TraceScorer(f);
      let out = new Uint8Array(0);
      for await (const b of framesOf(f, flags, mapping, env)) {
        if (out.length < b.size) out = new Uint8Array(b.size);
        const r = det.score(b, out);
        scorer.add(b, r.flags, r.alerts);
      }
      scores.push(scorer.finish());
    }
  }
  if (flags.json) for (const s of scores) env.stdout.write(`${JSON.stringify(jsonOf(s))}\n`);
  else env.stdout.write(table(scores));
}

function loadProfile(path: string): CanProfile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(`cannot read the profile ${path}`, [(e as Error).message], { cause: e });
  }
  return parseCanProfile(json, path);
}

const r4 = (x: number | null): number | null => (x === null ? null : Math.round(x * 1e4) / 1e4);

function jsonOf(s: TraceScore): Record<string, unknown> {
  return {
    file: s.file, frames: s.frames, attack_frames: s.attackFrames, tp: s.tp, fp: s.fp, fn: s.fn,
    precision: r4(s.precision), recall: r4(s.recall), f1: r4(s.f1),
    hours: r4(s.hours), alerts: s.alerts, false_alerts: s.falseAlerts, false_alerts_per_hour: r4(s.false_alerts_per_hour),
    episodes: s.episodes, episodes_detected: s.episodesDetected, latency_ms: s.latencyMs, models: s.models,
  };
}

function table(scores: readonly TraceScore[]): string {
  const f = (x: number | null): string => (x === null ? '-' : x.toFixed(4));
  const rows = [['file', 'frames', 'attacks', 'precision', 'recall', 'F1', 'false alerts', 'FA/h', 'episodes', 'latency p50/max ms']];
  for (const s of scores) {
    rows.push([
      s.file, String(s.frames), String(s.attackFrames), f(s.precision), f(s.recall), f(s.f1), String(s.falseAlerts), s.false_alerts_per_hour.toFixed(1),
      `${s.episodesDetected}/${s.episodes}`, s.latencyMs ? `${s.latencyMs.median.toFixed(1)}/${s.latencyMs.max.toFixed(1)}` : '-',
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n') + '\n';
}
