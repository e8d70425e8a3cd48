/**
 * The intel store's exposure summary, as the bulletin reads it. The interface belongs to
 * src/intel (its DuckDB adapter implements it); until src/intel/ports.ts is in, the shape is
 * written here, identical, and this file becomes a re-export.
 */
import type { Severity } from '../core/records.js';

export interface ExposedVulnerability {
  readonly id: string;
  readonly title: string;
  readonly severity: Severity | null;
  readonly cvss: number | null;
  readonly epss: number | null;
  readonly kev: boolean;
  /** 0..100 */
  readonly priority: number;
  /** Vehicles exposed now (affected or needs_review). */
  readonly vehicles: number;
  /** Of which the result is 'affected'. */
  readonly affected: number;
  /** Epoch ms Vigil first saw it expose a vehicle of the tenant. */
  readonly firstExposedAt: number | null;
  readonly byModel: readonly { make: string; model: string; vehicles: number }[];
}

export interface ExposureSummary {
  topExposed(tenant: string, limit: number): Promise<ExposedVulnerability[]>;
}
