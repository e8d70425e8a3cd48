/** Where a tenant's detections made from templates are kept (custom_detections); adapter: src/adapters/duckdb/custom-detections.ts. */

/** One stored detection: the rule YAML as accepted, where it came from, whether it runs. */
export interface CustomDetection {
  readonly tenant: string;
  /** The rule's id (`custom.<template>.<vulnerability>` by default). */
  readonly id: string;
  readonly yaml: string;
  readonly template: string;
  /** The vulnerability (CVE or advisory id) it was made for. */
  readonly vulnerability?: string;
  readonly enabled: boolean;
  readonly createdBy: string;
  /** Epoch ms. */
  readonly createdAt: number;
}

export interface CustomDetectionStore {
  /** Insert or replace (same tenant and id). */
  save(d: CustomDetection): Promise<void>;
  get(tenant: string, id: string): Promise<CustomDetection | undefined>;
  /** One tenant's, or every tenant's (start-up), ordered by tenant and id; `limit + 1` tells the caller it truncated. */
  list(opts: { tenant?: string; enabled?: boolean; limit?: number; offset?: number }): Promise<CustomDetection[]>;
  /** How many `list` would give without paging. */
  count(opts: { tenant?: string; enabled?: boolean }): Promise<number>;
  setEnabled(tenant: string, id: string, enabled: boolean): Promise<boolean>;
  delete(tenant: string, id: string): Promise<boolean>;
}
