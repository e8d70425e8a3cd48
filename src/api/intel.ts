/**
 * Wiring of threat intelligence: the DuckDB intel store on the store's connection, the intel
 * service raising "new exposure" alerts into the alert pipeline and handing stored STIX
 * indicators to the pipeline's lanes, the feeds and SBOMs the config names (imported at start),
 * and a timer that looks again at matched vulnerabilities whose vehicles registered later.
 */
import type { Clock } from '../core/clock.js';
import type { Alert } from '../core/records.js';
import type { DuckDBIntelStore } from '../adapters/duckdb/intel-store.js';
import type { DuckDBStore } from '../adapters/duckdb/duckdb-store.js';
import { readDocuments } from '../adapters/files/intel-files.js';
import type { Indicator, RecordReport } from '../intel/model.js';
import type { VigilConfig } from '../runtime/config.js';
import type { Metrics } from '../runtime/metrics.js';
import { IntelService, type FeedImportResult } from '../runtime/intel-service.js';
import { demoSboms } from '../sim/sboms.js';

export interface RunningIntel {
  readonly store: DuckDBIntelStore;
  readonly service: IntelService;
  /** Read files, folders and URLs and import them as one feed. */
  importSources(sources: readonly string[], who: { tenant: string; actor: string }): Promise<FeedImportResult>;
  /** What the config's start-up import did (undefined when it names nothing). */
  readonly startup?: { feeds?: FeedImportResult; sboms?: { files: number; problems: readonly string[]; unreadable: readonly RecordReport[] } };
  stop(): void;
}

export interface IntelWiring {
  readonly config: VigilConfig;
  readonly store: DuckDBStore;
  /** The intel store of this Vigil (one per connection: the alert enrichment, the bulletin and the detection routes read it too). */
  readonly intel: DuckDBIntelStore;
  readonly clock: Clock;
  readonly offerAlerts: (alerts: readonly Alert[]) => void;
  /** Where the pending-exposure check counts its failures (`vigil_intel_exposure_check_errors_total`). */
  readonly metrics?: Metrics;
  /** Pipeline.setIndicators, when the pipeline has it. */
  readonly setIndicators?: (indicators: readonly Indicator[]) => void;
}

export async function startIntel(w: IntelWiring): Promise<RunningIntel> {
  const store = w.intel;
  const service = new IntelService({
    store, clock: w.clock, insertAlerts: (a) => w.store.insertAlerts(a), offerAlerts: w.offerAlerts,
    ...(w.setIndicators ? { setIndicators: w.setIndicators } : {}),
  });
  const importSources = async (sources: readonly string[], who: { tenant: string; actor: string }): Promise<FeedImportResult> => {
    const { docs, unreadable } = await readDocuments(sources);
    return service.importFeeds(docs, { ...who, sources, extraReport: unreadable });
  };
  const c = w.config.intel;
  const tenant = c.sbomTenant ?? w.config.tenant;
  const who = { tenant, actor: 'config' };
  let startup: RunningIntel['startup'];
  if (c.feeds.length || c.sboms.length || c.simSboms) {
    const feeds = c.feeds.length ? await importSources(c.feeds, { tenant: w.config.tenant, actor: 'config' }) : undefined;
    const { docs, unreadable } = await readDocuments(c.sboms, { only: (f) => f.endsWith('.json') });
    if (c.simSboms) docs.push(...demoSboms().map((s) => ({ name: s.name, text: JSON.stringify(s.doc) })));
    const sboms = docs.length ? await service.importSboms(docs, who) : undefined;
    startup = {
      ...(feeds ? { feeds } : {}),
      ...(docs.length || unreadable.length ? { sboms: { files: docs.length, problems: sboms?.results.flatMap((r) => r.problems) ?? [], unreadable } } : {}),
    };
  }
  if (w.setIndicators) {
    // Indicators stored by this or earlier imports go to the lanes at start.
    const stored = await store.indicators();
    if (stored.length) w.setIndicators(stored);
  }
  w.metrics?.counter('vigil_intel_exposure_check_errors_total', 'Pending-exposure checks that failed (retried at the next interval)');
  const timer = setInterval(() => void service.checkPendingExposure().catch(() => w.metrics?.inc('vigil_intel_exposure_check_errors_total')), c.exposureCheck);
  timer.unref();
  return { store, service, importSources, ...(startup ? { startup } : {}), stop: () => clearInterval(timer) };
}
