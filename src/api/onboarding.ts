/**
 * Onboarding: vehicle registrations and historical alerts from files, applied to a running
 * pipeline and its store. Shared by `vigil import vehicles|alerts` and
 * `POST /v1/vehicles/import` / `POST /v1/alerts/import` (the routes get these as functions,
 * as they get dead-letter replay).
 *
 * Vehicles go through `Pipeline.registerVehicles`: the VIN is pseudonymized with the tenant's
 * key exactly as the lanes do, the identity is upserted into the store (no `firstSeen`: a
 * registered vehicle may have sent nothing yet), and the live twin in the owning worker gets
 * make, model, year and ECU software. Alerts are inserted idempotently by id. Every refused
 * row is dead-lettered (`import.vehicle_invalid`, `import.alert_invalid`, kind `unknown`, the
 * raw line) with an id derived from its content, so importing the same file twice keeps one.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../core/access.js';
import type { Alert, DeadLetter } from '../core/records.js';
import type { Store } from '../core/store.js';
import type { AlertQueries, IncidentStore } from '../alerts/ports.js';
import { registerExportRoutes } from '../adapters/http/export-routes.js';
import { registerImportRoutes } from '../adapters/http/import-routes.js';
import {
  parseAlerts, parseVehicles, VEHICLE_INVALID,
  type OnboardingFormat, type Parsed, type RowReject, type VehicleRegistration,
} from '../normalize/onboarding.js';
import { Pseudonymizer } from '../normalize/pseudonym.js';
import type { ImportReport, TriageReport } from '../normalize/onboarding.js';

export type { ImportReport, TriageReport } from '../normalize/onboarding.js';

/** Rejected rows listed in a report at most (all of them are dead-lettered and counted). */
export const MAX_ERRORS_LISTED = 1000;

export interface OnboardingDeps {
  readonly store: Store;
  readonly pipeline: { registerVehicles(tenant: string, vehicles: Iterable<VehicleRegistration>): Promise<{ registered: number; invalid: string[] }> };
  /** The pipeline's pseudonymizer (same secret), for alerts that name a VIN. */
  readonly pseudonyms: Pseudonymizer;
  /** `normalize.vinCheckDigit` of the config. */
  readonly checkDigit: boolean;
  readonly now: () => number;
}

export interface ImportRequest {
  readonly tenant: string;
  readonly text: string;
  /** Dead-letter source, e.g. `import:vehicles.csv` or `http:import`. */
  readonly source: string;
}


/** Register the vehicles of a CSV or JSONL file. Throws ConfigError when the CSV header is unusable. */
export async function importVehicles(deps: OnboardingDeps, req: ImportRequest & { format: OnboardingFormat }): Promise<ImportReport> {
  const parsed = parseVehicles(req.text, req.format, { checkDigit: deps.checkDigit });
  const { registered, invalid } = await deps.pipeline.registerVehicles(req.tenant, parsed.records.map((r) => r.value));
  // The pipeline checks VINs with the same rule; anything it still refuses becomes a reject too.
  const refused = new Set(invalid);
  const late: RowReject[] = parsed.records
    .filter((r) => refused.has(r.value.vin))
    .map((r) => ({ line: r.line, code: VEHICLE_INVALID, reason: `vin ${JSON.stringify(r.value.vin)} was refused by the pipeline`, raw: JSON.stringify(r.value) }));
  return finish(deps, req, { ...parsed, rejects: [...parsed.rejects, ...late] }, registered, 0, []);
}

/** Store the historical alerts of a JSONL file, idempotently by id. */
export async function importAlerts(deps: OnboardingDeps, req: ImportRequest): Promise<ImportReport> {
  const parsed = parseAlerts(req.text, { checkDigit: deps.checkDigit });
  const alerts: Alert[] = parsed.records.map(({ value: a }) => {
    const vehicle = a.vin !== undefined ? deps.pseudonyms.key(req.tenant, a.vin) : a.vehicle;
    return {
      id: a.id, tenant: req.tenant, ...(vehicle !== undefined ? { vehicle } : {}),
      time: a.time, detectedAt: a.detectedAt, rule: a.rule, title: a.title, severity: a.severity, tags: a.tags, details: a.details,
    };
  });
  // Several lines with one id: the first is stored, the others count as duplicates, as do ids already stored.
  const first = new Map<string, Alert>();
  for (const a of alerts) if (!first.has(a.id)) first.set(a.id, a);
  const unique = [...first.values()];
  const inserted = unique.length ? await deps.store.insertAlerts(unique) : 0;
  return finish(deps, req, parsed, inserted, alerts.length - inserted, unique);
}

async function finish<T>(deps: OnboardingDeps, req: ImportRequest, parsed: Parsed<T>, imported: number, duplicates: number, alerts: readonly Alert[]): Promise<ImportReport> {
  const rejects = [...parsed.rejects].sort((a, b) => a.line - b.line);
  if (rejects.length) await deps.store.insertDeadLetters(rejects.map((r) => deadLetter(req, r, deps.now())));
  return {
    imported, rejected: rejects.length, duplicates,
    errors: rejects.slice(0, MAX_ERRORS_LISTED).map((r) => ({ line: r.line, reason: r.reason })),
    alerts,
  };
}

function deadLetter(req: ImportRequest, r: RowReject, at: number): DeadLetter {
  const digest = createHash('sha256').update(`${req.tenant}\u0000${req.source}\u0000${r.line}\u0000${r.raw}`).digest('hex').slice(0, 24);
  return {
    id: `${r.code}:${digest}`, tenant: req.tenant, source: req.source, kind: 'unknown', code: r.code,
    reason: `line ${r.line}: ${r.reason}`, receivedAt: at, raw: new TextEncoder().encode(r.raw),
  };
}

/** What triage needs of the running alert pipeline (src/api/alert-pipeline.ts). */
export interface TriageDeps {
  readonly service: { offer(alerts: readonly Alert[]): void; idle(): Promise<void> };
  readonly queries: Pick<AlertQueries, 'getAlert'>;
}


/**
 * Run imported alerts through the alert pipeline, as if the lanes had just stored them, and
 * wait until they are decided. An alert decided before (a re-import) is not decided again.
 */
export async function triageAlerts(deps: TriageDeps, tenant: string, alerts: readonly Alert[]): Promise<TriageReport> {
  deps.service.offer(alerts);
  await deps.service.idle();
  const incidents = new Set<string>();
  let duplicates = 0;
  let suppressed = 0;
  let pending = 0;
  for (const a of alerts) {
    const outcome = (await deps.queries.getAlert(tenant, a.id))?.outcome;
    if (!outcome) pending++;
    else if (outcome.kind === 'incident') incidents.add(outcome.ref);
    else if (outcome.kind === 'duplicate') duplicates++;
    else suppressed++;
  }
  return { incidents: incidents.size, duplicates, suppressed, pending };
}

export interface OnboardingWiring {
  readonly store: Store;
  readonly pipeline: OnboardingDeps['pipeline'];
  /** The pseudonymization secret the pipeline runs with. */
  readonly secret: string;
  readonly checkDigit: boolean;
  readonly now: () => number;
  readonly audit: AuditLog;
  readonly incidents: Pick<IncidentStore, 'listIncidents'>;
  /** The running alert pipeline, for `POST /v1/alerts/import?triage=true`. */
  readonly triage?: TriageDeps;
  readonly defaultTenant: string;
}

/** The onboarding and exchange routes: vehicle and alert import (admin), incident export (read). */
export function registerOnboarding(app: FastifyInstance, w: OnboardingWiring): void {
  const deps: OnboardingDeps = { store: w.store, pipeline: w.pipeline, pseudonyms: new Pseudonymizer(w.secret), checkDigit: w.checkDigit, now: w.now };
  const triage = w.triage;
  registerImportRoutes(app, {
    defaultTenant: w.defaultTenant,
    audit: w.audit,
    importVehicles: (req) => importVehicles(deps, req),
    importAlerts: (req) => importAlerts(deps, req),
    ...(triage ? { triage: (tenant: string, alerts: readonly Alert[]) => triageAlerts(triage, tenant, alerts) } : {}),
  });
  registerExportRoutes(app, { incidents: w.incidents, defaultTenant: w.defaultTenant });
}
