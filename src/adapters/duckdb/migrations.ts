/**
 * Versioned schema migrations. `schema_migrations` records every version applied; `migrate()`
 * applies the pending ones in order, each with its bookkeeping row in one transaction, so a
 * crash leaves the schema at a whole version. Migrations are append-only: never edit one that
 * has shipped, add the next version instead.
 *
 * Conventions: every row carries its tenant as a small integer (`tenants.id`; dead letters may
 * have none); vehicle keys are UBIGINT (16 hex digits = 64 bits); times are TIMESTAMP (UTC,
 * microseconds); maps and lists are JSON.
 */
import { StoreError } from '../../core/errors.js';
import type { SerialConnection } from './connection.js';

/** One schema version: statements applied together with its bookkeeping row. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

/** An applied migration as recorded in `schema_migrations`. */
export interface AppliedMigration {
  readonly version: number;
  readonly name: string;
  /** Epoch ms. */
  readonly appliedAt: number;
}

const SEVERITY_CHECK = `CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical'))`;

/** The schema, oldest first. Versions are 1, 2, 3, ... without gaps. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    statements: [
      `CREATE TABLE tenants (
        id USMALLINT PRIMARY KEY,
        name VARCHAR NOT NULL UNIQUE
      )`,
      `CREATE TABLE signal_dict (
        id UINTEGER PRIMARY KEY,
        path VARCHAR NOT NULL UNIQUE
      )`,
      // No key and no index: written only by the appender, read by scans pruned by zone maps.
      // Column order is the appender's chunk layout (see signal-writer.ts).
      `CREATE TABLE signals (
        tenant USMALLINT NOT NULL,
        vehicle UBIGINT NOT NULL,
        ts TIMESTAMP NOT NULL,
        signal UINTEGER NOT NULL,
        value DOUBLE,
        text VARCHAR
      )`,
      `CREATE TABLE security_events (
        tenant USMALLINT NOT NULL,
        id VARCHAR NOT NULL,
        vehicle UBIGINT NOT NULL,
        ts TIMESTAMP NOT NULL,
        event_id UINTEGER NOT NULL,
        name VARCHAR NOT NULL,
        sensor VARCHAR NOT NULL,
        count BIGINT NOT NULL,
        severity VARCHAR NOT NULL ${SEVERITY_CHECK},
        context JSON,
        source VARCHAR NOT NULL,
        PRIMARY KEY (tenant, id)
      )`,
      `CREATE TABLE api_events (
        tenant USMALLINT NOT NULL,
        id VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL,
        service VARCHAR NOT NULL,
        vehicle UBIGINT,
        actor VARCHAR,
        method VARCHAR,
        endpoint VARCHAR NOT NULL,
        status INTEGER,
        source_ip VARCHAR,
        user_agent VARCHAR,
        source VARCHAR NOT NULL,
        PRIMARY KEY (tenant, id)
      )`,
      `CREATE TABLE alerts (
        tenant USMALLINT NOT NULL,
        id VARCHAR NOT NULL,
        vehicle UBIGINT,
        ts TIMESTAMP NOT NULL,
        detected_at TIMESTAMP NOT NULL,
        rule VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        severity VARCHAR NOT NULL ${SEVERITY_CHECK},
        tags JSON NOT NULL,
        details JSON NOT NULL,
        PRIMARY KEY (tenant, id)
      )`,
      `CREATE TABLE vehicles (
        tenant USMALLINT NOT NULL,
        id UBIGINT NOT NULL,
        make VARCHAR,
        model VARCHAR,
        year INTEGER,
        trim VARCHAR,
        region VARCHAR,
        software JSON,
        -- NULL until the vehicle is first seen (a registered vehicle that has sent nothing).
        first_seen TIMESTAMP,
        last_seen TIMESTAMP,
        signal_count BIGINT NOT NULL,
        PRIMARY KEY (tenant, id)
      )`,
      // Keyed by id alone: a record rejected before its tenant was known has none.
      `CREATE TABLE dead_letters (
        id VARCHAR PRIMARY KEY,
        tenant USMALLINT,
        source VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        code VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        received_at TIMESTAMP NOT NULL,
        raw BLOB NOT NULL
      )`,
    ],
  },
  {
    version: 2,
    name: 'raw CAN frames',
    statements: [
      // Written only by the appender (frame-writer.ts); column order is its chunk layout.
      // data: classic CAN bytes 0..7 packed big-endian; data_fd: the whole payload of CAN FD frames.
      // label: 0 unlabelled, 1 labelled normal, 2 labelled attack (ground truth of research traces).
      `CREATE TABLE can_frames (
        tenant USMALLINT NOT NULL,
        vehicle UBIGINT NOT NULL,
        ts TIMESTAMP NOT NULL,
        can_id UINTEGER NOT NULL,
        dlc UTINYINT NOT NULL,
        data UBIGINT NOT NULL,
        label UTINYINT NOT NULL,
        data_fd BLOB
      )`,
    ],
  },
  {
    version: 3,
    name: 'worker checkpoints',
    statements: [
      // Worker state snapshots (twins), split in parts so no single value grows past DuckDB's limits.
      `CREATE TABLE checkpoints (
        name VARCHAR NOT NULL,
        part INTEGER NOT NULL,
        data BLOB NOT NULL,
        saved_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
        PRIMARY KEY (name, part)
      )`,
    ],
  },
  {
    version: 4,
    name: 'incidents, workflow, response, access and audit',
    // Analyst-scale tables (thousands of rows, not millions a second): the tenant is its name,
    // not the 2-byte id of the hot-path tables; vehicles stay UBIGINT keys to join `vehicles`.
    statements: [
      `CREATE TABLE api_tokens (
        id VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        role VARCHAR NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer', 'ingest')),
        tenant VARCHAR NOT NULL,
        -- sha256 of the secret, hex; the secret itself is shown once and never stored.
        hash VARCHAR NOT NULL UNIQUE,
        created_at TIMESTAMP NOT NULL,
        created_by VARCHAR NOT NULL,
        expires_at TIMESTAMP,
        revoked_at TIMESTAMP,
        last_used_at TIMESTAMP
      )`,
      // Append-only and hash-chained: every row's hash covers the previous row's hash.
      `CREATE TABLE audit_log (
        seq BIGINT PRIMARY KEY,
        ts TIMESTAMP NOT NULL,
        tenant VARCHAR NOT NULL,
        actor VARCHAR NOT NULL,
        actor_name VARCHAR NOT NULL,
        action VARCHAR NOT NULL,
        target_type VARCHAR NOT NULL,
        target_id VARCHAR NOT NULL,
        details JSON NOT NULL,
        prev_hash VARCHAR NOT NULL,
        hash VARCHAR NOT NULL
      )`,
      `CREATE TABLE incidents (
        tenant VARCHAR NOT NULL,
        id VARCHAR NOT NULL,
        kind VARCHAR NOT NULL CHECK (kind IN ('vehicle', 'campaign', 'intel')),
        group_key VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        state VARCHAR NOT NULL CHECK (state IN ('new', 'triaged', 'investigating', 'contained', 'resolved', 'false_positive')),
        severity VARCHAR NOT NULL ${SEVERITY_CHECK},
        risk DOUBLE NOT NULL,
        assignee VARCHAR,
        tags JSON NOT NULL,
        vehicle UBIGINT,
        rules JSON NOT NULL,
        vehicle_count INTEGER NOT NULL,
        alert_count INTEGER NOT NULL,
        first_alert_at TIMESTAMP NOT NULL,
        last_alert_at TIMESTAMP NOT NULL,
        created_at TIMESTAMP NOT NULL,
        updated_at TIMESTAMP NOT NULL,
        sla_due_at TIMESTAMP,
        closed_at TIMESTAMP,
        context JSON NOT NULL,
        PRIMARY KEY (tenant, id)
      )`,
      `CREATE TABLE incident_alerts (
        tenant VARCHAR NOT NULL,
        incident VARCHAR NOT NULL,
        alert VARCHAR NOT NULL,
        vehicle UBIGINT,
        added_at TIMESTAMP NOT NULL,
        PRIMARY KEY (tenant, incident, alert)
      )`,
      // The incident's history: creation, transitions, assignment, comments, tags, links,
      // verdicts and every response action, in order.
      `CREATE TABLE incident_events (
        tenant VARCHAR NOT NULL,
        incident VARCHAR NOT NULL,
        id VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL,
        actor VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        body JSON NOT NULL,
        PRIMARY KEY (tenant, incident, id)
      )`,
      `CREATE TABLE incident_links (
        tenant VARCHAR NOT NULL,
        a VARCHAR NOT NULL,
        b VARCHAR NOT NULL,
        relation VARCHAR NOT NULL,
        created_by VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        PRIMARY KEY (tenant, a, b)
      )`,
      `CREATE TABLE alert_outcomes (
        tenant VARCHAR NOT NULL,
        alert VARCHAR NOT NULL,
        rule VARCHAR NOT NULL,
        outcome VARCHAR NOT NULL CHECK (outcome IN ('incident', 'duplicate', 'suppressed')),
        ref VARCHAR NOT NULL,
        decided_at TIMESTAMP NOT NULL,
        PRIMARY KEY (tenant, alert)
      )`,
      `CREATE TABLE alert_evidence (
        tenant VARCHAR NOT NULL,
        alert VARCHAR NOT NULL,
        captured_at TIMESTAMP NOT NULL,
        evidence JSON NOT NULL,
        PRIMARY KEY (tenant, alert)
      )`,
      `CREATE TABLE suppressions (
        tenant VARCHAR NOT NULL,
        id VARCHAR NOT NULL,
        rule VARCHAR,
        vehicle UBIGINT,
        match JSON NOT NULL,
        reason VARCHAR NOT NULL,
        created_by VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        expires_at TIMESTAMP NOT NULL,
        hits BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant, id)
      )`,
      // Per-tenant rule parameter overrides from false-positive feedback (threshold, window, ...).
      `CREATE TABLE rule_tuning (
        tenant VARCHAR NOT NULL,
        rule VARCHAR NOT NULL,
        params JSON NOT NULL,
        reason VARCHAR NOT NULL,
        created_by VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        PRIMARY KEY (tenant, rule)
      )`,
      `CREATE TABLE playbooks (
        tenant VARCHAR NOT NULL,
        id VARCHAR NOT NULL,
        definition JSON NOT NULL,
        updated_by VARCHAR NOT NULL,
        updated_at TIMESTAMP NOT NULL,
        PRIMARY KEY (tenant, id)
      )`,
      `CREATE TABLE action_runs (
        tenant VARCHAR NOT NULL,
        id VARCHAR NOT NULL,
        incident VARCHAR,
        playbook VARCHAR,
        step INTEGER,
        action VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        params JSON NOT NULL,
        result JSON,
        actor VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP,
        PRIMARY KEY (tenant, id)
      )`,
      // One row per delivery attempt of a webhook or syslog message.
      `CREATE TABLE deliveries (
        tenant VARCHAR NOT NULL,
        id VARCHAR NOT NULL,
        attempt INTEGER NOT NULL,
        channel VARCHAR NOT NULL,
        target VARCHAR NOT NULL,
        event VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        http_status INTEGER,
        error VARCHAR,
        ts TIMESTAMP NOT NULL,
        PRIMARY KEY (tenant, id, attempt)
      )`,
      // Requests to other systems: an OTA campaign, raised data collection for a set of vehicles.
      `CREATE TABLE response_requests (
        tenant VARCHAR NOT NULL,
        id VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        incident VARCHAR,
        vehicles JSON NOT NULL,
        params JSON NOT NULL,
        status VARCHAR NOT NULL,
        created_by VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        expires_at TIMESTAMP,
        PRIMARY KEY (tenant, id)
      )`,
    ],
  },
  {
    version: 5,
    name: 'threat intelligence: vulnerabilities, indicators, SBOMs, matches, VEX, exposure, custom detections',
    // Feed content (vulnerabilities, aliases, indicators, CSAF documents, feed VEX, import runs)
    // is global: every tenant's SBOMs are matched against it. SBOMs, matches, analyst VEX
    // decisions, first exposure and custom detections are per tenant (its name, as in v4).
    statements: [
      // The merged Vulnerability (src/intel/model.ts) as JSON, plus the columns lists sort and filter on.
      `CREATE TABLE intel_vulnerabilities (
        id VARCHAR PRIMARY KEY,
        title VARCHAR,
        published TIMESTAMP,
        modified TIMESTAMP,
        -- the highest computed CVSS base score of any source and version, and its severity
        cvss DOUBLE,
        severity VARCHAR CHECK (severity IN ('NONE', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),
        cvss_vector VARCHAR,
        epss DOUBLE,
        epss_percentile DOUBLE,
        kev BOOLEAN NOT NULL,
        withdrawn BOOLEAN NOT NULL,
        doc JSON NOT NULL,
        first_imported_at TIMESTAMP NOT NULL,
        updated_at TIMESTAMP NOT NULL
      )`,
      `CREATE TABLE intel_aliases (
        alias VARCHAR NOT NULL,
        vulnerability VARCHAR NOT NULL,
        PRIMARY KEY (alias, vulnerability)
      )`,
      `CREATE TABLE intel_indicators (
        id VARCHAR PRIMARY KEY,
        pattern_type VARCHAR NOT NULL,
        pattern VARCHAR NOT NULL,
        valid_from TIMESTAMP,
        valid_until TIMESTAMP,
        doc JSON NOT NULL,
        updated_at TIMESTAMP NOT NULL
      )`,
      // CSAF documents (product trees and product_status), kept for matching.
      `CREATE TABLE intel_csaf (
        tracking_id VARCHAR NOT NULL,
        publisher VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        doc JSON NOT NULL,
        updated_at TIMESTAMP NOT NULL,
        PRIMARY KEY (tracking_id, publisher)
      )`,
      // VEX statements from feeds (CSAF VEX, CycloneDX VEX); analysts' decisions are intel_vex_decisions.
      `CREATE TABLE intel_feed_vex (
        vulnerability VARCHAR NOT NULL,
        product_id VARCHAR NOT NULL,
        document VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        doc JSON NOT NULL,
        updated_at TIMESTAMP NOT NULL,
        PRIMARY KEY (vulnerability, product_id, document)
      )`,
      `CREATE TABLE intel_import_runs (
        id VARCHAR PRIMARY KEY,
        tenant VARCHAR NOT NULL,
        actor VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP,
        sources JSON NOT NULL,
        documents INTEGER NOT NULL,
        records INTEGER NOT NULL,
        ok INTEGER NOT NULL,
        partial INTEGER NOT NULL,
        rejected INTEGER NOT NULL,
        vulnerabilities INTEGER NOT NULL,
        indicators INTEGER NOT NULL
      )`,
      // One line per record of a run (RecordReport): partial and rejected ones with their problems.
      `CREATE TABLE intel_import_lines (
        run VARCHAR NOT NULL,
        seq INTEGER NOT NULL,
        document VARCHAR NOT NULL,
        format VARCHAR NOT NULL,
        record_id VARCHAR NOT NULL,
        status VARCHAR NOT NULL CHECK (status IN ('ok', 'partial', 'rejected')),
        problems JSON NOT NULL,
        notes JSON,
        PRIMARY KEY (run, seq)
      )`,
      // The binding columns are kept normalised as sbom/binding.ts compares them:
      // ecu_key lower(trim(ECU)), software_version trim(version), model_key lower(trim(model)).
      `CREATE TABLE intel_sboms (
        tenant VARCHAR NOT NULL,
        id VARCHAR NOT NULL,
        document VARCHAR NOT NULL,
        format VARCHAR NOT NULL,
        spec_version VARCHAR NOT NULL,
        serial VARCHAR,
        subject VARCHAR,
        ecu VARCHAR,
        ecu_key VARCHAR,
        software_version VARCHAR,
        vehicle_model VARCHAR,
        model_key VARCHAR,
        unbound_reason VARCHAR,
        components INTEGER NOT NULL,
        problems JSON NOT NULL,
        doc JSON NOT NULL,
        uploaded_by VARCHAR NOT NULL,
        uploaded_at TIMESTAMP NOT NULL,
        PRIMARY KEY (tenant, id)
      )`,
      `CREATE TABLE intel_sbom_components (
        tenant VARCHAR NOT NULL,
        sbom VARCHAR NOT NULL,
        ref VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        version VARCHAR,
        purl VARCHAR,
        cpes JSON NOT NULL,
        identity VARCHAR NOT NULL,
        type VARCHAR,
        supplier VARCHAR,
        PRIMARY KEY (tenant, sbom, ref)
      )`,
      // Every Match of a vulnerability to a component of a tenant's SBOM (several per component
      // when several statements name it). result is after VEX; computed_result before it.
      `CREATE TABLE intel_matches (
        tenant VARCHAR NOT NULL,
        vulnerability VARCHAR NOT NULL,
        sbom VARCHAR NOT NULL,
        component_ref VARCHAR NOT NULL,
        component_identity VARCHAR NOT NULL,
        result VARCHAR NOT NULL CHECK (result IN ('affected', 'not_affected', 'fixed', 'needs_review', 'unknown')),
        computed_result VARCHAR NOT NULL,
        basis VARCHAR NOT NULL,
        confidence DOUBLE NOT NULL,
        reason VARCHAR NOT NULL,
        source JSON,
        vex JSON,
        matched_at TIMESTAMP NOT NULL
      )`,
      // Analysts' VEX decisions: one per (vulnerability, component identity), the newest wins.
      `CREATE TABLE intel_vex_decisions (
        tenant VARCHAR NOT NULL,
        vulnerability VARCHAR NOT NULL,
        component_identity VARCHAR NOT NULL,
        status VARCHAR NOT NULL CHECK (status IN ('not_affected', 'affected', 'fixed', 'under_investigation')),
        justification VARCHAR,
        reason VARCHAR NOT NULL,
        decided_by VARCHAR NOT NULL,
        decided_at TIMESTAMP NOT NULL,
        PRIMARY KEY (tenant, vulnerability, component_identity)
      )`,
      // When Vigil first saw a vulnerability expose a vehicle of the tenant ("new intel" alerts, trends).
      `CREATE TABLE intel_first_exposure (
        tenant VARCHAR NOT NULL,
        vulnerability VARCHAR NOT NULL,
        first_exposed_at TIMESTAMP NOT NULL,
        vehicles INTEGER NOT NULL,
        affected INTEGER NOT NULL,
        alert VARCHAR,
        PRIMARY KEY (tenant, vulnerability)
      )`,
      // Detections an analyst created from a template (detections from templates).
      `CREATE TABLE custom_detections (
        tenant VARCHAR NOT NULL, id VARCHAR NOT NULL, yaml VARCHAR NOT NULL, template VARCHAR NOT NULL,
        vulnerability VARCHAR, enabled BOOLEAN NOT NULL DEFAULT true,
        created_by VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, PRIMARY KEY (tenant, id)
      )`,
    ],
  },
  {
    version: 6,
    name: 'scale-out stream positions (the write fence of Store.writeGroup)',
    // One row per JetStream partition: the lease epoch of its last writer and the last stream
    // sequence its durable writes cover. Internal state, not tenant data.
    statements: [
      `CREATE TABLE stream_positions (
        part INTEGER PRIMARY KEY,
        epoch BIGINT NOT NULL,
        seq BIGINT NOT NULL
      )`,
    ],
  },
];

const BOOKKEEPING = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name VARCHAR NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
)`;

/**
 * Applies the migrations of `list` newer than the database's version; returns the version now
 * in force. Refuses a database whose version is newer than `list` knows (a newer build wrote it).
 * The caller holds the connection's turn.
 */
export async function migrate(db: SerialConnection, list: readonly Migration[] = MIGRATIONS): Promise<number> {
  checkOrder(list);
  await db.run(BOOKKEEPING);
  const [row] = await db.all<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
  const current = row?.version ?? 0;
  const latest = list.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new StoreError(`database schema version ${current} is newer than this build knows (${latest})`);
  }
  for (const migration of list) {
    if (migration.version <= current) continue;
    await db.transaction(async () => {
      for (const sql of migration.statements) await db.run(sql);
      await db.run('INSERT INTO schema_migrations (version, name) VALUES (?, ?)', [
        migration.version,
        migration.name,
      ]);
    });
  }
  return Math.max(current, latest);
}

/** What `schema_migrations` holds, oldest first. The caller holds the connection's turn. */
export async function appliedMigrations(db: SerialConnection): Promise<AppliedMigration[]> {
  const rows = await db.all<{ version: number; name: string; applied_at: bigint }>(
    'SELECT version, name, epoch_ms(applied_at) AS applied_at FROM schema_migrations ORDER BY version',
  );
  return rows.map((r) => ({ version: r.version, name: r.name, appliedAt: Number(r.applied_at) }));
}

function checkOrder(list: readonly Migration[]): void {
  list.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new StoreError(`migration '${m.name}' has version ${m.version}; expected ${i + 1} (no gaps, ascending)`);
    }
  });
}
