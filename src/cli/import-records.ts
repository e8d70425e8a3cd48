/**
 * `vigil import vehicles FILE [--format csv|jsonl]` and `vigil import alerts FILE [--triage]`:
 * onboarding files (README "Onboarding and exchange") applied to the store a config names,
 * through an embedded pipeline as `vigil import` of traces runs it (no HTTP, no sources).
 * Vehicles are registered by VIN (pseudonymized with the tenant key, the twins get identity
 * and ECU software); alerts are stored idempotently by id.
 *
 * Every refused row is printed on stderr as `FILE:LINE: reason` and dead-lettered; a summary
 * line goes to stdout. Exit code 1 when the file cannot be read, its header is unusable, or
 * any row was refused, so a script notices.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Command, Option } from 'commander';
import { ConfigError } from '../core/errors.js';
import { formatOfName, ONBOARDING_FORMATS, type OnboardingFormat } from '../normalize/onboarding.js';
import { Pseudonymizer } from '../normalize/pseudonym.js';
import type { VigilConfig } from '../runtime/config.js';
import { importAlerts, importVehicles, triageAlerts, type ImportReport, type OnboardingDeps } from '../api/onboarding.js';
import { loadSecret } from '../api/secret.js';
import { startVigil, type Vigil } from '../api/vigil.js';
import type { ImportEnv } from './import.js';

/** The store options every import shares (`-c`, `--data-dir`, `--memory`, `--tenant`). */
export interface StoreFlags {
  readonly config?: string;
  readonly dataDir?: string;
  readonly memory?: boolean;
  readonly tenant?: string;
}

type ConfigOf = (flags: StoreFlags) => VigilConfig;

/**
 * The `vehicles` and `alerts` subcommands of `vigil import`; `configOf` is import's own config
 * resolution. Options are read with those of `import` itself: a program that does not use
 * positional options hands `import` the options written after the subcommand.
 */
export function recordImportCommands(env: ImportEnv, configOf: ConfigOf): Command[] {
  const vehicles = withStoreOptions(new Command('vehicles'))
    .description('register vehicles (VIN, make, model, year, trim, region, ECU software) from CSV or JSONL')
    .argument('<file>', 'vehicle file (.csv, .jsonl)')
    .addOption(new Option('--format <format>', 'file format (default: from the file name)').choices(ONBOARDING_FORMATS))
    .action((file: string, _local: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<StoreFlags & { format?: OnboardingFormat }>();
      const format = flags.format ?? formatOfName(file);
      if (!format) throw new ConfigError(`cannot tell the format of ${file}`, ['name it .csv or .jsonl, or pass --format csv|jsonl']);
      // `import` itself may have taken --format (its choices include candump).
      if (!(ONBOARDING_FORMATS as readonly string[]).includes(format)) throw new ConfigError(`--format ${format} is not a vehicle file format`, ['csv or jsonl']);
      return run(env, configOf(flags), file, 'vehicles', (deps, req) => importVehicles(deps, { ...req, format }));
    });
  const alerts = withStoreOptions(new Command('alerts'))
    .description('import historical alerts (JSONL), idempotent by id')
    .argument('<file>', 'alert file (.jsonl)')
    .option('--triage', 'run the imported alerts through the alert pipeline so they form incidents')
    .action((file: string, _local: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<StoreFlags & { triage?: boolean }>();
      return run(env, configOf(flags), file, 'alerts', async (deps, req, vigil) => {
        const report = await importAlerts(deps, req);
        if (!flags.triage) return report;
        const t = await triageAlerts({ service: vigil.alerts.service, queries: vigil.alerts.incidents }, req.tenant, report.alerts);
        return { ...report, triaged: `; triage: ${t.incidents} incidents opened or joined, ${t.duplicates} duplicates, ${t.suppressed} suppressed${t.pending ? `, ${t.pending} left pending` : ''}` };
      });
    });
  return [vehicles, alerts];
}

function withStoreOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'config file as for vigil serve (store, normalize; sources are not started)')
    .option('--data-dir <dir>', 'data directory (overrides the config)')
    .option('--memory', 'in-memory store: keeps nothing (trials)')
    .option('--tenant <tenant>', 'tenant of everything imported (default: the config tenant)');
}

async function run(
  env: ImportEnv, config: VigilConfig, file: string, what: 'vehicles' | 'alerts',
  apply: (deps: OnboardingDeps, req: { tenant: string; text: string; source: string }, vigil: Vigil) => Promise<ImportReport & { triaged?: string }>,
): Promise<void> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read ${file}`, [(e as Error).message], { cause: e });
  }
  const memory = config.store.path === ':memory:';
  // The same secret startVigil loads, so alert VINs get the keys the lanes give them.
  const { secret } = loadSecret(config.normalize.secretEnv, memory ? undefined : config.dataDir);
  const vigil = await startVigil(config, { clock: env.clock, ...(env.inline ? { inline: true } : {}) });
  let report: ImportReport & { triaged?: string };
  try {
    report = await apply(
      { store: vigil.store, pipeline: vigil.pipeline, pseudonyms: new Pseudonymizer(secret), checkDigit: config.normalize.vinCheckDigit, now: () => env.clock.now() },
      { tenant: config.tenant, text, source: `import:${basename(file)}` },
      vigil,
    );
  } finally {
    await vigil.stop();
  }
  for (const e of report.errors) env.stderr.write(`${file}:${e.line}: ${e.reason}\n`);
  if (report.rejected > report.errors.length) env.stderr.write(`${file}: ... and ${report.rejected - report.errors.length} more rejected rows\n`);
  const code = what === 'vehicles' ? 'import.vehicle_invalid' : 'import.alert_invalid';
  env.stdout.write([
    `imported ${report.imported} ${what} from ${file} (tenant ${config.tenant})`,
    ...(report.duplicates ? [`, ${report.duplicates} already stored`] : []),
    report.rejected ? `, ${report.rejected} rejected (vigil dlq list --code ${code})` : '',
    report.triaged ?? '',
    '\n',
  ].join(''));
  if (report.rejected) process.exitCode = 1;
}
