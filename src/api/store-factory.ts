/**
 * Opening the shared stores a `store: { kind: postgres, url, schema }` configuration names: the
 * Store and the ports that have a PostgreSQL adapter (incidents with alert queries, workflow,
 * API tokens and audit, response), all on one pool in one schema. Scale-out worker processes
 * open the Store this way; `vigil serve` still needs the embedded DuckDB for the services listed in
 * DUCKDB_ONLY_SERVICES and refuses a postgres store with a ConfigError naming them.
 */
import type { AlertQueries, AlertTimeline, IncidentStore, WorkflowStore } from '../alerts/ports.js';
import type { ResponseStore } from '../alerts/response.js';
import type { AuditLog, TokenStore } from '../core/access.js';
import type { Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import { PostgresAuditLog, PostgresTokenStore } from '../adapters/postgres/access-store.js';
import { PostgresIncidentStore } from '../adapters/postgres/incident-store.js';
import { PostgresStore } from '../adapters/postgres/postgres-store.js';
import { PostgresResponseStore } from '../adapters/postgres/response-store.js';
import { PostgresWorkflowStore } from '../adapters/postgres/workflow-store.js';
import type { VigilConfig } from '../runtime/config.js';

/**
 * Services whose only adapter is DuckDB (they take the DuckDB connection): until they have a
 * PostgreSQL one, `vigil serve` runs on the embedded store only.
 */
export const DUCKDB_ONLY_SERVICES = [
  'ask executor and vocabulary (src/adapters/duckdb/ask-executor.ts, ask-vocabulary.ts)',
  'threat intelligence store (intel-store.ts) and custom detections (custom-detections.ts)',
  'fleet views (fleet-views.ts)',
  'reports and bulletins (report-store.ts)',
  'CLI commands that open the database file (learn, import, intel, report, access)',
] as const;

/** The PostgreSQL stores of one process, on one pool. */
export interface SharedStores {
  readonly store: PostgresStore;
  readonly incidents: IncidentStore & AlertQueries & AlertTimeline;
  readonly workflow: WorkflowStore;
  readonly tokens: TokenStore;
  readonly audit: AuditLog;
  readonly response: ResponseStore;
  close(): Promise<void>;
}

/** Opens (and migrates) the PostgreSQL stores `config.store` names; ConfigError if it names DuckDB. */
export async function openSharedStores(config: VigilConfig['store'], clock: Clock): Promise<SharedStores> {
  if (config.kind !== 'postgres' || config.url === undefined) {
    throw new ConfigError('shared stores need store.kind postgres', ['store.kind: set it to postgres, with store.url']);
  }
  const store = await PostgresStore.open({ url: config.url, schema: config.schema, poolSize: config.poolSize });
  const pool = store.connection;
  return {
    store,
    incidents: new PostgresIncidentStore(pool),
    workflow: new PostgresWorkflowStore(pool),
    tokens: new PostgresTokenStore(pool, clock),
    audit: new PostgresAuditLog(pool, clock),
    response: new PostgresResponseStore(pool),
    close: () => store.close(),
  };
}

/** The error `vigil serve` gives for a postgres store: which services still need DuckDB. */
export function serveNeedsDuckDB(): ConfigError {
  return new ConfigError('store.kind postgres is not yet servable: these services have only a DuckDB adapter', [...DUCKDB_ONLY_SERVICES]);
}
