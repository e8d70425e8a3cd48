/**
 * The intel port: where merged vulnerabilities, indicators, CSAF documents, import runs, SBOMs,
 * matches, analyst VEX decisions and first exposures are kept, and the exposure questions asked
 * of them. Feed content is global; SBOMs, matches, decisions and exposure are per tenant, and a
 * tenant's calls never read, change or count another tenant's rows. The DuckDB adapter is
 * src/adapters/duckdb/intel-store.ts.
 */
import type { Page } from '../core/store.js';
import type { CsafDocument, Indicator, RecordReport, Severity, VexStatement, VexStatus, Vulnerability } from './model.js';
import type { Match, MatchBasis } from './match/types.js';
import type { Sbom } from './sbom/types.js';

export interface ExposedVulnerability {
  readonly id: string; readonly title: string;
  readonly severity: Severity | null; readonly cvss: number | null; readonly epss: number | null;
  readonly kev: boolean; readonly priority: number;          // 0..100
  readonly vehicles: number;      // vehicles exposed now (affected or needs_review)
  readonly affected: number;      // of which the result is 'affected'
  readonly firstExposedAt: number | null;  // epoch ms Vigil first saw it expose a vehicle of the tenant
  readonly byModel: readonly { make: string; model: string; vehicles: number }[];
}
export interface ExposureSummary { topExposed(tenant: string, limit: number): Promise<ExposedVulnerability[]>; }

/** What one feed import wrote: vulnerabilities new to Vigil, and those whose merged record changed. */
export interface SavedFeed {
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly indicators: number;
}

export interface ImportRun {
  readonly id: string;
  /** Who asked (the tenant of the token or the CLI's tenant); the content itself is global. */
  readonly tenant: string;
  readonly actor: string;
  readonly startedAt: number;
  readonly finishedAt?: number;
  /** Files, folders or URLs named by the caller. */
  readonly sources: readonly string[];
  readonly documents: number;
  readonly records: number;
  readonly ok: number;
  readonly partial: number;
  readonly rejected: number;
  /** Vulnerabilities added or changed, indicators stored. */
  readonly vulnerabilities: number;
  readonly indicators: number;
}

export type ImportLine = RecordReport & { readonly seq: number };

export interface StoredSbom {
  readonly tenant: string;
  readonly id: string;
  readonly sbom: Sbom;
  readonly problems: readonly string[];
  /** Why no vehicle can run it (no ECU or software version), when so. */
  readonly unboundReason?: string;
  readonly uploadedBy: string;
  readonly uploadedAt: number;
}

/** A stored SBOM without its components: what lists show. */
export type SbomSummary = Omit<StoredSbom, 'sbom'> & {
  readonly document: string;
  readonly format: Sbom['format'];
  readonly subject?: string;
  readonly ecu?: string;
  readonly softwareVersion?: string;
  readonly vehicleModel?: string;
  readonly components: number;
};

export type StoredMatch = Match & { readonly sbom: string };

/** An analyst's VEX decision: it stands for every component of that identity in the tenant's SBOMs. */
export interface VexDecision {
  readonly tenant: string;
  readonly vulnerability: string;
  readonly componentIdentity: string;
  readonly status: VexStatus;
  readonly justification?: string;
  readonly reason: string;
  readonly decidedBy: string;
  readonly decidedAt: number;
}

/** The statement the matcher reads for a decision (`context.vex`). */
export function decisionStatement(d: VexDecision): VexStatement {
  return {
    vulnerabilityId: d.vulnerability, productId: d.componentIdentity, status: d.status, statedStatus: d.status,
    ...(d.justification ? { justification: d.justification } : {}),
    source: { kind: 'analyst', document: 'vigil analyst decisions', provider: d.decidedBy },
  };
}

export type ExposureResult = 'affected' | 'needs_review';
export type ExposureDimension = 'make' | 'model' | 'year' | 'region' | 'software';

/** How many vehicles are exposed, by result. */
export interface ExposureCount {
  readonly vehicles: number;
  readonly affected: number;
  readonly needsReview: number;
}

/** A vehicle exposed to a vulnerability, with the strongest match among the software it runs. */
export interface ExposedVehicle {
  readonly vehicle: string;
  readonly make?: string;
  readonly model?: string;
  readonly year?: number;
  readonly region?: string;
  readonly result: ExposureResult;
  readonly basis: MatchBasis;
  readonly confidence: number;
  /** The ECUs (name as the vehicle reports it, and version) whose SBOM matched. */
  readonly ecus: readonly { ecu: string; softwareVersion: string }[];
  readonly components: readonly string[];
}

export interface Exposure extends ExposureCount {
  readonly vulnerability: string;
  readonly byMake: readonly (ExposureCount & { make: string | null })[];
  readonly byModel: readonly (ExposureCount & { make: string | null; model: string | null })[];
  readonly byYear: readonly (ExposureCount & { year: number | null })[];
  readonly byRegion: readonly (ExposureCount & { region: string | null })[];
  readonly bySoftware: readonly (ExposureCount & { ecu: string; softwareVersion: string })[];
}

/** A vulnerability as lists show it: the queryable columns of the stored record. */
export interface VulnerabilitySummary {
  readonly id: string;
  readonly title: string;
  readonly description?: string;
  readonly published?: number;
  readonly modified?: number;
  readonly cvss: number | null;
  readonly cvssVector?: string;
  readonly severity: Severity | null;
  readonly epss: number | null;
  readonly epssPercentile: number | null;
  readonly kev: boolean;
  readonly knownRansomware: boolean;
  readonly withdrawn: boolean;
}

/** A vulnerability with the tenant's exposure counts and the ECUs it is matched on. */
export type VulnerabilityRow = VulnerabilitySummary & ExposureCount & { readonly ecus: readonly string[] };

export interface VulnerabilityQuery extends Page {
  readonly tenant: string;
  readonly kev?: boolean;
  readonly severity?: readonly Severity[];
  /** Only those exposing (true) or not exposing (false) a vehicle of the tenant. */
  readonly exposed?: boolean;
  /** Words in the id, an alias, the title or the description (case-insensitive). */
  readonly text?: string;
}

/** A vulnerability of one vehicle, with the strongest match among the software it runs. */
export type VehicleVulnerability = VulnerabilitySummary & Omit<ExposedVehicle, 'vehicle' | 'make' | 'model' | 'year' | 'region'>;

export interface IntelStore extends ExposureSummary {
  // ---- feeds (global)
  /** Merged vulnerabilities, indicators, CSAF documents and feed VEX, replacing what is stored under the same keys. */
  saveFeed(content: { vulnerabilities: readonly Vulnerability[]; indicators: readonly Indicator[]; csaf: readonly CsafDocument[]; vex: readonly VexStatement[]; replaced?: readonly string[] }, at: number): Promise<SavedFeed>;
  /** The stored records any of these ids or aliases name (to merge a new import with). */
  vulnerabilitiesNamed(ids: readonly string[]): Promise<Vulnerability[]>;
  /** The stored id an id or alias resolves to. */
  resolve(idOrAlias: string): Promise<string | undefined>;
  vulnerability(id: string): Promise<Vulnerability | undefined>;
  /** Every stored vulnerability that is not withdrawn and says something a matcher can use. */
  matchable(): Promise<Vulnerability[]>;
  indicators(): Promise<Indicator[]>;
  csafDocuments(): Promise<CsafDocument[]>;
  feedVex(): Promise<VexStatement[]>;
  listVulnerabilities(q: VulnerabilityQuery): Promise<{ rows: VulnerabilityRow[]; total: number }>;
  summaries(tenant: string, ids: readonly string[]): Promise<VulnerabilityRow[]>;

  // ---- import runs
  saveImportRun(run: ImportRun, lines: readonly RecordReport[]): Promise<void>;
  importRuns(page: Page & { tenant?: string }): Promise<ImportRun[]>;
  importRun(id: string): Promise<ImportRun | undefined>;
  importLines(run: string, q: Page & { status?: readonly RecordReport['status'][] }): Promise<ImportLine[]>;

  // ---- SBOMs, matches and decisions (per tenant)
  /** Store SBOMs (replacing those of the same id) and, where given, replace their matches; one transaction. */
  saveSboms(items: readonly { sbom: StoredSbom; matches?: readonly StoredMatch[] }[], at: number): Promise<void>;
  sboms(tenant: string, page: Page): Promise<SbomSummary[]>;
  sbom(tenant: string, id: string): Promise<StoredSbom | undefined>;
  allSboms(tenant: string): Promise<StoredSbom[]>;
  /** The tenants that have SBOMs. */
  sbomTenants(): Promise<string[]>;
  /** Replace the matches of these SBOMs (all their vulnerabilities) or of these vulnerabilities (all the tenant's SBOMs). */
  replaceMatches(tenant: string, scope: { sboms: readonly string[] } | { vulnerabilities: readonly string[] }, matches: readonly StoredMatch[], at: number): Promise<void>;
  matches(tenant: string, vulnerability: string, page: Page): Promise<StoredMatch[]>;
  saveVexDecision(d: VexDecision): Promise<void>;
  vexDecisions(tenant: string, vulnerability?: string): Promise<VexDecision[]>;

  // ---- exposure (per tenant, over vehicles x SBOM binding x matches)
  /** The grouped counts, and with `list` a page of the vehicles too (one pass over the fleet). */
  exposure(tenant: string, vulnerability: string, list?: Page & { result?: ExposureResult }): Promise<Exposure & { list?: ExposedVehicle[] }>;
  exposedVehicles(tenant: string, vulnerability: string, q: Page & { result?: ExposureResult }): Promise<ExposedVehicle[]>;
  vehicleVulnerabilities(tenant: string, vehicle: string): Promise<VehicleVulnerability[]>;
  /** The vulnerabilities of each of these vehicles (one query for all), by vehicle; vehicles exposed to none are absent. */
  vehiclesVulnerabilities(tenant: string, vehicles: readonly string[]): Promise<Map<string, VehicleVulnerability[]>>;
  /** Exposure counts of these vulnerabilities (all the tenant's when absent), by model too. */
  exposureCounts(tenant: string, vulnerabilities?: readonly string[]): Promise<Map<string, ExposureCount & { byModel: { make: string; model: string; vehicles: number }[] }>>;
  /** Record when a vulnerability first exposed the tenant's vehicles; false when it had already. */
  recordFirstExposure(e: { tenant: string; vulnerability: string; at: number; vehicles: number; affected: number; alert?: string }): Promise<boolean>;
  firstExposures(tenant: string): Promise<Map<string, number>>;
}
