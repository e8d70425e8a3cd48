/**
 * The normalized threat-intelligence model. Every feed parser (src/intel/feeds) produces these
 * values and the matching engine (src/intel/match) reads only these. The rule throughout:
 * nothing a source said is resolved away. When the CNA, an ADP container, NVD and OSV say
 * different things about one CVE, the merged Vulnerability keeps every statement, each
 * attributed to the record it came from (`SourceRef`).
 */

/** The feed (and container) a statement came from. */
/** `analyst`: a VEX decision an analyst recorded in Vigil (never a feed record). */
export type FeedKind = 'cve5-cna' | 'cve5-adp' | 'nvd' | 'csaf' | 'osv' | 'kev' | 'epss' | 'stix' | 'cyclonedx-vex' | 'analyst';

/** Which record a statement came from: feed kind, document name and, where it has one, the provider. */
export interface SourceRef {
  kind: FeedKind;
  /** The document name handed to the importer (usually the file path). */
  document: string;
  /** CVE 5 providerMetadata.shortName (e.g. `CISA-ADP`, `mitre`), NVD `source` e-mail, CSAF publisher, OSV id... */
  provider?: string;
  /** The record id inside the document (CVE id, advisory id, STIX object id). */
  recordId?: string;
}

// ---------------------------------------------------------------- scores

export type CvssVersion = '2.0' | '3.0' | '3.1' | '4.0';
export type Severity = 'NONE' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';

/**
 * One CVSS statement. `vector` is the canonical form (metrics in the specification's order);
 * `statedVector` keeps the source's spelling when it differed. `baseScore` is computed by
 * ae-cvss-calculator from the vector; `statedScore` is what the source wrote. When they
 * disagree, `scoreMismatch` is true and both are kept — the computed one is the one to rank by.
 */
export interface CvssScore {
  version: CvssVersion;
  vector: string;
  statedVector?: string;
  baseScore: number | null;
  statedScore?: number;
  severity: Severity | null;
  statedSeverity?: string;
  scoreMismatch?: boolean;
  /** Why the vector could not be scored (baseScore null), when it could not. */
  problem?: string;
  source: SourceRef;
}

/** EPSS probability of exploitation in the next 30 days. */
export interface EpssScore {
  score: number;
  percentile: number;
  /** The score_date of the EPSS file (ISO date). */
  date?: string;
  modelVersion?: string;
  source: SourceRef;
}

/** A CISA KEV catalog entry. */
export interface KevEntry {
  dateAdded: string;
  dueDate: string;
  /** `Known` or `Unknown` in the catalog: true only for `Known`. */
  knownRansomware: boolean;
  requiredAction: string;
  vendorProject: string;
  product: string;
  vulnerabilityName: string;
  notes?: string;
  catalogVersion?: string;
  source: SourceRef;
}

/** An SSVC decision point set (CISA-ADP vulnrichment `metrics[].other` of type `ssvc`). */
export interface SsvcDecision {
  exploitation?: string;
  automatable?: string;
  technicalImpact?: string;
  timestamp?: string;
  role?: string;
  version?: string;
  source: SourceRef;
}

// ---------------------------------------------------------------- affected

export type VersionStatus = 'affected' | 'unaffected' | 'unknown';

/** A CVE 5 `versions[]` entry, kept as written (versionType `custom`, `git`... are never reinterpreted). */
export interface VersionClause {
  version: string;
  lessThan?: string;
  lessThanOrEqual?: string;
  status: VersionStatus;
  versionType?: string;
  changes?: { at: string; status: VersionStatus }[];
}

export type RangeType = 'SEMVER' | 'ECOSYSTEM' | 'GIT';

/** An OSV range event: exactly one of the keys is set. */
export interface RangeEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}

export interface VersionRange {
  type: RangeType;
  /** For GIT ranges: the repository. */
  repo?: string;
  events: RangeEvent[];
}

export type AffectedBasis = 'purl' | 'cpe' | 'cve5-product' | 'csaf-product' | 'osv-package';

/**
 * One statement that something is (or is not) affected. A statement is about a product
 * identified by purl, CPE, vendor/product names or an OSV package, with version knowledge in
 * one of three shapes: CVE 5 `versions` clauses, OSV `ranges`/`explicitVersions`, or NVD
 * cpeMatch bounds (versionStart/End*). Free text that is not a version (`n/a`, chipset lists,
 * `QNX SDP 6.5.0 SP1 and earlier`) is kept in `rawVersions` and flagged by `freeText`; a
 * matcher must treat such an entry as "needs review", never as a version comparison.
 */
export interface AffectedEntry {
  basis: AffectedBasis;
  source: SourceRef;
  vendor?: string;
  product?: string;
  purl?: string;
  /** CPE 2.3 formatted string as written by the source. */
  cpe?: string;
  /** Other CPEs the CVE 5 `cpes` array lists for the same product. */
  cpes?: string[];
  packageName?: string;
  ecosystem?: string;
  collectionURL?: string;
  repo?: string;
  programFiles?: string[];
  modules?: string[];
  versions: VersionClause[];
  ranges: VersionRange[];
  /** OSV `versions`: an explicit list of affected versions. */
  explicitVersions?: string[];
  defaultStatus?: VersionStatus;
  platforms?: string[];
  /** NVD cpeMatch.vulnerable (false: the CPE is a platform/context, not the vulnerable thing). */
  vulnerable?: boolean;
  versionStartIncluding?: string;
  versionStartExcluding?: string;
  versionEndIncluding?: string;
  versionEndExcluding?: string;
  /** NVD: the configuration this cpeMatch belongs to (index, node index, node operator, negate). */
  nvdConfiguration?: { config: number; node: number; operator: string; negate: boolean; configOperator?: string };
  /** Version text as written when it is not a usable version (e.g. `n/a`, `APQ8009, APQ8017, ...`). */
  rawVersions?: string[];
  /** True when no version in the entry is a usable version (only free text, `n/a`, `-`). */
  freeText?: boolean;
  /** CSAF: product id and status in the advisory. */
  csafProductId?: string;
  /**
   * The record this entry came from was withdrawn (OSV `withdrawn`) while the merged
   * vulnerability was not: a matcher must not count the entry as evidence.
   */
  withdrawn?: boolean;
}

// ---------------------------------------------------------------- CSAF / VEX

/** CSAF product_status categories (CSAF 2.0 §3.2.3.9). */
export type CsafProductStatus =
  | 'first_affected'
  | 'first_fixed'
  | 'fixed'
  | 'known_affected'
  | 'known_not_affected'
  | 'last_affected'
  | 'recommended'
  | 'under_investigation';

/** What identifies a CSAF product, collected from the product tree (branches, full_product_names, relationships). */
export interface CsafProduct {
  productId: string;
  name: string;
  vendor?: string;
  productName?: string;
  version?: string;
  /** `product_version_range` branch name (vers or free text), when the version is a range. */
  versionRange?: string;
  family?: string;
  purl?: string;
  cpe?: string;
  hashes?: { algorithm: string; value: string }[];
  /** For a relationship product: what it is built from (`default_component_of`, ...). */
  relationship?: { category: string; productReference: string; relatesTo: string };
}

export type VexStatus = 'not_affected' | 'affected' | 'fixed' | 'under_investigation';

/**
 * One VEX statement: vulnerability x product -> status, with the justification, impact and
 * action the document gives. From CSAF VEX (product_status + flags + threats + remediations)
 * and from CycloneDX VEX (`vulnerabilities[].analysis`).
 */
export interface VexStatement {
  vulnerabilityId: string;
  /** CSAF product id or CycloneDX bom-ref. */
  productId: string;
  product?: CsafProduct | { name?: string; version?: string; purl?: string; cpe?: string };
  status: VexStatus;
  /** The source's own status word (CSAF product_status category, CycloneDX analysis.state). */
  statedStatus: string;
  justification?: string;
  impact?: string;
  action?: string;
  responses?: string[];
  source: SourceRef;
}

/** A CSAF document after parsing: products by id and the per-vulnerability product_status. */
export interface CsafDocument {
  trackingId: string;
  title: string;
  category: string;
  publisher?: string;
  products: Record<string, CsafProduct>;
  productStatus: { vulnerabilityId: string; status: Partial<Record<CsafProductStatus, string[]>> }[];
  source: SourceRef;
}

// ---------------------------------------------------------------- vulnerability

export interface Reference {
  url: string;
  tags?: string[];
  source?: string;
}

export interface Weakness {
  cwe: string;
  source: SourceRef;
}

export interface Vulnerability {
  /** The CVE id when there is one, otherwise the advisory id (GHSA-..., CSAF tracking id). */
  id: string;
  aliases: string[];
  title?: string;
  description?: string;
  published?: string;
  modified?: string;
  /** REJECTED in CVE 5, withdrawn in OSV. Kept, not dropped, so a matcher can retract. */
  withdrawn?: { at?: string; reason?: string; source: SourceRef };
  /** Every record that contributed, in import order. */
  sources: SourceRef[];
  cvss: CvssScore[];
  epss?: EpssScore;
  kev?: KevEntry;
  ssvc: SsvcDecision[];
  cwes: Weakness[];
  references: Reference[];
  affected: AffectedEntry[];
  /** Descriptions from each source, when they differ from `description`. */
  descriptions?: { text: string; source: SourceRef }[];
  /** Where the merged sources disagree (CVSS severity, withdrawn state), in words; both sides are kept above. */
  disagreements?: string[];
}

/** A vulnerability with nothing known yet but its id, aliases and the sources it came from. */
export function newVulnerability(id: string, sources: SourceRef[], aliases: string[] = []): Vulnerability {
  return { id, aliases, sources, cvss: [], ssvc: [], cwes: [], references: [], affected: [] };
}

// ---------------------------------------------------------------- indicators

export type ObservableKind =
  | 'ipv4'
  | 'ipv6'
  | 'domain'
  | 'url'
  | 'email'
  | 'mac'
  | 'file-hash'
  | 'file-name'
  | 'process'
  | 'other';

/** One comparison in a STIX pattern: `[ipv4-addr:value = '10.0.0.0']`. */
export interface Observable {
  kind: ObservableKind;
  /** STIX object path, e.g. `ipv4-addr:value`, `file:hashes.'SHA-256'`. */
  path: string;
  operator: string;
  value: string;
  /** For file hashes: the algorithm (`SHA-256`, `MD5`...). */
  hashAlgorithm?: string;
  negated?: boolean;
}

/**
 * A STIX pattern reduced to disjunctive normal form: the indicator matches when every
 * observable of any one group matches (OR of ANDs). Qualifiers (WITHIN, REPEATS, START/STOP)
 * and FOLLOWEDBY are kept in `unsupported` — a matcher must not pretend to honour them.
 */
export interface ParsedPattern {
  anyOf: Observable[][];
  unsupported?: string[];
}

export interface Indicator {
  id: string;
  name?: string;
  description?: string;
  pattern: string;
  patternType: string;
  patternVersion?: string;
  parsed?: ParsedPattern;
  validFrom?: string;
  validUntil?: string;
  /** STIX `revoked`: the producer withdrew the indicator; a matcher drops it. */
  revoked?: boolean;
  /** STIX `confidence`, 0-100, when the producer gave one. */
  confidence?: number;
  labels: string[];
  indicatorTypes: string[];
  killChain: { killChainName: string; phaseName: string }[];
  /** Objects this indicator `indicates` (malware, attack patterns...), by relationship. */
  indicates: { id: string; type: string; name?: string }[];
  /** CVE ids related to the indicator through vulnerability SDOs. */
  vulnerabilities: string[];
  source: SourceRef;
}

// ---------------------------------------------------------------- report

export type RecordStatus = 'ok' | 'partial' | 'rejected';

/** What happened to one record: imported whole, imported with problems, or not imported. */
export interface RecordReport {
  document: string;
  format: FeedFormat | 'unknown';
  recordId: string;
  status: RecordStatus;
  problems: string[];
  /** Facts about the record that are not problems (e.g. "STIX 2.0 object read with 2.0 rules"). */
  notes?: string[];
}

export type FeedFormat =
  | 'cve5'
  | 'nvd'
  | 'csaf'
  | 'osv'
  | 'kev'
  | 'epss'
  | 'stix'
  | 'cyclonedx-vex';

/** What importing a set of feed documents yields. */
export interface IntelImport {
  /** One per CVE (or advisory id when there is no CVE), merged across every source. */
  vulnerabilities: Vulnerability[];
  indicators: Indicator[];
  csaf: CsafDocument[];
  vex: VexStatement[];
  report: RecordReport[];
}
