/**
 * `vigil intel ...`: threat intelligence on the store a config names.
 *
 *   vigil intel import <DIR|FILE|URL>...            feed documents (a folder is a feed); per-record report
 *   vigil intel sbom <FILE|DIR>... [--ecu E --software-version V --model M]
 *   vigil intel exposure <CVE> [--limit N]          vehicles exposed now, grouped and listed
 *   vigil intel vehicle <KEY|VIN>                   what exposes one vehicle
 *   vigil intel vex <CVE> <component-identity> <status> --reason "..." [--justification J]
 *
 * Imports, uploads and decisions run an embedded Vigil (no HTTP, no sources) so a first exposure
 * raises its alert and joins or opens an intel incident; `exposure` and `vehicle` only read the
 * store. Every command takes `--json`. Exit code 1 when an import rejected a record or an SBOM
 * could not be read.
 */
import { userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { systemClock } from '../core/clock.js';
import { ConfigError, StoreError } from '../core/errors.js';
import { DuckDBIntelStore } from '../adapters/duckdb/intel-store.js';
import { DuckDBStore } from '../adapters/duckdb/duckdb-store.js';
import { readDocuments } from '../adapters/files/intel-files.js';
import { loadSecret } from '../api/secret.js';
import { startVigil, type Vigil } from '../api/vigil.js';
import type { RecordReport } from '../intel/model.js';
import { isValidVin } from '../normalize/vin.js';
import { Pseudonymizer } from '../normalize/pseudonym.js';
import { parseConfig, type VigilConfig } from '../runtime/config.js';
import { readConfigFile } from './serve.js';

interface StoreFlags {
  readonly config?: string;
  readonly dataDir?: string;
  readonly memory?: boolean;
  readonly tenant?: string;
  readonly json?: boolean;
}

interface Out {
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { write(s: string): unknown };
}

const VEX_STATUSES = ['not_affected', 'affected', 'fixed', 'under_investigation'] as const;
const JUSTIFICATIONS = ['component_not_present', 'vulnerable_code_not_present', 'vulnerable_code_not_in_execute_path', 'vulnerable_code_cannot_be_controlled_by_adversary', 'inline_mitigations_already_exist'] as const;

export function intelCommand(out: Out = { stdout: process.stdout, stderr: process.stderr }): Command {
  const intel = new Command('intel').description('threat intelligence: feeds, SBOMs, exposure, VEX decisions');
  const withStore = (c: Command): Command => c
    .option('-c, --config <file>', 'config file as for vigil serve (store, normalize; sources are not started)')
    .option('--data-dir <dir>', 'data directory (overrides the config)')
    .option('--memory', 'in-memory store: keeps nothing (trials)')
    .option('--tenant <tenant>', 'tenant (default: the config tenant)')
    .option('--json', 'print JSON');

  intel.addCommand(withStore(new Command('import'))
    .description('import feed documents: CVE JSON 5, NVD 2.0, CSAF 2.0, OSV, CISA KEV, EPSS CSV, STIX 2.x, CycloneDX VEX (a folder is a feed; URLs are fetched)')
    .argument('<sources...>', 'files, folders or http(s) URLs')
    .action(async (sources: string[], flags: StoreFlags) => {
      await embedded(flags, async (vigil, config) => {
        const res = await vigil.intel.importSources(sources, { tenant: config.tenant, actor: cliActor() });
        await vigil.alerts.idle();
        if (flags.json) out.stdout.write(`${JSON.stringify({ run: res.run, added: res.added, changed: res.changed, alerts: res.alerts.map((a) => a.id), report: res.report })}\n`);
        else {
          for (const l of res.report) if (l.status !== 'ok') out.stdout.write(`${reportLine(l)}\n`);
          const r = res.run;
          out.stdout.write(`imported ${r.documents} document(s), ${r.records} record(s): ${r.ok} ok, ${r.partial} partial, ${r.rejected} rejected; ${res.added.length} vulnerabilities new, ${res.changed.length} changed, ${r.indicators} indicators; ${res.alerts.length} new-exposure alert(s) (run ${r.id})\n`);
        }
        if (res.run.rejected) process.exitCode = 1;
      });
    }));

  intel.addCommand(withStore(new Command('sbom'))
    .description('import SBOMs (CycloneDX 1.2-1.6 or SPDX 2.3 JSON; a folder: its .json files) and match them')
    .argument('<files...>', 'SBOM files or folders')
    .option('--ecu <name>', 'ECU the SBOM is for (wins over the document)')
    .option('--software-version <version>', 'ECU software version the SBOM is for')
    .option('--model <model>', 'vehicle model the SBOM is for')
    .action(async (files: string[], flags: StoreFlags & { ecu?: string; softwareVersion?: string; model?: string }) => {
      const binding = { ...(flags.ecu ? { ecu: flags.ecu } : {}), ...(flags.softwareVersion ? { softwareVersion: flags.softwareVersion } : {}), ...(flags.model ? { vehicleModel: flags.model } : {}) };
      const { docs, unreadable } = await readDocuments(files, { only: (f) => f.endsWith('.json') });
      for (const u of unreadable) out.stderr.write(`${u.document}: ${u.problems.join('; ')}\n`);
      await embedded(flags, async (vigil, config) => {
        const res = await vigil.intel.service.importSboms(docs, { tenant: config.tenant, actor: cliActor() }, Object.keys(binding).length ? binding : undefined);
        await vigil.alerts.idle();
        if (flags.json) out.stdout.write(`${JSON.stringify({ results: res.results, alerts: res.alerts.map((a) => a.id), unreadable })}\n`);
        else {
          res.results.forEach((r, i) => {
            const s = r.sbom;
            out.stdout.write(s
              ? `${s.document}: ${s.id} ${s.format}, ${s.components} components, ${s.ecu ?? '?'} ${s.softwareVersion ?? '?'}${s.vehicleModel ? ` (${s.vehicleModel})` : ''}${s.unboundReason ? ` — unbound: ${s.unboundReason}` : ''}; ${r.matches} matches${r.problems.length ? `; ${r.problems.length} problem(s): ${r.problems.slice(0, 3).join('; ')}` : ''}\n`
              : `${docs[i]!.name}: not imported: ${r.problems.join('; ')}\n`);
          });
          out.stdout.write(`${res.results.filter((r) => r.sbom).length} SBOM(s) imported for tenant ${config.tenant}; ${res.alerts.length} new-exposure alert(s)\n`);
        }
        if (unreadable.length || res.results.some((r) => !r.sbom)) process.exitCode = 1;
      });
    }));

  intel.addCommand(withStore(new Command('exposure'))
    .description('vehicles exposed now to a vulnerability (id or alias): counts by make, model, year, region, ECU software, and a list')
    .argument('<id>', 'CVE or advisory id, or an alias')
    .option('--limit <n>', 'vehicles listed', positive, 20)
    .action(async (id: string, flags: StoreFlags & { limit: number }) => {
      await reading(flags, async (intel, config) => {
        const vid = await intel.resolve(id);
        if (!vid) throw new ConfigError(`no vulnerability ${id} in the store`, ['import it first: vigil intel import <files>']);
        const { list = [], ...e } = await intel.exposure(config.tenant, vid, { limit: flags.limit });
        if (flags.json) return void out.stdout.write(`${JSON.stringify({ ...e, list })}\n`);
        out.stdout.write(`${vid}: ${e.vehicles} vehicle(s) exposed in tenant ${config.tenant} (${e.affected} affected, ${e.needsReview} need review)\n`);
        const table = (title: string, rows: readonly { label: string; vehicles: number; affected: number }[]): void => {
          if (!rows.length) return;
          out.stdout.write(`  by ${title}:\n${rows.map((r) => `    ${r.label.padEnd(36)} ${String(r.vehicles).padStart(8)}  (${r.affected} affected)`).join('\n')}\n`);
        };
        table('make', e.byMake.map((r) => ({ label: r.make ?? '(none)', ...r })));
        table('model', e.byModel.map((r) => ({ label: `${r.make ?? ''} ${r.model ?? '(none)'}`, ...r })));
        table('year', e.byYear.map((r) => ({ label: String(r.year ?? '(none)'), ...r })));
        table('region', e.byRegion.map((r) => ({ label: r.region ?? '(none)', ...r })));
        table('ECU software', e.bySoftware.map((r) => ({ label: `${r.ecu} ${r.softwareVersion}`, ...r })));
        for (const v of list) out.stdout.write(`  ${v.vehicle} ${v.make ?? ''} ${v.model ?? ''} ${v.year ?? ''} ${v.region ?? ''}: ${v.result} (${v.basis}, ${v.confidence}) ${v.ecus.map((x) => `${x.ecu} ${x.softwareVersion}`).join(', ')} [${v.components.join(', ')}]\n`);
      });
    }));

  intel.addCommand(withStore(new Command('vehicle'))
    .description('vulnerabilities exposing one vehicle now (its key, or its VIN)')
    .argument('<id>', 'vehicle key (16 hex digits) or VIN')
    .action(async (id: string, flags: StoreFlags) => {
      await reading(flags, async (intel, config) => {
        const key = vehicleKey(id, config);
        const list = await intel.vehicleVulnerabilities(config.tenant, key);
        if (flags.json) return void out.stdout.write(`${JSON.stringify({ vehicle: key, items: list })}\n`);
        out.stdout.write(`vehicle ${key}: ${list.length} vulnerabilit${list.length === 1 ? 'y' : 'ies'}\n`);
        for (const v of list) out.stdout.write(`  ${v.id} ${v.severity ?? '-'} cvss ${v.cvss ?? '-'}${v.kev ? ' KEV' : ''}: ${v.result} (${v.basis}, ${v.confidence}) on ${v.ecus.map((x) => `${x.ecu} ${x.softwareVersion}`).join(', ')} [${v.components.join(', ')}] — ${v.title}\n`);
      });
    }));

  intel.addCommand(withStore(new Command('vex'))
    .description("record an analyst's VEX decision for a component of a vulnerability; matches are redone")
    .argument('<id>', 'CVE or advisory id, or an alias')
    .argument('<component>', 'component identity: purl without qualifiers, else the first CPE, else name@version')
    .addArgument(new Command().createArgument('<status>', 'decision').choices(VEX_STATUSES))
    .requiredOption('--reason <text>', 'why (kept with the decision)')
    .addOption(new Option('--justification <j>', 'CISA VEX justification for not_affected').choices(JUSTIFICATIONS))
    .action(async (id: string, component: string, status: (typeof VEX_STATUSES)[number], flags: StoreFlags & { reason: string; justification?: string }) => {
      await embedded(flags, async (vigil, config) => {
        const vid = await vigil.intel.store.resolve(id);
        if (!vid) throw new ConfigError(`no vulnerability ${id} in the store`, ['import it first: vigil intel import <files>']);
        const decision = { tenant: config.tenant, vulnerability: vid, componentIdentity: component, status, ...(flags.justification ? { justification: flags.justification } : {}), reason: flags.reason, decidedBy: cliActor(), decidedAt: systemClock.now() };
        const { alerts } = await vigil.intel.service.decideVex(decision);
        await vigil.audit.append([{ principal: { tokenId: 'cli', name: cliActor(), role: 'admin', tenant: config.tenant }, tenant: config.tenant, action: 'intel.vex', targetType: 'vulnerability', targetId: vid, details: { componentIdentity: component, status, reason: flags.reason } }]);
        await vigil.alerts.idle();
        const e = await vigil.intel.store.exposure(config.tenant, vid);
        if (flags.json) out.stdout.write(`${JSON.stringify({ decision, exposure: { vehicles: e.vehicles, affected: e.affected, needsReview: e.needsReview }, alerts: alerts.map((a) => a.id) })}\n`);
        else out.stdout.write(`${vid} ${component}: ${status} recorded; ${e.vehicles} vehicle(s) exposed now (${e.affected} affected)\n`);
      });
    }));
  return intel;
}

function reportLine(l: RecordReport): string {
  return `${l.status.padEnd(8)} ${l.document} ${l.recordId}: ${l.problems.join('; ')}`;
}

const positive = (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

function configOf(flags: StoreFlags): VigilConfig {
  const base = flags.config ? readConfigFile(flags.config) : parseConfig({});
  const tenant = flags.tenant === undefined ? base.tenant : parseConfig({ tenant: flags.tenant }).tenant;
  return {
    ...base, tenant, dataDir: flags.dataDir ?? base.dataDir,
    store: flags.memory ? { ...base.store, path: ':memory:' } : base.store,
    http: { ...base.http, enabled: false }, sources: [],
    // What the config imports at start is not imported again by a one-off command.
    intel: { ...base.intel, feeds: [], sboms: [], simSboms: false },
  };
}

/** A Vigil without HTTP or sources, for commands that change things (alerts reach incidents). */
async function embedded(flags: StoreFlags, body: (vigil: Vigil, config: VigilConfig) => Promise<void>): Promise<void> {
  const config = configOf(flags);
  const vigil = await startVigil(config);
  try {
    await body(vigil, config);
  } finally {
    await vigil.stop();
  }
}

/** The store alone, for commands that only read. */
async function reading(flags: StoreFlags, body: (intel: DuckDBIntelStore, config: VigilConfig) => Promise<void>): Promise<void> {
  const config = configOf(flags);
  const path = config.store.path === ':memory:' || isAbsolute(config.store.path) ? config.store.path : join(config.dataDir, config.store.path);
  let store: DuckDBStore;
  try {
    store = await DuckDBStore.open({ path });
  } catch (e) {
    if (e instanceof StoreError && /lock/i.test(e.message)) {
      throw new StoreError(`the store ${path} is in use by a running Vigil; use its API (GET /v1/intel/...) or stop it first`, undefined, undefined, { cause: e });
    }
    throw e;
  }
  try {
    await body(new DuckDBIntelStore(store.connection), config);
  } finally {
    await store.close();
  }
}

function vehicleKey(id: string, config: VigilConfig): string {
  if (/^[0-9a-f]{16}$/.test(id)) return id;
  if (!isValidVin(id.toUpperCase(), { checkDigit: config.normalize.vinCheckDigit })) throw new ConfigError(`${id} is neither a vehicle key (16 hex digits) nor a valid VIN`, []);
  const { secret } = loadSecret(config.normalize.secretEnv, config.store.path === ':memory:' ? undefined : config.dataDir);
  return new Pseudonymizer(secret).key(config.tenant, id.toUpperCase());
}
