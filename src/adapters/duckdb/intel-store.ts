/**
 * The DuckDB adapter of the IntelStore port (src/intel/ports.ts), in the same database as the
 * DuckDBStore, taking turns on its connection:
 *
 *   const intel = new DuckDBIntelStore(store.connection);
 *
 * Exposure is SQL over `vehicles` x SBOM binding x matches, never the fleet in JS: the SBOMs
 * whose matches expose (affected or needs_review) are bound by (ECU, software version, vehicle
 * model) to the pairs `json_each(vehicles.software)` unpacks, comparing as sbom/binding.ts does
 * (ECU and model case-insensitively and trimmed, the version trimmed and exactly). Vehicles are
 * first narrowed to those whose software text contains one of the exposing versions (a string
 * scan, no JSON parsing); only those are unpacked.
 */
import { StoreError } from '../../core/errors.js';
import type { Page } from '../../core/store.js';
import type { CsafDocument, Indicator, RecordReport, Severity, VexStatement, Vulnerability } from '../../intel/model.js';
import { componentIdentity } from '../../intel/match/index.js';
import type { MatchBasis, MatchResult } from '../../intel/match/types.js';
import { topCvss, priority } from '../../intel/priority.js';
import type {
  ExposedVehicle, ExposedVulnerability, Exposure, ExposureCount, ExposureResult, ImportLine, ImportRun, IntelStore, SavedFeed, SbomSummary,
  StoredMatch, StoredSbom, VehicleVulnerability, VexDecision, VulnerabilityQuery, VulnerabilityRow,
} from '../../intel/ports.js';
import type { SerialConnection, SqlParam } from './connection.js';
import { SOFTWARE_PAIRS, SOFTWARE_VALUES, SoftwarePairs, VEHICLE_ATTRS } from './software-pairs.js';
import { stagedInsertIgnoringDuplicates } from './staged-insert.js';
import { jsonParam, jsonValue, pageParams, timeParam, timeValue, vehicleParam, vehicleValue } from './values.js';

/** Rows per multi-row INSERT below the staged path. */
const ROWS_PER_INSERT = 200;
/** `[...]` of text as a parameter list: `IN (SELECT unnest(from_json(?, '["VARCHAR"]')))`. */
const IN_LIST = `(SELECT unnest(from_json(?, '["VARCHAR"]')))`;
const EXPOSING = `('affected', 'needs_review')`;
/** Rank of a match when choosing the one to show: affected first, then confidence. */
const RANK = `((m.result = 'affected')::INT * 10 + m.confidence)`;

export class DuckDBIntelStore implements IntelStore {
  private readonly pairs: SoftwarePairs;

  constructor(private readonly db: SerialConnection) {
    this.pairs = new SoftwarePairs(db);
  }

  // ------------------------------------------------------------------ feeds

  async saveFeed(content: { vulnerabilities: readonly Vulnerability[]; indicators: readonly Indicator[]; csaf: readonly CsafDocument[]; vex: readonly VexStatement[]; replaced?: readonly string[] }, at: number): Promise<SavedFeed> {
    const now = timeParam(at, 'at');
    return this.db.exclusive(() => this.db.transaction(async () => {
      const ids = content.vulnerabilities.map((v) => v.id);
      const old = new Map<string, { doc: string; first: bigint }>();
      for (const r of await this.db.all<{ id: string; doc: string; first: bigint }>(
        `SELECT id, doc, epoch_us(first_imported_at) AS first FROM intel_vulnerabilities WHERE id IN ${IN_LIST}`, [JSON.stringify(ids)])) {
        old.set(r.id, { doc: r.doc, first: r.first });
      }
      const added: string[] = [];
      const changed: string[] = [];
      const rows: SqlParam[][] = [];
      const aliases: SqlParam[][] = [];
      for (const v of content.vulnerabilities) {
        const doc = JSON.stringify(v);
        const before = old.get(v.id);
        if (before && before.doc === doc) continue;
        (before ? changed : added).push(v.id);
        rows.push(vulnerabilityRow(v, doc, before ? timeParam(timeValue(before.first), 'first') : now, now));
        for (const a of new Set([v.id, ...v.aliases])) aliases.push([a, v.id]);
      }
      const gone = [...changed, ...(content.replaced ?? []).filter((id) => !ids.includes(id))];
      if (gone.length) {
        await this.db.run(`DELETE FROM intel_vulnerabilities WHERE id IN ${IN_LIST}`, [JSON.stringify(gone)]);
        await this.db.run(`DELETE FROM intel_aliases WHERE vulnerability IN ${IN_LIST}`, [JSON.stringify(gone)]);
      }
      await insertRows(this.db, 'intel_vulnerabilities', VULN_COLUMNS, ['id'], rows);
      await insertRows(this.db, 'intel_aliases', ['alias', 'vulnerability'], ['alias', 'vulnerability'], aliases);

      const ind = content.indicators.map((i) => [i.id, i.patternType, i.pattern, optTime(i.validFrom), optTime(i.validUntil), JSON.stringify(i), now]);
      if (ind.length) await this.db.run(`DELETE FROM intel_indicators WHERE id IN ${IN_LIST}`, [JSON.stringify(content.indicators.map((i) => i.id))]);
      await insertRows(this.db, 'intel_indicators', ['id', 'pattern_type', 'pattern', 'valid_from', 'valid_until', 'doc', 'updated_at'], ['id'], ind);

      for (const c of content.csaf) {
        await this.db.run('DELETE FROM intel_csaf WHERE tracking_id = ? AND publisher = ?', [c.trackingId, c.publisher ?? '']);
      }
      await insertRows(this.db, 'intel_csaf', ['tracking_id', 'publisher', 'title', 'doc', 'updated_at'], ['tracking_id', 'publisher'],
        content.csaf.map((c) => [c.trackingId, c.publisher ?? '', c.title, JSON.stringify(c), now]));

      for (const s of content.vex) {
        await this.db.run('DELETE FROM intel_feed_vex WHERE vulnerability = ? AND product_id = ? AND document = ?', [s.vulnerabilityId, s.productId, s.source.document]);
      }
      await insertRows(this.db, 'intel_feed_vex', ['vulnerability', 'product_id', 'document', 'status', 'doc', 'updated_at'], ['vulnerability', 'product_id', 'document'],
        content.vex.map((s) => [s.vulnerabilityId, s.productId, s.source.document, s.status, JSON.stringify(s), now]));
      return { added, changed, indicators: ind.length };
    }));
  }

  async vulnerabilitiesNamed(ids: readonly string[]): Promise<Vulnerability[]> {
    if (!ids.length) return [];
    return this.db.exclusive(async () => (await this.db.all<{ doc: string }>(
      `SELECT doc FROM intel_vulnerabilities WHERE id IN (SELECT vulnerability FROM intel_aliases WHERE alias IN ${IN_LIST}) ORDER BY id`,
      [JSON.stringify(ids)])).map((r) => jsonValue<Vulnerability>(r.doc)));
  }

  async resolve(idOrAlias: string): Promise<string | undefined> {
    return this.db.exclusive(async () => {
      const rows = await this.db.all<{ vulnerability: string }>(
        `SELECT vulnerability FROM intel_aliases WHERE alias = ? OR alias = upper(?) ORDER BY (vulnerability = alias) DESC, vulnerability LIMIT 1`, [idOrAlias, idOrAlias]);
      return rows[0]?.vulnerability;
    });
  }

  async vulnerability(id: string): Promise<Vulnerability | undefined> {
    return this.db.exclusive(async () => {
      const [r] = await this.db.all<{ doc: string }>('SELECT doc FROM intel_vulnerabilities WHERE id = ?', [id]);
      return r ? jsonValue<Vulnerability>(r.doc) : undefined;
    });
  }

  async matchable(): Promise<Vulnerability[]> {
    return this.db.exclusive(async () => (await this.db.all<{ doc: string }>(
      `SELECT doc FROM intel_vulnerabilities WHERE NOT withdrawn
         AND (json_array_length(doc -> '$.affected') > 0 OR (doc ->> '$.description') IS NOT NULL) ORDER BY id`,
    )).map((r) => jsonValue<Vulnerability>(r.doc)));
  }

  async indicators(): Promise<Indicator[]> {
    return this.docs<Indicator>('SELECT doc FROM intel_indicators ORDER BY id');
  }

  async csafDocuments(): Promise<CsafDocument[]> {
    return this.docs<CsafDocument>('SELECT doc FROM intel_csaf ORDER BY updated_at, tracking_id');
  }

  async feedVex(): Promise<VexStatement[]> {
    // Oldest first: the matcher lets the newest statement win.
    return this.docs<VexStatement>('SELECT doc FROM intel_feed_vex ORDER BY updated_at, rowid');
  }

  async listVulnerabilities(q: VulnerabilityQuery): Promise<{ rows: VulnerabilityRow[]; total: number }> {
    const [limit, offset] = pageParams(q);
    const where: string[] = [];
    const params: SqlParam[] = [];
    if (q.kev !== undefined) where.push(q.kev ? 'v.kev' : 'NOT v.kev');
    if (q.severity?.length) {
      where.push(`v.severity IN ${IN_LIST}`);
      params.push(JSON.stringify(q.severity));
    }
    if (q.text) {
      where.push(`(v.id ILIKE ? OR v.title ILIKE ? OR (v.doc ->> '$.description') ILIKE ? OR EXISTS (SELECT 1 FROM intel_aliases a WHERE a.vulnerability = v.id AND a.alias ILIKE ?))`);
      const like = `%${q.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      params.push(like, like, like, like);
    }
    if (q.exposed !== undefined) where.push(`${q.exposed ? '' : 'NOT '}(v.id IN (SELECT vulnerability FROM x))`);
    return this.db.exclusive(async () => {
      await this.materializeExposure(q.tenant, undefined, undefined, false);
      const sql = `WITH x AS (SELECT * FROM intel_exposure_x)
        SELECT ${SUMMARY_SELECT}, count(*) OVER () AS total FROM intel_vulnerabilities v
        LEFT JOIN (SELECT vulnerability, count(*) AS vehicles, count_if(result = 'affected') AS affected FROM x GROUP BY vulnerability) e ON e.vulnerability = v.id
        LEFT JOIN (${ECUS_OF_TENANT}) ec ON ec.vulnerability = v.id
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY coalesce(e.vehicles, 0) DESC, v.cvss DESC NULLS LAST, v.id LIMIT ? OFFSET ?`;
      const rows = await this.db.all<SummaryRow & { total: bigint }>(sql, [q.tenant, ...params, limit, offset]);
      return { rows: rows.map(summaryOf), total: Number(rows[0]?.total ?? (offset > 0 ? await this.countOnly(q, where, params) : 0)) };
    });
  }

  private async countOnly(q: VulnerabilityQuery, where: string[], params: SqlParam[]): Promise<number> {
    const [r] = await this.db.all<{ n: bigint }>(`WITH x AS (SELECT * FROM intel_exposure_x) SELECT count(*) AS n FROM intel_vulnerabilities v ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`, params);
    void q;
    return Number(r?.n ?? 0);
  }

  async summaries(tenant: string, ids: readonly string[]): Promise<VulnerabilityRow[]> {
    if (!ids.length) return [];
    return this.db.exclusive(async () => {
      await this.materializeExposure(tenant, ids, undefined, false);
      const rows = await this.db.all<SummaryRow>(`SELECT ${SUMMARY_SELECT} FROM intel_vulnerabilities v
        LEFT JOIN (SELECT vulnerability, count(*) AS vehicles, count_if(result = 'affected') AS affected FROM intel_exposure_x GROUP BY vulnerability) e ON e.vulnerability = v.id
        LEFT JOIN (${ECUS_OF_TENANT}) ec ON ec.vulnerability = v.id
        WHERE v.id IN ${IN_LIST} ORDER BY v.id`, [tenant, JSON.stringify(ids)]);
      return rows.map(summaryOf);
    });
  }

  // ------------------------------------------------------------------ import runs

  async saveImportRun(run: ImportRun, lines: readonly RecordReport[]): Promise<void> {
    return this.db.exclusive(() => this.db.transaction(async () => {
      await this.db.run(
        `INSERT INTO intel_import_runs (id, tenant, actor, started_at, finished_at, sources, documents, records, ok, partial, rejected, vulnerabilities, indicators)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [run.id, run.tenant, run.actor, timeParam(run.startedAt, 'startedAt'), run.finishedAt === undefined ? null : timeParam(run.finishedAt, 'finishedAt'),
          JSON.stringify(run.sources), run.documents, run.records, run.ok, run.partial, run.rejected, run.vulnerabilities, run.indicators],
      );
      await insertRows(this.db, 'intel_import_lines', ['run', 'seq', 'document', 'format', 'record_id', 'status', 'problems', 'notes'], ['run', 'seq'],
        lines.map((l, i) => [run.id, i, l.document, l.format, l.recordId, l.status, JSON.stringify(l.problems), jsonParam(l.notes)]));
    }));
  }

  async importRuns(page: Page & { tenant?: string }): Promise<ImportRun[]> {
    const [limit, offset] = pageParams(page);
    return this.db.exclusive(async () => (await this.db.all<RunRow>(
      `SELECT ${RUN_SELECT} FROM intel_import_runs ${page.tenant ? 'WHERE tenant = ?' : ''} ORDER BY started_at DESC, id LIMIT ? OFFSET ?`,
      [...(page.tenant ? [page.tenant] : []), limit, offset])).map(runOf));
  }

  async importRun(id: string): Promise<ImportRun | undefined> {
    return this.db.exclusive(async () => {
      const [r] = await this.db.all<RunRow>(`SELECT ${RUN_SELECT} FROM intel_import_runs WHERE id = ?`, [id]);
      return r ? runOf(r) : undefined;
    });
  }

  async importLines(run: string, q: Page & { status?: readonly RecordReport['status'][] }): Promise<ImportLine[]> {
    const [limit, offset] = pageParams(q);
    const status = q.status?.length ? `AND status IN ${IN_LIST}` : '';
    return this.db.exclusive(async () => (await this.db.all<{ seq: number; document: string; format: string; record_id: string; status: string; problems: string; notes: string | null }>(
      `SELECT seq, document, format, record_id, status, problems, notes FROM intel_import_lines WHERE run = ? ${status} ORDER BY seq LIMIT ? OFFSET ?`,
      [run, ...(q.status?.length ? [JSON.stringify(q.status)] : []), limit, offset],
    )).map((r) => ({
      seq: r.seq, document: r.document, format: r.format as ImportLine['format'], recordId: r.record_id, status: r.status as ImportLine['status'],
      problems: jsonValue<string[]>(r.problems), ...(r.notes ? { notes: jsonValue<string[]>(r.notes) } : {}),
    })));
  }

  // ------------------------------------------------------------------ SBOMs, matches, decisions

  async saveSboms(items: readonly { sbom: StoredSbom; matches?: readonly StoredMatch[] }[], at: number): Promise<void> {
    if (!items.length) return;
    const now = timeParam(at, 'at');
    const rows: SqlParam[][] = [];
    const comps: SqlParam[][] = [];
    const matchRows: SqlParam[][] = [];
    const byTenant = new Map<string, { all: string[]; matched: string[] }>();
    for (const { sbom: s, matches } of items) {
      const subj = s.sbom.subject;
      const bound = s.unboundReason === undefined;
      rows.push([s.tenant, s.id, s.sbom.document, s.sbom.format, s.sbom.specVersion, s.sbom.serial ?? null, subj?.name ?? null, subj?.ecu ?? null,
        bound && subj?.ecu ? subj.ecu.trim().toLowerCase() : null, bound && subj?.softwareVersion ? subj.softwareVersion.trim() : null,
        subj?.vehicleModel ?? null, subj?.vehicleModel ? subj.vehicleModel.trim().toLowerCase() : null, s.unboundReason ?? null,
        s.sbom.components.length, JSON.stringify(s.problems), JSON.stringify(s.sbom), s.uploadedBy, timeParam(s.uploadedAt, 'uploadedAt')]);
      for (const c of s.sbom.components) comps.push([s.tenant, s.id, c.bomRef, c.name, c.version ?? null, c.purl ?? null, JSON.stringify(c.cpes), componentIdentity(c), c.type ?? null, c.supplier ?? null]);
      const t = byTenant.get(s.tenant) ?? { all: [], matched: [] };
      t.all.push(s.id);
      if (matches) {
        t.matched.push(s.id);
        for (const m of matches) matchRows.push(matchRow(s.tenant, m, now));
      }
      byTenant.set(s.tenant, t);
    }
    return this.db.exclusive(() => this.db.transaction(async () => {
      for (const [tenant, { all, matched }] of byTenant) {
        await this.db.run(`DELETE FROM intel_sbom_components WHERE tenant = ? AND sbom IN ${IN_LIST}`, [tenant, JSON.stringify(all)]);
        await this.db.run(`DELETE FROM intel_sboms WHERE tenant = ? AND id IN ${IN_LIST}`, [tenant, JSON.stringify(all)]);
        if (matched.length) await this.db.run(`DELETE FROM intel_matches WHERE tenant = ? AND sbom IN ${IN_LIST}`, [tenant, JSON.stringify(matched)]);
      }
      await insertRows(this.db, 'intel_sboms', SBOM_COLUMNS, ['tenant', 'id'], rows);
      await insertRows(this.db, 'intel_sbom_components', ['tenant', 'sbom', 'ref', 'name', 'version', 'purl', 'cpes', 'identity', 'type', 'supplier'], ['tenant', 'sbom', 'ref'], comps);
      await insertRows(this.db, 'intel_matches', MATCH_COLUMNS, [], matchRows);
    }));
  }

  async sboms(tenant: string, page: Page): Promise<SbomSummary[]> {
    const [limit, offset] = pageParams(page);
    return this.db.exclusive(async () => (await this.db.all<SbomRow>(
      `SELECT ${SBOM_SELECT} FROM intel_sboms WHERE tenant = ? ORDER BY uploaded_at DESC, id LIMIT ? OFFSET ?`, [tenant, limit, offset])).map(sbomSummaryOf));
  }

  async sbom(tenant: string, id: string): Promise<StoredSbom | undefined> {
    return this.db.exclusive(async () => {
      const [r] = await this.db.all<SbomRow & { doc: string }>(`SELECT ${SBOM_SELECT}, doc FROM intel_sboms WHERE tenant = ? AND id = ?`, [tenant, id]);
      return r ? storedSbomOf(r) : undefined;
    });
  }

  async allSboms(tenant: string): Promise<StoredSbom[]> {
    return this.db.exclusive(async () => (await this.db.all<SbomRow & { doc: string }>(
      `SELECT ${SBOM_SELECT}, doc FROM intel_sboms WHERE tenant = ? ORDER BY id`, [tenant])).map(storedSbomOf));
  }

  async sbomTenants(): Promise<string[]> {
    return this.db.exclusive(async () => (await this.db.all<{ tenant: string }>('SELECT DISTINCT tenant FROM intel_sboms ORDER BY tenant')).map((r) => r.tenant));
  }

  async replaceMatches(tenant: string, scope: { sboms: readonly string[] } | { vulnerabilities: readonly string[] }, matches: readonly StoredMatch[], at: number): Promise<void> {
    const now = timeParam(at, 'at');
    const rows = matches.map((m) => matchRow(tenant, m, now));
    const [column, keys] = 'sboms' in scope ? ['sbom', scope.sboms] : ['vulnerability', scope.vulnerabilities];
    return this.db.exclusive(() => this.db.transaction(async () => {
      await this.db.run(`DELETE FROM intel_matches WHERE tenant = ? AND ${column} IN ${IN_LIST}`, [tenant, JSON.stringify(keys)]);
      await insertRows(this.db, 'intel_matches', MATCH_COLUMNS, [], rows);
    }));
  }

  async matches(tenant: string, vulnerability: string, page: Page): Promise<StoredMatch[]> {
    const [limit, offset] = pageParams(page);
    return this.db.exclusive(async () => (await this.db.all<MatchRow>(
      `SELECT vulnerability, sbom, component_ref, component_identity, result, basis, confidence, reason, source, vex FROM intel_matches
       WHERE tenant = ? AND vulnerability = ? ORDER BY (result = 'affected') DESC, (result = 'needs_review') DESC, confidence DESC, sbom, component_ref LIMIT ? OFFSET ?`,
      [tenant, vulnerability, limit, offset])).map((r) => ({
      vulnerabilityId: r.vulnerability, sbom: r.sbom, componentRef: r.component_ref, componentIdentity: r.component_identity,
      result: r.result as MatchResult, basis: r.basis as MatchBasis, confidence: r.confidence, reason: r.reason,
      ...(r.source ? { source: jsonValue(r.source) } : {}), ...(r.vex ? { vex: jsonValue(r.vex) } : {}),
    })));
  }

  async saveVexDecision(d: VexDecision): Promise<void> {
    return this.db.exclusive(async () => {
      await this.db.run(
        `INSERT OR REPLACE INTO intel_vex_decisions (tenant, vulnerability, component_identity, status, justification, reason, decided_by, decided_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        [d.tenant, d.vulnerability, d.componentIdentity, d.status, d.justification ?? null, d.reason, d.decidedBy, timeParam(d.decidedAt, 'decidedAt')],
      );
    });
  }

  async vexDecisions(tenant: string, vulnerability?: string): Promise<VexDecision[]> {
    return this.db.exclusive(async () => (await this.db.all<{ vulnerability: string; component_identity: string; status: string; justification: string | null; reason: string; decided_by: string; decided_at: bigint }>(
      `SELECT vulnerability, component_identity, status, justification, reason, decided_by, epoch_us(decided_at) AS decided_at FROM intel_vex_decisions
       WHERE tenant = ? ${vulnerability ? 'AND vulnerability = ?' : ''} ORDER BY decided_at, vulnerability, component_identity`,
      [tenant, ...(vulnerability ? [vulnerability] : [])])).map((r) => ({
      tenant, vulnerability: r.vulnerability, componentIdentity: r.component_identity, status: r.status as VexDecision['status'],
      ...(r.justification ? { justification: r.justification } : {}), reason: r.reason, decidedBy: r.decided_by, decidedAt: timeValue(r.decided_at),
    })));
  }

  // ------------------------------------------------------------------ exposure

  async exposure(tenant: string, vulnerability: string, list?: Page & { result?: ExposureResult }): Promise<Exposure & { list?: ExposedVehicle[] }> {
    return this.db.exclusive(async () => {
      await this.materializeExposure(tenant, [vulnerability]);
      const page = list ? await this.pageOfMaterialized(list) : undefined;
      const counts = `count(*) AS vehicles, count_if(result = 'affected') AS affected`;
      const group = async <K extends string>(cols: string): Promise<(Record<K, unknown> & CountRow)[]> =>
        this.db.all(`SELECT ${cols}, ${counts} FROM intel_exposure_x GROUP BY ALL ORDER BY vehicles DESC, ${cols}`);
      const [total] = await this.db.all<CountRow>(`SELECT ${counts} FROM intel_exposure_x`);
      const soft = await this.db.all<CountRow & { ecu: string; version: string }>(
        `SELECT h.ecu, h.version, ${counts} FROM (SELECT DISTINCT s.vulnerability, h.vehicle, s.ecu, s.version FROM intel_exposure_h h JOIN intel_exposure_s s ON s.k = h.k) h
         JOIN intel_exposure_x x ON x.vulnerability = h.vulnerability AND x.vehicle = h.vehicle GROUP BY ALL ORDER BY vehicles DESC, 1, 2`);
      return {
        vulnerability, ...countOf(total),
        byMake: (await group<'make'>('make')).map((r) => ({ make: r.make as string | null, ...countOf(r) })),
        byModel: (await group<'make' | 'model'>('make, model')).map((r) => ({ make: r.make as string | null, model: r.model as string | null, ...countOf(r) })),
        byYear: (await group<'year'>('year')).map((r) => ({ year: r.year === null ? null : Number(r.year), ...countOf(r) })),
        byRegion: (await group<'region'>('region')).map((r) => ({ region: r.region as string | null, ...countOf(r) })),
        bySoftware: soft.map((r) => ({ ecu: r.ecu, softwareVersion: r.version, ...countOf(r) })),
        ...(page ? { list: page } : {}),
      };
    });
  }

  async exposedVehicles(tenant: string, vulnerability: string, q: Page & { result?: ExposureResult }): Promise<ExposedVehicle[]> {
    return this.db.exclusive(async () => {
      await this.materializeExposure(tenant, [vulnerability]);
      return this.pageOfMaterialized(q);
    });
  }

  private async pageOfMaterialized(q: Page & { result?: ExposureResult }): Promise<ExposedVehicle[]> {
    const [limit, offset] = pageParams(q);
    const rows = await this.db.all<ExposedRow>(
      `WITH x AS (SELECT * FROM intel_exposure_x ${q.result ? 'WHERE result = ?' : ''} ORDER BY (result = 'affected') DESC, vehicle LIMIT ? OFFSET ?)
       ${DETAIL} ORDER BY (x.result = 'affected') DESC, x.vehicle`,
      [...(q.result ? [q.result] : []), limit, offset]);
    return rows.map(exposedOf);
  }

  async vehicleVulnerabilities(tenant: string, vehicle: string): Promise<VehicleVulnerability[]> {
    return (await this.vehiclesVulnerabilities(tenant, [vehicle])).get(vehicle) ?? [];
  }

  async vehiclesVulnerabilities(tenant: string, vehicles: readonly string[]): Promise<Map<string, VehicleVulnerability[]>> {
    const keys = [...new Set(vehicles)].map((v) => vehicleParam(v));
    const out = new Map<string, VehicleVulnerability[]>();
    if (!keys.length) return out;
    return this.db.exclusive(async () => {
      // The alert service asks for every batch: a tenant with no exposing match costs one lookup.
      const [any] = await this.db.all(`SELECT 1 FROM intel_matches WHERE tenant = ? AND result IN ${EXPOSING} LIMIT 1`, [tenant]);
      if (!any) return out;
      await this.materializeExposure(tenant, undefined, keys, false);
      const rows = await this.db.all<ExposedRow & SummaryRow>(
        `WITH x AS (SELECT * FROM intel_exposure_x), xd AS (${DETAIL})
         SELECT x.*, ${SUMMARY_SELECT.replace('coalesce(ec.ecus, []) AS ecus', '[] AS ecu_names')} FROM xd x JOIN intel_vulnerabilities v ON v.id = x.vulnerability
         -- SUMMARY_SELECT's fleet counts, not wanted per vehicle
         LEFT JOIN (SELECT NULL::VARCHAR AS vulnerability, 0 AS vehicles, 0 AS affected) e ON false
         ORDER BY x.vehicle, (x.result = 'affected') DESC, v.cvss DESC NULLS LAST, v.id`);
      for (const r of rows) {
        const { vehicle, make: _m, model: _mo, year: _y, region: _r, ...exposed } = exposedOf(r);
        const { vehicles: _n, affected: _a, needsReview: _nr, ecus: _e, ...summary } = summaryOf(r);
        const list = out.get(vehicle) ?? [];
        list.push({ ...summary, ...exposed });
        out.set(vehicle, list);
      }
      return out;
    });
  }

  async exposureCounts(tenant: string, vulnerabilities?: readonly string[]): Promise<Map<string, ExposureCount & { byModel: { make: string; model: string; vehicles: number }[] }>> {
    return this.db.exclusive(async () => {
      await this.materializeExposure(tenant, vulnerabilities);
      return this.countsOfMaterialized();
    });
  }

  private async countsOfMaterialized(): Promise<Map<string, ExposureCount & { byModel: { make: string; model: string; vehicles: number }[] }>> {
    const out = new Map<string, ExposureCount & { byModel: { make: string; model: string; vehicles: number }[] }>();
    for (const r of await this.db.all<CountRow & { vulnerability: string }>(
      `SELECT vulnerability, count(*) AS vehicles, count_if(result = 'affected') AS affected FROM intel_exposure_x GROUP BY vulnerability`)) {
      out.set(r.vulnerability, { ...countOf(r), byModel: [] });
    }
    for (const r of await this.db.all<{ vulnerability: string; make: string | null; model: string | null; vehicles: bigint }>(
      `SELECT vulnerability, make, model, count(*) AS vehicles FROM intel_exposure_x GROUP BY ALL ORDER BY vulnerability, vehicles DESC, make, model`)) {
      out.get(r.vulnerability)?.byModel.push({ make: r.make ?? '', model: r.model ?? '', vehicles: Number(r.vehicles) });
    }
    return out;
  }

  async recordFirstExposure(e: { tenant: string; vulnerability: string; at: number; vehicles: number; affected: number; alert?: string }): Promise<boolean> {
    return this.db.exclusive(async () => (await this.db.run(
      `INSERT INTO intel_first_exposure (tenant, vulnerability, first_exposed_at, vehicles, affected, alert) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [e.tenant, e.vulnerability, timeParam(e.at, 'at'), e.vehicles, e.affected, e.alert ?? null])) > 0);
  }

  async firstExposures(tenant: string): Promise<Map<string, number>> {
    return this.db.exclusive(async () => new Map((await this.db.all<{ vulnerability: string; at: bigint }>(
      'SELECT vulnerability, epoch_us(first_exposed_at) AS at FROM intel_first_exposure WHERE tenant = ?', [tenant])).map((r) => [r.vulnerability, timeValue(r.at)])));
  }

  async topExposed(tenant: string, limit: number): Promise<ExposedVulnerability[]> {
    if (!Number.isSafeInteger(limit) || limit < 0) throw new StoreError(`limit must be an integer >= 0, got ${limit}`);
    const { counts, docs, first, ecus } = await this.db.exclusive(async () => {
      await this.materializeExposure(tenant);
      const counts = await this.countsOfMaterialized();
      const docs = await this.db.all<{ doc: string }>(`SELECT v.doc FROM intel_vulnerabilities v WHERE v.id IN (SELECT DISTINCT vulnerability FROM intel_exposure_x)`);
      const ecus = await this.db.all<{ vulnerability: string; ecus: string[] }>(
        `SELECT vulnerability, list(DISTINCT ecu) AS ecus FROM intel_exposure_s WHERE k IN (SELECT k FROM intel_exposure_h) GROUP BY ALL`);
      const first = await this.db.all<{ vulnerability: string; at: bigint }>(
        'SELECT vulnerability, epoch_us(first_exposed_at) AS at FROM intel_first_exposure WHERE tenant = ?', [tenant]);
      return { counts, docs, first, ecus };
    });
    const firstAt = new Map(first.map((r) => [r.vulnerability, timeValue(r.at)]));
    const ecusOf = new Map(ecus.map((r) => [r.vulnerability, [...r.ecus]]));
    const out: ExposedVulnerability[] = docs.map(({ doc }) => {
      const v = jsonValue<Vulnerability>(doc);
      const c = counts.get(v.id)!;
      const top = topCvss(v.cvss);
      return {
        id: v.id, title: v.title ?? v.description?.slice(0, 120) ?? v.id, severity: top?.severity ?? null, cvss: top?.baseScore ?? null,
        epss: v.epss?.score ?? null, kev: !!v.kev, priority: priority(v, ecusOf.get(v.id) ?? []).score,
        vehicles: c.vehicles, affected: c.affected, firstExposedAt: firstAt.get(v.id) ?? null, byModel: c.byModel,
      };
    });
    out.sort((a, b) => b.priority - a.priority || b.vehicles - a.vehicles || a.id.localeCompare(b.id));
    return out.slice(0, limit);
  }

  /**
   * Temporary tables of the tenant's exposure, restricted to some vulnerabilities and/or some
   * vehicles (the caller holds the connection's turn):
   * - `intel_exposure_s`: one row per (exposing SBOM binding, ECU software as vehicles write it)
   *   numbered `k`: vulnerability, the ECU and version, the SBOMs' result (`affected`), basis,
   *   confidence, components and `rank` (affected first, then confidence), `model_key`;
   * - `intel_exposure_h`: one row per (k, vehicle UBIGINT) that runs that software (and model), `a` its attributes (VEHICLE_ATTRS; fleet-wide only);
   * - `intel_exposure_x`: one row per (vulnerability, vehicle) exposed: `result` (affected when
   *   one of its hits is), and make, model, year and region (NULL without `attributes` or for a few vehicles).
   * `DETAIL` adds the strongest match, the ECUs and the components to rows of `x` (a page).
   *
   * Fleet-wide, the vehicles' software comes unpacked from `SoftwarePairs` (brought up to date
   * first); for a few vehicles, from their `software` JSON directly.
   */
  private async materializeExposure(tenant: string, vulnerabilities?: readonly string[], vehicles?: readonly bigint[], attributes = true): Promise<void> {
    const params: SqlParam[] = [tenant];
    let vulnFilter = '';
    if (vulnerabilities) {
      vulnFilter = `AND m.vulnerability IN ${IN_LIST}`;
      params.push(JSON.stringify(vulnerabilities));
    }
    const b = `b AS MATERIALIZED (
        SELECT m.vulnerability, s.ecu_key, s.software_version, s.model_key,
          bool_or(m.result = 'affected') AS affected,
          arg_max(m.basis, ${RANK}) AS basis, arg_max(m.confidence, ${RANK}) AS confidence,
          list(DISTINCT m.component_identity ORDER BY m.component_identity) AS components
        FROM intel_matches m JOIN intel_sboms s ON s.tenant = m.tenant AND s.id = m.sbom
        WHERE m.tenant = ? AND m.result IN ${EXPOSING} AND s.ecu_key IS NOT NULL AND s.software_version IS NOT NULL ${vulnFilter}
        GROUP BY ALL
      )`;
    const sRow = `row_number() OVER ()::INTEGER AS k, b.*, w.ecu, w.version, (b.affected::INT * 10 + b.confidence) AS rank`;
    const [t] = await this.db.all<{ id: number }>('SELECT id FROM tenants WHERE name = ?', [tenant]);
    const tid = t?.id ?? -1;
    // An unknown tenant has no vehicle: the (empty) few-vehicles path gives the tables their shape.
    const few = vehicles ?? (t ? undefined : []);
    if (few) {
      // The keys inlined (UBIGINTs, as vehicleParam made them): a literal IN list is looked up in the key's index.
      await this.db.run(`CREATE OR REPLACE TEMP TABLE intel_exposure_p AS
        SELECT c.id, c.model, e.key AS ecu, e.value ->> '$' AS version
        FROM (SELECT id, model, software FROM vehicles WHERE tenant = ? AND id IN (${few.length ? few.map((k) => `${BigInt(k)}::UBIGINT`).join(', ') : 'NULL'}) AND software IS NOT NULL) c,
          json_each(c.software) e WHERE json_type(e.value) <> 'NULL'`, [tid]);
      await this.db.run(`CREATE OR REPLACE TEMP TABLE intel_exposure_s AS WITH ${b}
        SELECT ${sRow} FROM b JOIN (SELECT DISTINCT ecu, version FROM intel_exposure_p) w ON lower(trim(w.ecu)) = b.ecu_key AND trim(w.version) = b.software_version`, params);
      await this.db.run(`CREATE OR REPLACE TEMP TABLE intel_exposure_h AS
        SELECT s.k, p.id AS vehicle, NULL::UINTEGER AS a FROM intel_exposure_p p JOIN intel_exposure_s s ON p.ecu = s.ecu AND p.version = s.version
        WHERE s.model_key IS NULL OR lower(trim(p.model)) = s.model_key`);
    } else {
      await this.pairs.refresh(tid);
      await this.db.run(`CREATE OR REPLACE TEMP TABLE intel_exposure_s AS WITH ${b}
        SELECT ${sRow}, w.sw FROM b JOIN ${SOFTWARE_VALUES} w ON w.ecu_key = b.ecu_key AND w.version_key = b.software_version`, params);
      await this.db.run(`CREATE OR REPLACE TEMP TABLE intel_exposure_h AS
        SELECT s.k, p.id AS vehicle, p.a FROM ${SOFTWARE_PAIRS} p JOIN intel_exposure_s s ON p.sw = s.sw JOIN ${VEHICLE_ATTRS} d ON d.a = p.a
        WHERE p.tenant = ? AND (s.model_key IS NULL OR d.model_key = s.model_key)`, [tid]);
    }
    const x = `SELECT s.vulnerability, h.vehicle, any_value(h.a) AS a, CASE WHEN bool_or(s.affected) THEN 'affected' ELSE 'needs_review' END AS result
      FROM intel_exposure_h h JOIN intel_exposure_s s ON s.k = h.k GROUP BY s.vulnerability, h.vehicle`;
    // Fleet-wide, the attributes come with the pairs; for a few vehicles nobody asks for them.
    await this.db.run(attributes && !few
      ? `CREATE OR REPLACE TEMP TABLE intel_exposure_x AS
          SELECT x.vulnerability, x.vehicle, d.make, d.model, d.year, d.region, x.result FROM (${x}) x JOIN ${VEHICLE_ATTRS} d ON d.a = x.a`
      : `CREATE OR REPLACE TEMP TABLE intel_exposure_x AS
          SELECT vulnerability, vehicle, NULL::VARCHAR AS make, NULL::VARCHAR AS model, NULL::INTEGER AS year, NULL::VARCHAR AS region, result FROM (${x})`,
    );
  }

  private async docs<T>(sql: string): Promise<T[]> {
    return this.db.exclusive(async () => (await this.db.all<{ doc: string }>(sql)).map((r) => jsonValue<T>(r.doc)));
  }
}

// ---------------------------------------------------------------- rows

const VULN_COLUMNS = ['id', 'title', 'published', 'modified', 'cvss', 'severity', 'cvss_vector', 'epss', 'epss_percentile', 'kev', 'withdrawn', 'doc', 'first_imported_at', 'updated_at'];
const SBOM_COLUMNS = ['tenant', 'id', 'document', 'format', 'spec_version', 'serial', 'subject', 'ecu', 'ecu_key', 'software_version', 'vehicle_model', 'model_key',
  'unbound_reason', 'components', 'problems', 'doc', 'uploaded_by', 'uploaded_at'];
/** A match row in MATCH_COLUMNS order: every column of `intel_matches`, as the appender wants them. */
function matchRow(tenant: string, m: StoredMatch, now: SqlParam): SqlParam[] {
  return [tenant, m.vulnerabilityId, m.sbom, m.componentRef, m.componentIdentity, m.result, m.vex?.computed ?? m.result,
    m.basis, m.confidence, m.reason, jsonParam(m.source), jsonParam(m.vex), now];
}
const MATCH_COLUMNS = ['tenant', 'vulnerability', 'sbom', 'component_ref', 'component_identity', 'result', 'computed_result', 'basis', 'confidence', 'reason', 'source', 'vex', 'matched_at'];

function vulnerabilityRow(v: Vulnerability, doc: string, first: SqlParam, now: SqlParam): SqlParam[] {
  const top = topCvss(v.cvss);
  return [v.id, v.title ?? v.description?.slice(0, 200) ?? null, optTime(v.published), optTime(v.modified), top?.baseScore ?? null, top?.severity ?? null,
    top?.vector ?? null, v.epss?.score ?? null, v.epss?.percentile ?? null, !!v.kev, !!v.withdrawn, doc, first, now];
}

/** A date the source wrote, as a TIMESTAMP parameter; NULL when it is not a readable date. */
function optTime(text: string | undefined): SqlParam {
  if (!text) return null;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? timeParam(ms, 'date') : null;
}

/**
 * Multi-row INSERT for a few rows, staged append for many, skipping rows whose `key` exists;
 * without a key (MATCH_COLUMNS: every column of the table, in order) appended. The caller holds
 * the turn and the transaction.
 */
async function insertRows(db: SerialConnection, table: string, columns: readonly string[], key: readonly string[], rows: readonly SqlParam[][]): Promise<void> {
  if (!rows.length) return;
  if (!key.length) {
    // A table without a key (matches): appended as they are.
    const app = await db.appender(table);
    try {
      const types = Array.from({ length: app.columnCount }, (_, i) => app.columnType(i));
      for (const row of rows) {
        row.forEach((v, c) => (v === null || v === undefined ? app.appendNull() : app.appendValue(v, types[c])));
        app.endRow();
      }
      app.flushSync();
    } finally {
      app.closeSync();
    }
    return;
  }
  if (rows.length >= 64) {
    await stagedInsertIgnoringDuplicates(db, table, columns, key, rows);
    return;
  }
  const one = `(${columns.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const chunk = rows.slice(i, i + ROWS_PER_INSERT);
    await db.run(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${chunk.map(() => one).join(', ')} ON CONFLICT DO NOTHING`, chunk.flat());
  }
}


/**
 * The rows of `x` (a query over `intel_exposure_x`, in a CTE named `x`) with the strongest match
 * among their hits (affected first, then confidence), the ECUs and the components matched.
 */
const DETAIL = `SELECT x.*, d.basis, d.confidence, d.ecus, d.components FROM x JOIN (
    SELECT s.vulnerability, h.vehicle, arg_max(s.basis, s.rank) AS basis, arg_max(s.confidence, s.rank) AS confidence,
      list(DISTINCT {'ecu': s.ecu, 'softwareVersion': s.version}) AS ecus, list_sort(list_distinct(flatten(list(s.components)))) AS components
    FROM intel_exposure_h h JOIN intel_exposure_s s ON s.k = h.k
    WHERE h.vehicle IN (SELECT vehicle FROM x) AND (s.vulnerability, h.vehicle) IN (SELECT (vulnerability, vehicle) FROM x)
    GROUP BY s.vulnerability, h.vehicle
  ) d ON d.vulnerability = x.vulnerability AND d.vehicle = x.vehicle`;

/** The ECUs each vulnerability is matched on in the tenant's SBOMs (one `?`: the tenant). */
const ECUS_OF_TENANT = `SELECT m.vulnerability, list(DISTINCT s.ecu) AS ecus FROM intel_matches m
  JOIN intel_sboms s ON s.tenant = m.tenant AND s.id = m.sbom WHERE m.tenant = ? AND m.result IN ${EXPOSING} AND s.ecu IS NOT NULL GROUP BY ALL`;

const SUMMARY_SELECT = `v.id, v.title, v.doc ->> '$.description' AS description, epoch_us(v.published) AS published, epoch_us(v.modified) AS modified,
  v.cvss, v.cvss_vector, v.severity, v.epss, v.epss_percentile, v.kev, (v.doc ->> '$.kev.knownRansomware') = 'true' AS ransomware, v.withdrawn,
  coalesce(e.vehicles, 0) AS vehicles, coalesce(e.affected, 0) AS affected, coalesce(ec.ecus, []) AS ecus`;

interface SummaryRow {
  id: string; title: string | null; description: string | null; published: bigint | null; modified: bigint | null;
  cvss: number | null; cvss_vector: string | null; severity: string | null; epss: number | null; epss_percentile: number | null;
  kev: boolean; ransomware: boolean | null; withdrawn: boolean; vehicles: bigint | number; affected: bigint | number; ecus: string[];
}

function summaryOf(r: SummaryRow): VulnerabilityRow {
  const vehicles = Number(r.vehicles);
  const affected = Number(r.affected);
  return {
    id: r.id, title: r.title ?? r.id, ...(r.description ? { description: r.description } : {}),
    ...(r.published !== null ? { published: timeValue(r.published) } : {}), ...(r.modified !== null ? { modified: timeValue(r.modified) } : {}),
    cvss: r.cvss, ...(r.cvss_vector ? { cvssVector: r.cvss_vector } : {}), severity: r.severity as Severity | null,
    epss: r.epss, epssPercentile: r.epss_percentile, kev: r.kev, knownRansomware: !!r.ransomware, withdrawn: r.withdrawn,
    vehicles, affected, needsReview: vehicles - affected, ecus: [...(r.ecus ?? [])],
  };
}

interface CountRow { vehicles: bigint; affected: bigint }
const countOf = (r: CountRow | undefined): ExposureCount => {
  const vehicles = Number(r?.vehicles ?? 0);
  const affected = Number(r?.affected ?? 0);
  return { vehicles, affected, needsReview: vehicles - affected };
};

interface ExposedRow {
  vulnerability: string; vehicle: bigint; make: string | null; model: string | null; year: number | null; region: string | null;
  result: string; basis: string; confidence: number; ecus: { ecu: string; softwareVersion: string }[]; components: string[];
}

function exposedOf(r: ExposedRow): ExposedVehicle {
  return {
    vehicle: vehicleValue(r.vehicle), ...(r.make !== null ? { make: r.make } : {}), ...(r.model !== null ? { model: r.model } : {}),
    ...(r.year !== null ? { year: Number(r.year) } : {}), ...(r.region !== null ? { region: r.region } : {}),
    result: r.result as ExposureResult, basis: r.basis as MatchBasis, confidence: r.confidence,
    ecus: r.ecus.map((e) => ({ ecu: e.ecu, softwareVersion: e.softwareVersion })).sort((a, b) => a.ecu.localeCompare(b.ecu)), components: [...r.components],
  };
}

interface MatchRow {
  vulnerability: string; sbom: string; component_ref: string; component_identity: string; result: string; basis: string; confidence: number;
  reason: string; source: string | null; vex: string | null;
}

const RUN_SELECT = `id, tenant, actor, epoch_us(started_at) AS started_at, epoch_us(finished_at) AS finished_at, sources, documents, records, ok, partial, rejected, vulnerabilities, indicators`;
interface RunRow {
  id: string; tenant: string; actor: string; started_at: bigint; finished_at: bigint | null; sources: string; documents: number; records: number;
  ok: number; partial: number; rejected: number; vulnerabilities: number; indicators: number;
}
function runOf(r: RunRow): ImportRun {
  return {
    id: r.id, tenant: r.tenant, actor: r.actor, startedAt: timeValue(r.started_at), ...(r.finished_at !== null ? { finishedAt: timeValue(r.finished_at) } : {}),
    sources: jsonValue<string[]>(r.sources), documents: r.documents, records: r.records, ok: r.ok, partial: r.partial, rejected: r.rejected,
    vulnerabilities: r.vulnerabilities, indicators: r.indicators,
  };
}

const SBOM_SELECT = `tenant, id, document, format, subject, ecu, software_version, vehicle_model, unbound_reason, components, problems, uploaded_by, epoch_us(uploaded_at) AS uploaded_at`;
interface SbomRow {
  tenant: string; id: string; document: string; format: string; subject: string | null; ecu: string | null; software_version: string | null;
  vehicle_model: string | null; unbound_reason: string | null; components: number; problems: string; uploaded_by: string; uploaded_at: bigint;
}
function sbomSummaryOf(r: SbomRow): SbomSummary {
  return {
    tenant: r.tenant, id: r.id, document: r.document, format: r.format as SbomSummary['format'], ...(r.subject ? { subject: r.subject } : {}),
    ...(r.ecu ? { ecu: r.ecu } : {}), ...(r.software_version ? { softwareVersion: r.software_version } : {}), ...(r.vehicle_model ? { vehicleModel: r.vehicle_model } : {}),
    ...(r.unbound_reason ? { unboundReason: r.unbound_reason } : {}), components: r.components, problems: jsonValue<string[]>(r.problems),
    uploadedBy: r.uploaded_by, uploadedAt: timeValue(r.uploaded_at),
  };
}
function storedSbomOf(r: SbomRow & { doc: string }): StoredSbom {
  return {
    tenant: r.tenant, id: r.id, sbom: jsonValue(r.doc), problems: jsonValue<string[]>(r.problems), ...(r.unbound_reason ? { unboundReason: r.unbound_reason } : {}),
    uploadedBy: r.uploaded_by, uploadedAt: timeValue(r.uploaded_at),
  };
}
