/**
 * `vigil report bulletin --from DATE --to DATE [--tenant T] --format html|pdf --out FILE`:
 * the vulnerability and threat-intelligence bulletin of a period, from the store the config
 * names (`-c FILE`, else `--data-dir`). DuckDB lets one process open a database file, so this
 * runs while no server holds it; against a running server use `GET /v1/reports/bulletin`.
 */
import { writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { systemClock } from '../core/clock.js';
import { StoreError } from '../core/errors.js';
import { DuckDBStore } from '../adapters/duckdb/duckdb-store.js';
import { DuckDBIntelStore } from '../adapters/duckdb/intel-store.js';
import { DuckDBBulletinSource } from '../adapters/duckdb/report-store.js';
import { parseTime } from '../adapters/http/api.js';
import { printPdf } from '../adapters/pdf/chromium.js';
import { loadBulletin } from '../report/bulletin.js';
import { printTemplates, renderBulletinHtml } from '../report/html.js';
import { parseConfig } from '../runtime/config.js';
import { readConfigFile } from './serve.js';

interface Flags {
  from: number;
  to: number;
  tenant?: string;
  format: 'html' | 'pdf';
  out: string;
  config?: string;
  dataDir?: string;
}

const time = (v: string): number => {
  const t = parseTime(v);
  if (t === undefined) throw new InvalidArgumentError('expected a date (2026-11-01, UTC midnight), an ISO 8601 time with a zone, or epoch ms');
  return t;
};

async function bulletin(o: Flags): Promise<void> {
  const config = o.config ? readConfigFile(o.config) : parseConfig({ ...(o.dataDir ? { dataDir: o.dataDir } : {}) });
  const dataDir = o.config && o.dataDir === undefined ? config.dataDir : (o.dataDir ?? config.dataDir);
  const path = config.store.path === ':memory:' || isAbsolute(config.store.path) ? config.store.path : join(dataDir, config.store.path);
  if (path === ':memory:') throw new StoreError('the config keeps its store in memory: ask the running server (GET /v1/reports/bulletin)');
  const tenant = o.tenant ?? config.tenant;
  let store: DuckDBStore;
  try {
    store = await DuckDBStore.open({ path });
  } catch (e) {
    if (e instanceof StoreError && /lock/i.test(e.message)) {
      throw new StoreError(`the store ${path} is in use by a running Vigil; use its API (GET /v1/reports/bulletin?from=&to=&format=) or stop it first`, undefined, undefined, { cause: e });
    }
    throw e;
  }
  let b;
  try {
    b = await loadBulletin({ source: new DuckDBBulletinSource(store.connection), exposure: new DuckDBIntelStore(store.connection) }, tenant, { from: o.from, to: o.to }, systemClock.now());
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    process.stderr.write(`vigil: ${e.message}\n`);
    process.exitCode = 1;
    return;
  } finally {
    await store.close();
  }
  const html = renderBulletinHtml(b);
  const body = o.format === 'pdf' ? await printPdf(html, printTemplates(b)) : html;
  await writeFile(o.out, body);
  const h = b.headline;
  process.stdout.write(`wrote ${o.out} (${o.format}): tenant ${tenant}, ${h.incidents.now} incidents (previous period ${h.incidents.before}), ${h.alerts.now} alerts\n`);
}

export function reportCommand(): Command {
  const cmd = new Command('report').description('reports for regulators and product security');
  cmd.command('bulletin')
    .description('the vulnerability and threat-intelligence bulletin of a period [from, to), against the previous period of the same length')
    .requiredOption('--from <date>', 'start, inclusive (2026-11-01 = UTC midnight, or ISO 8601 with a zone)', time)
    .requiredOption('--to <date>', 'end, exclusive (--to 2026-12-01 covers November)', time)
    .option('--tenant <tenant>', 'tenant (default: the config\'s)')
    .addOption(new Option('--format <format>', 'html or pdf (pdf needs Chromium: apt-get install chromium)').choices(['html', 'pdf']).default('html'))
    .requiredOption('--out <file>', 'where to write the document')
    .option('-c, --config <file>', 'config file naming the store (dataDir, store.path)')
    .option('--data-dir <dir>', 'data directory (default: the config\'s, else ./vigil-data)')
    .action(bulletin);
  return cmd;
}
