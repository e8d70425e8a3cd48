/**
 * A signal detector watches some signals of one vehicle. It is called for each in-order row
 * of a watched signal BEFORE the twin takes the new value, so it sees the previous state,
 * and returns the alert details when it fires (or undefined). Detectors hold no state of
 * their own: what they compare against lives in the twin.
 */
import type { SignalCatalog } from '../core/catalog.js';
import type { Severity } from '../core/records.js';
import type { Twin } from '../twin/twins.js';

export interface SignalDetector {
  readonly id: string;
  readonly title: string;
  readonly severity: Severity;
  /** ATM technique ids and UN R155 Annex 5 threat references. */
  readonly tags: readonly string[];
  /** The signal whose rows trigger a check. */
  readonly trigger: string;
  /** Every signal the detector reads; it is disabled when the catalog lacks one. */
  readonly reads: readonly string[];
  /** Bind to catalog ids once; returns the check. */
  bind(catalog: SignalCatalog): (twin: Twin, time: number, value: number) => Record<string, unknown> | undefined;
}
