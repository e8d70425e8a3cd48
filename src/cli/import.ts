/**
 * `vigil import FILE...` (as fast as the pipeline takes it) and `vigil replay FILE... --speed N`
 * (at recorded timing, N times faster): candump logs, CAN CSV traces, JSONL wire messages,
 * plain, `.gz` or `.zip`. An embedded pipeline (no HTTP, no sources) runs on the store the
 * config names and stops when the files are in. Formats and mappings: src/decode/can-text/README.md.
 *
 * A progress bar goes to stderr on a terminal; a summary line goes to stdout either way. Exit
 * code 1 when a file could not be read (its error on stderr); bad lines are dead-lettered.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { systemClock, type Clock } from '../core/clock.js';
import { ConfigError, StoreError } from '../core/errors.js';
import type { RecordKind } from '../core/records.js';
import { resolveCsvMapping, type CsvMapping } from '../decode/can-text/csv-mapping.js';
import { TRACE_FORMATS, type TraceFormat } from '../decode/file-format.js';
import { RECORD_KINDS } from '../decode/jsonl.js';
import { ingestTraces, type IngestProgress, type IngestResult } from '../adapters/files/ingest.js';
import { Pacer, realSleep, type Sleep } from '../adapters/files/pace.js';
import { startVigil, type Vigil } from '../api/vigil.js';
import { isValidVin } from '../normalize/vin.js';
import { parseConfig, type VigilConfig } from '../runtime/config.js';
import { recordImportCommands, type StoreFlags } from './import-records.js';
import { readConfigFile } from './serve.js';

/** What the commands touch outside themselves; tests pass a manual clock and capture the output. */
export interface ImportEnv {
  readonly clock: Clock;
  readonly sleep: Sleep;
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { write(s: string): unknown; isTTY?: boolean };
  /** Lanes on the calling thread (tests). */
  readonly inline?: boolean;
}

const defaultEnv = (): ImportEnv => ({ clock: systemClock, sleep: realSleep, stdout: process.stdout, stderr: process.stderr });

interface Flags {
  readonly config?: string;
  readonly dataDir?: string;
  readonly memory?: boolean;
  readonly tenant?: string;
  readonly vin?: string;
  readonly format?: TraceFormat;
  readonly layout?: string;
  readonly mapping?: string;
  readonly map: string[];
  readonly kind?: RecordKind;
  readonly start?: number;
  readonly speed?: number;
}

export const importCommand = (env: ImportEnv = defaultEnv()): Command => {
  const cmd = withTraceOptions(new Command('import'))
    .description('import trace files (candump, CAN CSV, JSONL; .gz/.zip) as fast as the pipeline takes them; `import vehicles|alerts FILE` for onboarding files')
    // Options after `vehicles`/`alerts` belong to the subcommand (a trace file named so: ./vehicles).
    .enablePositionalOptions()
    .action((files: string[], flags: Flags) => run(files, flags, env, 'import'));
  for (const sub of recordImportCommands(env, configOf)) cmd.addCommand(sub);
  return cmd;
};

export const replayCommand = (env: ImportEnv = defaultEnv()): Command =>
  withTraceOptions(new Command('replay'))
    .description('replay trace files at their recorded timing, --speed times faster')
    .option('--speed <x>', 'recorded seconds per second (2: twice as fast)', positive, 1)
    .action((files: string[], flags: Flags) => run(files, flags, env, 'replay'));

function withTraceOptions(cmd: Command): Command {
  cmd
    .argument('<files...>', 'trace files')
    .option('-c, --config <file>', 'config file as for vigil serve (store, runtime, normalize; sources are not started)')
    .option('--data-dir <dir>', 'data directory (overrides the config)')
    .option('--memory', 'in-memory store: keeps nothing (trials, measurements)')
    .option('--tenant <tenant>', 'tenant of everything imported (default: the config tenant)')
    .option('--vin <vin>', 'vehicle of CAN traces (default: a file named <VIN>.log, or a mapped vehicle column)')
    .addOption(new Option('--kind <kind>', 'JSONL record kind of lines that name none (instead of the file name\'s: signals.jsonl, security.jsonl, log.jsonl)').choices(RECORD_KINDS));
  return withTraceFormatOptions(cmd);
}

/** How trace files are read (`--format`, CSV `--layout`/`--mapping`/`--map`, `--start`); shared with `vigil eval can`. */
export function withTraceFormatOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--format <format>', 'skip format detection').choices(TRACE_FORMATS))
    .option('--layout <name>', 'CSV layout: daga | road')
    .option('--mapping <file>', 'CSV column mapping file (YAML or JSON)')
    .option('--map <key=value>', 'CSV mapping entry, repeatable (e.g. --map time.unit=ms)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--start <time>', 'epoch ms or ISO 8601 time that relative CAN times count from (default: now)', startTime);
}

function positive(v: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('expected a positive number');
  return n;
}

function startTime(v: string): number {
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('expected epoch milliseconds or an ISO 8601 time');
  return n;
}

/** The config file (or defaults) with the command's overrides: no HTTP, no sources. */
function configOf(flags: StoreFlags): VigilConfig {
  const base = flags.config ? readConfigFile(flags.config) : parseConfig({});
  const tenant = flags.tenant === undefined ? base.tenant : parseConfig({ tenant: flags.tenant }).tenant;
  return {
    ...base,
    tenant,
    dataDir: flags.dataDir ?? base.dataDir,
    store: flags.memory ? { ...base.store, path: ':memory:' } : base.store,
    http: { ...base.http, enabled: false },
    sources: [],
  };
}

/** The CSV column mapping the trace flags name (`--layout`, `--mapping FILE`, `--map k=v`); shared with `vigil eval can`. */
export function mappingOf(flags: { readonly mapping?: string; readonly layout?: string; readonly map: readonly string[] }): CsvMapping | undefined {
  let file: { text: string; name: string } | undefined;
  if (flags.mapping) {
    try {
      file = { text: readFileSync(flags.mapping, 'utf8'), name: flags.mapping };
    } catch (e) {
      throw new ConfigError(`cannot read the mapping file ${flags.mapping}`, [(e as Error).message], { cause: e });
    }
  }
  return resolveCsvMapping({ ...(flags.layout ? { layout: flags.layout } : {}), ...(file ? { file } : {}), map: flags.map });
}

async function run(files: string[], flags: Flags, env: ImportEnv, verb: 'import' | 'replay'): Promise<void> {
  const config = configOf(flags);
  const mapping = mappingOf(flags);
  if (flags.vin !== undefined && !isValidVin(flags.vin, { checkDigit: config.normalize.vinCheckDigit })) {
    throw new ConfigError(`--vin ${JSON.stringify(flags.vin)} is not a valid VIN`, [
      `17 characters 0-9 and A-Z without I, O, Q${config.normalize.vinCheckDigit ? ', with the ISO 3779 check digit (normalize.vinCheckDigit)' : ''}`,
    ]);
  }
  const { clock } = env;
  const vigil = await startVigil(config, { clock, ...(env.inline ? { inline: true } : {}) }).catch((e: unknown) => {
    // A running server holds the store file: say what to do.
    if (e instanceof StoreError && /lock/i.test(e.message)) {
      throw new StoreError(`${e.message}\n  the store is in use (vigil serve?): stop it, or import into another --data-dir`, undefined, undefined, { cause: e });
    }
    throw e;
  });
  const bar = env.stderr.isTTY ? new ProgressBar(env.stderr, clock) : undefined;
  const t0 = clock.now();
  let result: IngestResult;
  try {
    result = await ingestTraces(files, {
      pipeline: vigil.pipeline,
      tenant: config.tenant,
      now: () => clock.now(),
      ...(flags.vin !== undefined ? { vin: flags.vin } : {}),
      ...(flags.format ? { format: flags.format } : {}),
      ...(mapping ? { mapping } : {}),
      ...(flags.kind ? { kind: flags.kind } : {}),
      ...(flags.start !== undefined ? { start: flags.start } : {}),
      ...(verb === 'replay' ? { pacer: new Pacer(clock, flags.speed ?? 1, env.sleep), chunkFrames: 4096, eventTimes: true } : {}),
      ...(bar ? { onProgress: (p: IngestProgress) => bar.update(p) } : {}),
    });
  } finally {
    bar?.done();
    await vigil.stop();
  }
  const seconds = Math.max(1e-3, (clock.now() - t0) / 1000);
  for (const f of result.failed) env.stderr.write(`vigil ${verb}: ${f.error}\n`);
  env.stdout.write(`${summaryLine(verb, files.length, result, vigil, seconds)}\n`);
  if (result.failed.length) process.exitCode = 1;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/**
 * One line: files, frames, records, rejected, seconds, rate. Rejected counts the lines the
 * reader refused, plus what the lanes refused downstream (frames of a batch with a bad VIN,
 * records failing their checks); the pipeline counts a refused frame batch as one message.
 */
function summaryLine(verb: string, files: number, r: IngestResult, vigil: Vigil, seconds: number): string {
  const m = vigil.pipeline.metrics;
  const framesRefused = m.get('vigil_can_frames_dead_lettered_total');
  const messagesRefused = m.get('vigil_messages_dead_lettered_total');
  const rate = (r.frames + r.records) / seconds;
  const downstream = framesRefused + messagesRefused;
  const rejected = downstream ? `${fmt(r.rejected)} lines rejected, and the pipeline refused ${fmt(framesRefused)} frames and ${fmt(messagesRefused)} messages` : `${fmt(r.rejected)} rejected`;
  return [
    `${verb === 'import' ? 'imported' : 'replayed'} ${files} file${files === 1 ? '' : 's'}${r.failed.length ? ` (${r.failed.length} unreadable)` : ''}:`,
    `${fmt(r.frames)} frames${r.labelled ? ` (${fmt(r.labelled)} labelled attack)` : ''},`,
    `${fmt(r.records)} records,`,
    `${rejected},`,
    `${seconds.toFixed(1)} s,`,
    `${fmt(rate)} ${r.records > r.frames ? 'records' : 'frames'}/s${r.rejected + downstream ? ' (see vigil dlq list)' : ''}`,
  ].join(' ');
}

/** `[#####-----] 45%  12.3/27.0 MB  245,144 frames  512,000/s  file` on one terminal line, redrawn at most 10 times a second. */
class ProgressBar {
  private last = 0;
  private readonly t0: number;

  constructor(
    private readonly out: { write(s: string): unknown },
    private readonly clock: Clock,
  ) {
    this.t0 = clock.now();
  }

  update(p: IngestProgress): void {
    const now = this.clock.now();
    if (now - this.last < 100) return;
    this.last = now;
    const frac = p.bytesTotal > 0 ? Math.min(1, p.bytesRead / p.bytesTotal) : 0;
    const width = 24;
    const full = Math.round(frac * width);
    const rate = (p.frames + p.records) / Math.max(1e-3, (now - this.t0) / 1000);
    const mb = (n: number): string => (n / 1e6).toFixed(1);
    const what = p.records > p.frames ? `${fmt(p.records)} records` : `${fmt(p.frames)} frames`;
    const name = p.file.split('/').pop() ?? p.file;
    this.out.write(`\r\x1b[K[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${mb(p.bytesRead)}/${mb(p.bytesTotal)} MB  ${what}  ${fmt(rate)}/s  ${p.rejected ? `${fmt(p.rejected)} rejected  ` : ''}${name}`);
  }

  done(): void {
    this.out.write('\r\x1b[K');
  }
}
