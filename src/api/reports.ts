/**
 * Composition of the reports: the bulletin route reads incident counts from the DuckDB store
 * (report-store.ts) and vulnerability exposure from the intel store on the same connection.
 */
import type { FastifyInstance } from 'fastify';
import type { SerialConnection } from '../adapters/duckdb/connection.js';
import type { DuckDBIntelStore } from '../adapters/duckdb/intel-store.js';
import { DuckDBBulletinSource } from '../adapters/duckdb/report-store.js';
import { registerReportRoutes } from '../adapters/http/report-routes.js';

export function registerReports(http: FastifyInstance, deps: { connection: SerialConnection; intel: DuckDBIntelStore; defaultTenant: string; now: () => number }): void {
  registerReportRoutes(http, {
    source: new DuckDBBulletinSource(deps.connection),
    exposure: deps.intel,
    defaultTenant: deps.defaultTenant,
    now: deps.now,
  });
}
