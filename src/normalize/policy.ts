/** What normalize does with questionable input; set in the config's `normalize` section. */
export interface NormalizePolicy {
  /** `reject`: dead-letter signals not in the catalog; `ignore`: count and drop them (an intentional, counted drop). */
  readonly unknownSignals: 'reject' | 'ignore';
  /** Enforce the ISO 3779 check digit (position 9). North-American VINs carry one; others may not. */
  readonly vinCheckDigit: boolean;
  /** Event times further than this in the future (vs the clock) are rejected. */
  readonly maxFutureSkewMs: number;
  /** Event times older than the vehicle's newest by more than this are late. */
  readonly latenessMs: number;
  /**
   * Late signal entries: `store` keeps them (counted, not fed to detectors); `reject`
   * dead-letters them (`time.late`) with how late they were. Default `store`.
   */
  readonly late?: 'store' | 'reject';
  /** Per source name: VSS path -> unit of the values that source sends (config `sources[].units`). */
  readonly sourceUnits?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export const DEFAULT_POLICY: NormalizePolicy = {
  unknownSignals: 'reject',
  vinCheckDigit: true,
  maxFutureSkewMs: 5 * 60_000,
  latenessMs: 60_000,
  late: 'store',
};
