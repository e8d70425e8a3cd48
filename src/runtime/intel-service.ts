/**
 * The intel service: feed documents and SBOMs in, stored and matched, exposure watched.
 *
 * - `importFeeds`: parse and merge the documents (src/intel/feeds), merge again with what is
 *   stored under the same ids and aliases, store, keep the run and its per-record report, then
 *   re-match the vulnerabilities that are new or changed (or that new CSAF / VEX statements
 *   name) against every tenant's SBOMs.
 * - `importSbom`: parse (CycloneDX or SPDX, recognised by content), bind (the caller's binding
 *   wins), store, match against every stored vulnerability.
 * - `decideVex`: store an analyst's decision and re-match that vulnerability for the tenant.
 *
 * After each, a vulnerability that exposes a vehicle of a tenant for the first time is
 * recorded (`intel_first_exposure`) and raises one fleet-level alert (no vehicle; details
 * `cve`/`intel`, exposed counts, by model, priority), stored and offered to the alert pipeline,
 * which files it under the intel incident of that id. Reading files and URLs is the caller's
 * job (src/adapters/files/intel-files.ts).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Alert, Severity as AlertSeverity } from '../core/records.js';
import { importFeedDocuments, mergeVulnerabilities, type FeedDocument } from '../intel/feeds/index.js';
import { matchSbom } from '../intel/match/index.js';
import type { Indicator, IntelImport, RecordReport, VexStatement, Vulnerability } from '../intel/model.js';
import { decisionStatement, type ImportRun, type IntelStore, type StoredMatch, type StoredSbom, type VexDecision } from '../intel/ports.js';
import { priority } from '../intel/priority.js';
import { unboundReason } from '../intel/sbom/binding.js';
import { parseCycloneDx } from '../intel/sbom/cyclonedx.js';
import { parseSpdx } from '../intel/sbom/spdx.js';
import { jsonObject, type SubjectBinding } from '../intel/sbom/types.js';

/** The rule id of "new intel exposes vehicles" alerts. */
export const NEW_EXPOSURE_RULE = 'intel.new-exposure';
/** Models listed in an alert's details at most. */
const MAX_MODELS_IN_ALERT = 20;

export interface IntelServiceOptions {
  readonly store: IntelStore;
  readonly clock: Clock;
  /** Stores alerts (Store.insertAlerts) before they are offered. */
  readonly insertAlerts?: (alerts: readonly Alert[]) => Promise<number>;
  /** The alert pipeline (AlertService.offer). */
  readonly offerAlerts?: (alerts: readonly Alert[]) => void;
  /** Called with every stored indicator after an import that stored some (Pipeline.setIndicators). */
  readonly setIndicators?: (indicators: readonly Indicator[]) => void;
  readonly cycloneDxValidator?: (doc: unknown) => string[];
}

export interface Who {
  readonly tenant: string;
  readonly actor: string;
}

export interface FeedImportResult {
  readonly run: ImportRun;
  readonly report: readonly RecordReport[];
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly alerts: readonly Alert[];
}

export interface SbomImportResult {
  readonly sbom?: Omit<StoredSbom, 'sbom'> & { document: string; format: 'cyclonedx' | 'spdx'; components: number; ecu?: string; softwareVersion?: string; vehicleModel?: string };
  readonly problems: readonly string[];
  readonly matches: number;
  readonly alerts: readonly Alert[];
}

export class IntelService {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: IntelServiceOptions) {}

  /** One change at a time: imports, uploads and decisions re-match in order. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.chain.then(op, op);
    this.chain = next.catch(() => undefined);
    return next;
  }

  importFeeds(docs: readonly FeedDocument[], who: Who & { sources?: readonly string[]; extraReport?: readonly RecordReport[] }): Promise<FeedImportResult> {
    return this.serial(async () => {
      const startedAt = this.opts.clock.now();
      const imp = importFeedDocuments(docs, this.opts.cycloneDxValidator ? { cycloneDxValidator: this.opts.cycloneDxValidator } : {});
      const { vulnerabilities, replaced } = await this.mergeWithStored(imp);
      const saved = await this.opts.store.saveFeed({ vulnerabilities, indicators: imp.indicators, csaf: imp.csaf, vex: imp.vex, replaced }, this.opts.clock.now());
      const report = [...(who.extraReport ?? []), ...imp.report];
      const count = (s: RecordReport['status']): number => report.filter((l) => l.status === s).length;
      const run: ImportRun = {
        id: `run_${randomUUID()}`, tenant: who.tenant, actor: who.actor, startedAt, finishedAt: this.opts.clock.now(),
        sources: who.sources ?? docs.map((d) => d.name), documents: docs.length, records: report.length,
        ok: count('ok'), partial: count('partial'), rejected: count('rejected'),
        vulnerabilities: saved.added.length + saved.changed.length, indicators: saved.indicators,
      };
      await this.opts.store.saveImportRun(run, report);
      if (saved.indicators > 0 && this.opts.setIndicators) this.opts.setIndicators(await this.opts.store.indicators());
      // Re-match what changed, and what new CSAF product_status or VEX statements speak of.
      const touched = new Set([...saved.added, ...saved.changed]);
      for (const id of [...imp.vex.map((s) => s.vulnerabilityId), ...imp.csaf.flatMap((c) => c.productStatus.map((p) => p.vulnerabilityId))]) {
        const stored = await this.opts.store.resolve(id);
        if (stored) touched.add(stored);
      }
      const alerts: Alert[] = [];
      if (touched.size || replaced.length) {
        for (const tenant of await this.opts.store.sbomTenants()) {
          alerts.push(...await this.rematchVulnerabilities(tenant, [...touched], replaced));
        }
      }
      return { run, report, added: saved.added, changed: saved.changed, alerts };
    });
  }

  /** Parse, bind, store and match one SBOM document (CycloneDX or SPDX JSON). */
  async importSbom(doc: FeedDocument, who: Who, binding?: SubjectBinding): Promise<SbomImportResult> {
    const { results, alerts } = await this.importSboms([doc], who, binding);
    return { ...results[0]!, alerts };
  }

  /** Several SBOMs: each parsed, stored and matched; first exposures checked once, after all. */
  importSboms(docs: readonly FeedDocument[], who: Who, binding?: SubjectBinding): Promise<{ results: Omit<SbomImportResult, 'alerts'>[]; alerts: readonly Alert[] }> {
    return this.serial(async () => {
      const vulns = await this.opts.store.matchable();
      const ctx = await this.context(who.tenant);
      const exposing = new Set<string>();
      const results: Omit<SbomImportResult, 'alerts'>[] = [];
      const batch: { sbom: StoredSbom; matches: StoredMatch[] }[] = [];
      for (const doc of docs) {
        const parsed = parseSbomText(doc, binding);
        if (!parsed.sbom) {
          results.push({ problems: parsed.problems, matches: 0 });
          continue;
        }
        const sbom = parsed.sbom;
        const s = sbom.subject;
        const why = unboundReason(s);
        const stored: StoredSbom = {
          tenant: who.tenant, id: sbomId(sbom), sbom, problems: parsed.problems, ...(why ? { unboundReason: why } : {}),
          uploadedBy: who.actor, uploadedAt: this.opts.clock.now(),
        };
        const matches: StoredMatch[] = matchSbom(sbom, vulns, ctx).map((m) => ({ ...m, sbom: stored.id }));
        batch.push({ sbom: stored, matches });
        for (const m of matches) if (m.result === 'affected' || m.result === 'needs_review') exposing.add(m.vulnerabilityId);
        const { sbom: _doc, ...rest } = stored;
        results.push({
          sbom: {
            ...rest, document: sbom.document, format: sbom.format, components: sbom.components.length,
            ...(s?.ecu ? { ecu: s.ecu } : {}), ...(s?.softwareVersion ? { softwareVersion: s.softwareVersion } : {}), ...(s?.vehicleModel ? { vehicleModel: s.vehicleModel } : {}),
          },
          problems: parsed.problems, matches: matches.length,
        });
      }
      // Stored together: one transaction, and the exposure check sees them all.
      await this.opts.store.saveSboms(batch, this.opts.clock.now());
      return { results, alerts: await this.checkExposure(who.tenant, [...exposing]) };
    });
  }

  /** Store an analyst's decision and re-match its vulnerability over the tenant's SBOMs. */
  decideVex(d: VexDecision): Promise<{ alerts: readonly Alert[] }> {
    return this.serial(async () => {
      await this.opts.store.saveVexDecision(d);
      return { alerts: await this.rematchVulnerabilities(d.tenant, [d.vulnerability], []) };
    });
  }

  /** Every tenant's SBOMs matched again against every stored vulnerability (after an upgrade of the matcher). */
  rematchAll(): Promise<number> {
    return this.serial(async () => {
      let n = 0;
      const vulns = await this.opts.store.matchable();
      for (const tenant of await this.opts.store.sbomTenants()) {
        const ctx = await this.context(tenant);
        for (const s of await this.opts.store.allSboms(tenant)) {
          const matches = matchSbom(s.sbom, vulns, ctx).map((m) => ({ ...m, sbom: s.id }));
          await this.opts.store.replaceMatches(tenant, { sboms: [s.id] }, matches, this.opts.clock.now());
          n += matches.length;
        }
        await this.checkExposure(tenant, vulns.map((v) => v.id));
      }
      return n;
    });
  }

  /**
   * Vulnerabilities matched on a tenant's SBOMs that have not exposed a vehicle yet (the
   * vehicles were registered after the match): looked at again, first exposures raised.
   */
  checkPendingExposure(): Promise<readonly Alert[]> {
    return this.serial(async () => {
      const out: Alert[] = [];
      for (const tenant of await this.opts.store.sbomTenants()) {
        const first = await this.opts.store.firstExposures(tenant);
        const counts = await this.opts.store.exposureCounts(tenant);
        const pending = [...counts.keys()].filter((id) => !first.has(id));
        if (pending.length) out.push(...await this.checkExposure(tenant, pending));
      }
      return out;
    });
  }

  /** Stored records under the new ids and aliases, merged with the new ones; ids merged away are `replaced`. */
  private async mergeWithStored(imp: IntelImport): Promise<{ vulnerabilities: Vulnerability[]; replaced: string[] }> {
    const names = [...new Set(imp.vulnerabilities.flatMap((v) => [v.id, ...v.aliases]))];
    const stored = await this.opts.store.vulnerabilitiesNamed(names);
    if (!stored.length) return { vulnerabilities: imp.vulnerabilities, replaced: [] };
    const merged = mergeVulnerabilities([...stored, ...imp.vulnerabilities]);
    const ids = new Set(merged.map((v) => v.id));
    return { vulnerabilities: merged, replaced: stored.map((v) => v.id).filter((id) => !ids.has(id)) };
  }

  private async context(tenant: string): Promise<{ csaf: Awaited<ReturnType<IntelStore['csafDocuments']>>; vex: VexStatement[] }> {
    const decisions = await this.opts.store.vexDecisions(tenant);
    return { csaf: await this.opts.store.csafDocuments(), vex: [...await this.opts.store.feedVex(), ...decisions.map(decisionStatement)] };
  }

  private async rematchVulnerabilities(tenant: string, ids: readonly string[], replaced: readonly string[]): Promise<Alert[]> {
    const vulns = (await this.opts.store.vulnerabilitiesNamed(ids)).filter((v) => ids.includes(v.id));
    const ctx = await this.context(tenant);
    const matches: StoredMatch[] = [];
    for (const s of await this.opts.store.allSboms(tenant)) {
      for (const m of matchSbom(s.sbom, vulns, ctx)) matches.push({ ...m, sbom: s.id });
    }
    await this.opts.store.replaceMatches(tenant, { vulnerabilities: [...ids, ...replaced] }, matches, this.opts.clock.now());
    return this.checkExposure(tenant, ids);
  }

  /** Record first exposures among `ids` and raise one alert for each. */
  private async checkExposure(tenant: string, ids: readonly string[]): Promise<Alert[]> {
    if (!ids.length) return [];
    const first = await this.opts.store.firstExposures(tenant);
    const fresh = ids.filter((id) => !first.has(id));
    if (!fresh.length) return [];
    const counts = await this.opts.store.exposureCounts(tenant, fresh);
    const exposing = fresh.filter((id) => (counts.get(id)?.vehicles ?? 0) > 0);
    if (!exposing.length) return [];
    const rows = new Map((await this.opts.store.summaries(tenant, exposing)).map((r) => [r.id, r]));
    const docs = new Map((await this.opts.store.vulnerabilitiesNamed(exposing)).map((v) => [v.id, v]));
    const now = this.opts.clock.now();
    const alerts: Alert[] = [];
    for (const id of exposing) {
      const c = counts.get(id)!;
      const v = docs.get(id);
      const ecus = rows.get(id)?.ecus ?? [];
      const p = v ? priority(v, ecus) : { score: 0, factors: [], surface: null };
      const alert: Alert = {
        id: `intel_${createHash('sha256').update(`${tenant}\u0000${id}`).digest('hex').slice(0, 20)}`,
        tenant, time: now, detectedAt: now, rule: NEW_EXPOSURE_RULE,
        // the intel incident's title is `<id>: <this title>`
        title: `${c.vehicles} vehicle${c.vehicles === 1 ? '' : 's'} exposed${v?.title ? `: ${v.title}` : ''}`.slice(0, 300),
        severity: severityOf(p.score), tags: ['intel', 'vulnerability', ...(v?.kev ? ['kev'] : [])],
        details: {
          // group: one alert per vulnerability, never deduplicated against another's (same rule, no vehicle)
          cve: id, intel: id, group: id, exposed: c.vehicles, affected: c.affected, needsReview: c.needsReview,
          byModel: c.byModel.slice(0, MAX_MODELS_IN_ALERT), ecus, priority: p.score, priorityFactors: p.factors,
          ...(rows.get(id)?.cvss != null ? { cvss: rows.get(id)!.cvss } : {}), ...(v?.epss ? { epss: v.epss.score } : {}), kev: !!v?.kev,
        },
      };
      if (!(await this.opts.store.recordFirstExposure({ tenant, vulnerability: id, at: now, vehicles: c.vehicles, affected: c.affected, alert: alert.id }))) continue;
      alerts.push(alert);
    }
    if (alerts.length) {
      await this.opts.insertAlerts?.(alerts);
      this.opts.offerAlerts?.(alerts);
    }
    return alerts;
  }
}

/** Alert severity of a priority. */
export function severityOf(score: number): AlertSeverity {
  return score >= 80 ? 'critical' : score >= 60 ? 'high' : score >= 40 ? 'medium' : 'low';
}

/** CycloneDX or SPDX JSON, recognised by content. */
export function parseSbomText(doc: FeedDocument, binding?: SubjectBinding): ReturnType<typeof parseCycloneDx> {
  const json = jsonObject(doc.text);
  if ('problems' in json) return { problems: json.problems.map((p) => `${doc.name}: ${p}`) };
  const opts = { document: doc.name, ...(binding ? { binding } : {}) };
  if (json.doc['bomFormat'] === 'CycloneDX') return parseCycloneDx(json.doc, opts);
  if (typeof json.doc['spdxVersion'] === 'string') return parseSpdx(json.doc, opts);
  return { problems: [`${doc.name}: not a CycloneDX (bomFormat) or SPDX 2 (spdxVersion) JSON document`] };
}

/** Same document and binding: same id (an upload again replaces it). */
function sbomId(s: StoredSbom['sbom']): string {
  const subj = s.subject;
  const key = [s.format, s.serial ?? s.document, subj?.ecu?.trim().toLowerCase() ?? '', subj?.softwareVersion?.trim() ?? '', subj?.vehicleModel?.trim().toLowerCase() ?? ''].join('\u0000');
  return `sbom_${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}
