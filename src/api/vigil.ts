/**
 * Composition root: configuration -> store -> catalog -> pipeline -> HTTP server -> sources.
 * `startVigil` is what `vigil serve` and `vigil demo` run, and what tests start.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { flattenVss, SignalCatalog, type SignalSpec } from '../core/catalog.js';
import { systemClock, type Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import type { Store } from '../core/store.js';
import type { Vulnerability } from '../intel/model.js';
import { DuckDBStore } from '../adapters/duckdb/duckdb-store.js';
import { serveNeedsDuckDB } from './store-factory.js';
import { DuckDBAuditLog, DuckDBTokenStore } from '../adapters/duckdb/access-store.js';
import { registerAccessRoutes } from '../adapters/http/access-routes.js';
import { registerReports } from './reports.js';
import { DuckDBWorkflowStore } from '../adapters/duckdb/workflow-store.js';
import { registerIncidentRoutes } from '../adapters/http/incident-routes.js';
import { registerIngest } from '../adapters/http/ingest.js';
import { buildHttpServer } from '../adapters/http/server.js';
import { registerVehicleRoutes } from '../adapters/http/vehicles.js';
import { DuckDBFleetViews } from '../adapters/duckdb/fleet-views.js';
import { registerFleetRoutes } from '../adapters/http/fleet-routes.js';
import { DuckDBAskExecutor } from '../adapters/duckdb/ask-executor.js';
import { registerAskRoutes } from '../adapters/http/ask-routes.js';
import { CachedAskValues, DuckDBAskValues } from '../adapters/duckdb/ask-vocabulary.js';
import { modelFromConfig } from '../adapters/llm/openai-compatible.js';
import { askQuestion } from '../ask/question.js';
import { registerAlertRoutes } from '../adapters/http/alert-routes.js';
import { DuckDBCustomDetections } from '../adapters/duckdb/custom-detections.js';
import { DuckDBIntelStore } from '../adapters/duckdb/intel-store.js';
import { registerDetectionRoutes } from '../adapters/http/detection-routes.js';
import { loadTemplates } from './templates.js';
import { registerAlertStream } from '../adapters/http/alert-stream.js';
import { registerConsole } from '../adapters/http/console.js';
import { registerRuleRoutes } from '../adapters/http/rule-routes.js';
import { registerSessionRoute } from '../adapters/http/session-route.js';
import { DEFAULT_SECURITY_EXTRACT, type SecurityEventDef } from '../normalize/security-extract.js';
import { mergeExtracts, parseSecurityExtract } from '../normalize/security-extract-file.js';
import { DEFAULT_SIGNALS } from '../sim/default-catalog.js';
import type { VigilConfig } from '../runtime/config.js';
import { Pipeline } from '../runtime/pipeline.js';
import type { RunningSource } from '../runtime/sources/index.js';
import { loadBaselineParams } from './baseline-config.js';
import { loadGeoIp } from './geoip-config.js';
import { loadCanBindings, loadCanIds } from './can-config.js';
import { loadDetection } from './detection.js';
import { startSource } from './sources.js';
import { replayDeadLetters } from './dlq.js';
import { loadSecret } from './secret.js';
import { registerOnboarding } from './onboarding.js';
import { startAlertPipeline, type RunningAlerts } from './alert-pipeline.js';
import { bootstrapAdminToken } from './admin-token.js';
import { checkResponseConfig, startResponse, type RunningResponse } from './response.js';
import { startIntel, type RunningIntel } from './intel.js';
import { registerIntelRoutes } from '../adapters/http/intel-routes.js';

export const VERSION = '0.1.0';

export interface Vigil {
  readonly config: VigilConfig;
  readonly store: Store;
  readonly catalog: SignalCatalog;
  readonly pipeline: Pipeline;
  readonly http?: FastifyInstance;
  /** Base URL of the HTTP server, when enabled. */
  readonly url?: string;
  readonly sources: readonly RunningSource[];
  readonly secretOrigin: string;
  /** The alert pipeline: stored alerts into incidents, with evidence (src/alerts, src/runtime/alert-service.ts). */
  readonly alerts: RunningAlerts;
  /** API tokens (hashed at rest); `http.auth` checks requests against them. */
  readonly tokens: DuckDBTokenStore;
  /** The hash-chained audit log: every change made through the API appends to it. */
  readonly audit: DuckDBAuditLog;
  /** Playbooks, response actions and SIEM forwarding (src/api/response.ts). */
  readonly response: RunningResponse;
  /** Threat intelligence: feeds, SBOMs, matches, exposure (src/api/intel.ts, src/runtime/intel-service.ts). */
  readonly intel: RunningIntel;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly clock?: Clock;
  /** Lanes on the calling thread (tests). */
  readonly inline?: boolean;
  readonly logger?: boolean;
}

export async function startVigil(config: VigilConfig, opts: StartOptions = {}): Promise<Vigil> {
  const clock = opts.clock ?? systemClock;
  // PostgreSQL serves the Store, incidents, workflow and access (store-factory.ts), not yet the rest.
  if (config.store.kind === 'postgres') throw serveNeedsDuckDB();
  const memory = config.store.path === ':memory:';
  const dbPath = memory || isAbsolute(config.store.path) ? config.store.path : join(config.dataDir, config.store.path);
  // Before the store opens: a bad extract is a configuration error, with every problem listed.
  const securityExtract = loadSecurityExtract(config.security);
  const canIds = loadCanIds(config.can);
  const baseline = loadBaselineParams();
  const geoip = loadGeoIp(config.normalize.geoipDatabase);
  const store = await DuckDBStore.open({ path: dbPath, ...(config.store.threads ? { threads: config.store.threads } : {}) });
  try {
    const catalog = new SignalCatalog([...DEFAULT_SIGNALS, ...loadVssFiles(config.catalog.vss)], await store.signalDictionary(), 'vigil-default+vss');
    await store.saveSignalDictionary(catalog.dictionary());
    const can = loadCanBindings(config.can, catalog);
    const detection = loadDetection(config.detection, catalog);
    const workflow = new DuckDBWorkflowStore(store.connection);
    // Tenants' detections made from templates: stored ones run from the start (src/intel/templates).
    const customDetections = new DuckDBCustomDetections(store.connection);
    const { secret, origin } = loadSecret(config.normalize.secretEnv, memory ? undefined : config.dataDir);
    const { secretEnv: _secretEnv, geoipDatabase: _geoip, ...policy } = config.normalize;
    const pipeline = new Pipeline({
      store, catalog, clock, policy, secret, securityExtract, can, canIds, baseline,
      ...(geoip ? { geoip } : {}),
      rules: detection.source, ruleTickIntervalMs: config.detection.tickIntervalMs, ruleTuning: await workflow.listTuning(),
      customDetections: (await customDetections.enabled()).map(({ tenant, id, yaml }) => ({ tenant, id, yaml })),
      ...config.runtime,
      ...(opts.inline ? { inline: true } : {}),
    });
    await pipeline.start();
    const { evidence: evidenceWindow, dedupWindow, groupWindow, campaignWindow, maxOpenIncidents, maxDedupKeys } = config.alerts;
    // One intel store on the store's connection for everything that reads intel.
    const intelStore = new DuckDBIntelStore(store.connection);
    const alerts = await startAlertPipeline({
      store, pipeline, catalog, clock, intel: intelStore, pack: detection.pack,
      options: { dedupWindows: dedupWindow, groupWindowMs: groupWindow, campaignWindowMs: campaignWindow, maxOpenIncidents, maxDedupKeys, sla: config.incidents.sla },
      evidence: { beforeMs: evidenceWindow.before, afterMs: evidenceWindow.after },
    });
    const intel = await startIntel({
      config, store, intel: intelStore, clock, metrics: pipeline.metrics, offerAlerts: (a) => alerts.service.offer(a),
      setIndicators: (list) => void pipeline.setIndicators(list),
    });
    const startedAt = Date.now();
    let http: FastifyInstance | undefined;
    let askExecutor: DuckDBAskExecutor | undefined;
    let url: string | undefined;
    const tokens = new DuckDBTokenStore(store.connection, clock);
    const audit = new DuckDBAuditLog(store.connection, clock);
    const response = startResponse(config, { connection: store.connection, store, pipeline, incidents: alerts.incidents, workflow, audit, tokens, onIncidentsCreated: (l) => alerts.service.onIncidentsCreated(l), clock });
    if (config.http.enabled) {
      const auth = { enabled: config.http.auth.enabled, tokens, defaultTenant: config.tenant, now: () => clock.now() };
      if (auth.enabled) await bootstrapAdminToken(tokens, audit, { env: config.http.auth.adminTokenEnv, ...(memory ? {} : { dataDir: config.dataDir }) });
      http = await buildHttpServer({ store, pipeline, version: VERSION, startedAt, auth, logger: opts.logger ?? false, replay: (f) => replayDeadLetters(store, pipeline, f) });
      const { enabled: ingest, ...limits } = config.http.ingest;
      if (ingest) registerIngest(http, { pipeline, defaultTenant: config.tenant, ...limits });
      registerVehicleRoutes(http, { store, pipeline, defaultTenant: config.tenant });
      // The analyst API (one module per area; each route declares its permission).
      registerFleetRoutes(http, { views: new DuckDBFleetViews(store.connection), defaultTenant: config.tenant, now: () => clock.now() });
      registerReports(http, { connection: store.connection, intel: intelStore, defaultTenant: config.tenant, now: () => clock.now() });
      // Asked queries run on a connection of their own; opening it turns off file and network access in the database (ask-executor.ts).
      askExecutor = await DuckDBAskExecutor.open(store.connection);
      const executor = askExecutor;
      const askValues = new CachedAskValues(new DuckDBAskValues(store.connection), clock, config.ask.vocabularyRefresh);
      const model = modelFromConfig(config.ask.model);
      registerAskRoutes(http, {
        executor, audit, clock, defaultTenant: config.tenant,
        question: (q, tenant) => askQuestion(q, { tenant, executor, values: askValues, clock, ...(model ? { model } : {}) }),
      });
      registerAlertRoutes(http, { queries: alerts.incidents, incidents: alerts.incidents, noise: (t, since) => alerts.service.noise(t, since), defaultTenant: config.tenant, now: () => clock.now() });
      registerAccessRoutes(http, { tokens, audit, clock, defaultTenant: config.tenant });
      registerIncidentRoutes(http, {
        incidents: alerts.incidents, alerts: alerts.incidents, alertPipeline: alerts.service, workflow, audit, clock, defaultTenant: config.tenant, sla: config.incidents.sla,
        ...(detection.pack?.rules.length ? { tuner: { check: (r, p) => pipeline.checkRuleTuning(r, p), apply: async (t, r, p) => pipeline.tuneRule(t, r, p) } } : {}),
      });
      registerOnboarding(http, { store, pipeline, secret, checkDigit: config.normalize.vinCheckDigit, now: () => clock.now(), audit, incidents: alerts.incidents, triage: { service: alerts.service, queries: alerts.incidents }, defaultTenant: config.tenant });
      response.register(http, config.tenant);
      registerIntelRoutes(http, { store: intel.store, service: intel.service, audit, clock, defaultTenant: config.tenant });
      registerDetectionRoutes(http, {
        templates: loadTemplates(), store: customDetections, catalog, audit, clock, defaultTenant: config.tenant,
        vulnerabilities: vulnerabilityLookup(intelStore),
        runtime: { check: (r) => pipeline.checkCustomDetection(r), add: (r) => pipeline.addCustomDetection(r), remove: (t, id) => pipeline.removeCustomDetection(t, id) },
      });
      registerSessionRoute(http, { defaultTenant: config.tenant });
      registerAlertStream(http, { onAlertsStored: (l) => pipeline.onAlertsStored(l), defaultTenant: config.tenant });
      registerRuleRoutes(http, {
        rules: (detection.pack?.rules ?? []).map((r) => ({ ...r.meta, enabled: r.spec.enabled })), configDisabled: config.detection.disabled,
        missingSignals: detection.pack?.disabled ?? [], noise: (t, since) => alerts.service.noise(t, since), defaultTenant: config.tenant,
        // Rules of the pack switched on or off per tenant, kept with the tenant's rule tuning.
        ...(detection.pack?.rules.length ? {
          switching: {
            workflow, audit, clock, off: (t: string) => pipeline.rulesOffFor(t),
            tuner: { check: (r: string, p: Readonly<Record<string, unknown>>) => pipeline.checkRuleTuning(r, p), apply: async (t: string, r: string, p: Readonly<Record<string, unknown>>) => pipeline.tuneRule(t, r, p) },
          },
        } : {}),
      });
      // The web console at / (console/dist), after every API route.
      await registerConsole(http);
      url = await http.listen({ host: config.http.host, port: config.http.port });
    }
    const sources = await Promise.all(config.sources.map((s) => startSource(s, { pipeline, defaultTenant: config.tenant, clock })));
    response.attachSources(sources);
    return {
      config, store, catalog, pipeline, http, url, sources, secretOrigin: origin, alerts, tokens, audit, response, intel,
      async stop() {
        await Promise.all(sources.map((s) => s.stop()));
        await http?.close();
        // Alerts stored by the drain are decided and their evidence captured while the lanes still answer twin requests.
        await pipeline.drain();
        intel.stop();
        await alerts.stop();
        await response.stop();
        await pipeline.stop();
        await askExecutor?.close();
        await store.close();
      },
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}

/** A stored vulnerability by its id or an alias (the intel store), for the detection routes. */
function vulnerabilityLookup(intel: DuckDBIntelStore): { vulnerability(id: string): Promise<Vulnerability | undefined> } {
  return { vulnerability: async (id) => { const r = await intel.resolve(id); return r === undefined ? undefined : intel.vulnerability(r); } };
}

/** The security extract the config names (merged over or replacing the built-in), or the built-in. */
export function loadSecurityExtract(c: VigilConfig['security']): ReadonlyMap<number, SecurityEventDef> {
  if (c.extract === undefined) return DEFAULT_SECURITY_EXTRACT;
  let text: string;
  try {
    text = readFileSync(c.extract, 'utf8');
  } catch (e) {
    throw new ConfigError('cannot load the security extract', [`security.extract: ${(e as Error).message}`], { cause: e });
  }
  const { extract, problems } = parseSecurityExtract(text, c.extract);
  if (problems.length) throw new ConfigError('invalid security extract', problems.map((p) => `security.extract: ${p}`));
  return mergeExtracts(DEFAULT_SECURITY_EXTRACT, extract, c.extractMode);
}

/**
 * What start-up checks before the store opens, for `vigil config check`: the security extract,
 * the VSS files, the CAN bindings and the detection rules against the catalog they make. Every problem at once.
 */
export function checkConfigReferences(config: VigilConfig): void {
  const problems: string[] = [];
  const collect = (check: () => void): void => {
    try {
      check();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...e.problems);
    }
  };
  let vss: SignalSpec[] = [];
  collect(() => void loadSecurityExtract(config.security));
  collect(() => void loadCanIds(config.can));
  collect(() => void loadBaselineParams());
  collect(() => void loadGeoIp(config.normalize.geoipDatabase));
  collect(() => void (vss = loadVssFiles(config.catalog.vss)));
  const catalog = new SignalCatalog([...DEFAULT_SIGNALS, ...vss]);
  collect(() => void loadCanBindings(config.can, catalog));
  collect(() => void loadDetection(config.detection, catalog));
  collect(() => checkResponseConfig(config));
  if (problems.length) throw new ConfigError('invalid configuration', problems);
}

export function loadVssFiles(files: readonly string[]): SignalSpec[] {
  const problems: string[] = [];
  const specs: SignalSpec[] = [];
  for (const f of files) {
    try {
      specs.push(...flattenVss(JSON.parse(readFileSync(f, 'utf8'))));
    } catch (e) {
      problems.push(`catalog.vss: ${f}: ${(e as Error).message}`);
    }
  }
  if (problems.length) throw new ConfigError('cannot load the signal catalog', problems);
  return specs;
}
