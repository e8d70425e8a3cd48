/**
 * Wiring of the alert pipeline: the DuckDB incident and workflow stores on the store's
 * connection, the service fed by Pipeline.onAlertsStored, evidence capture on a timer.
 * The campaign rules are the pack's fleet-correlation rules (`source: alert`). The intel hook:
 * the vulnerabilities an alert's vehicle is exposed to (the intel store on the same connection,
 * src/runtime/alert-intel.ts).
 */
import type { Clock } from '../core/clock.js';
import type { SignalCatalog } from '../core/catalog.js';
import { DuckDBIncidentStore } from '../adapters/duckdb/incident-store.js';
import type { DuckDBIntelStore } from '../adapters/duckdb/intel-store.js';
import type { DuckDBStore } from '../adapters/duckdb/duckdb-store.js';
import { DuckDBWorkflowStore } from '../adapters/duckdb/workflow-store.js';
import type { AlertPipelineOptions } from '../alerts/pipeline.js';
import type { CompiledPack } from '../detect/rules/index.js';
import { exposureIntel } from '../runtime/alert-intel.js';
import { AlertService } from '../runtime/alert-service.js';
import { EvidenceCapture } from '../runtime/evidence.js';
import type { Pipeline } from '../runtime/pipeline.js';

export interface RunningAlerts {
  readonly service: AlertService;
  readonly evidence: EvidenceCapture;
  readonly incidents: DuckDBIncidentStore;
  /** Resolves when every stored alert so far is decided and its due evidence captured. */
  idle(): Promise<void>;
  /** After the pipeline stopped: decide what is left, capture the evidence still waiting. */
  stop(): Promise<void>;
}

export interface AlertWiring {
  readonly store: DuckDBStore;
  readonly pipeline: Pipeline;
  readonly catalog: SignalCatalog;
  readonly clock: Clock;
  /** What exposes a vehicle: alerts carry its vulnerabilities (src/runtime/alert-intel.ts). */
  readonly intel: DuckDBIntelStore;
  readonly pack?: CompiledPack;
  readonly options?: Omit<AlertPipelineOptions, 'clock' | 'campaignRules'>;
  readonly evidence?: { readonly beforeMs?: number; readonly afterMs?: number };
}

export async function startAlertPipeline(w: AlertWiring): Promise<RunningAlerts> {
  const incidents = new DuckDBIncidentStore(w.store.connection);
  const workflow = new DuckDBWorkflowStore(w.store.connection);
  const twin = (tenant: string, vehicle: string) => w.pipeline.vehicleTwin(tenant, vehicle);
  const evidence = new EvidenceCapture({
    store: w.store, incidents, queries: incidents, catalog: w.catalog, twin, clock: w.clock, metrics: w.pipeline.metrics, ...w.evidence,
  });
  const campaignRules = new Set(
    (w.pack?.rules ?? []).filter((r) => r.spec.enabled && r.plan.ports.some((p) => p.kind === 'alert')).map((r) => r.spec.id),
  );
  const service = new AlertService({
    clock: w.clock, metrics: w.pipeline.metrics, store: w.store, incidents, queries: incidents, workflow, twin, evidence,
    intel: exposureIntel(w.intel),
    pipeline: { ...w.options, campaignRules },
  });
  await service.start();
  const unsubscribe = w.pipeline.onAlertsStored((alerts) => service.offer(alerts));
  evidence.start();
  return {
    service,
    evidence,
    incidents,
    async idle() {
      await service.idle();
      await evidence.tick();
    },
    async stop() {
      unsubscribe();
      await service.idle();
      evidence.stop();
      await evidence.flush();
    },
  };
}
