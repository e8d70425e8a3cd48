/**
 * Rules of the pack switched off for one tenant at runtime (`PATCH /v1/rules/{id}` with
 * `{enabled: false}`), kept with the tenant's rule tuning: `enabled` is one more key of a rule's
 * tuning parameters (stored in the WorkflowStore's `rule_tuning`, so it survives a restart and a
 * verdict's later tuning of the same rule keeps it).
 *
 * A switched-off rule keeps running in the lanes (its state stays current, so switching it back
 * on takes effect at once); the pipeline drops its alerts for that tenant before the fleet
 * correlation and the store see them. That also covers absence rules, which run on clock ticks
 * over every tenant at once and cannot be tuned per tenant.
 */
import type { Alert } from '../core/records.js';

/** The tuning parameter that switches a rule on or off for a tenant. */
export const ENABLED_PARAM = 'enabled';

/** `params` split into the switch (if given) and the parameters that change how the rule runs. */
export function splitSwitch(params: Readonly<Record<string, unknown>>): { enabled?: unknown; params: Record<string, unknown> } {
  const { [ENABLED_PARAM]: enabled, ...rest } = params;
  return enabled === undefined ? { params: rest } : { enabled, params: rest };
}

/** The problem with a switch value, if any. */
export function switchProblem(enabled: unknown): string | undefined {
  return enabled === undefined || typeof enabled === 'boolean' ? undefined : `${ENABLED_PARAM}: must be true or false`;
}

export class RuleSwitches {
  /** `tenant\0rule` of each rule switched off. */
  private readonly off = new Set<string>();

  set(tenant: string, rule: string, enabled: boolean): void {
    if (enabled) this.off.delete(`${tenant}\u0000${rule}`);
    else this.off.add(`${tenant}\u0000${rule}`);
  }

  /** The rules switched off for `tenant`. */
  offFor(tenant: string): string[] {
    const prefix = `${tenant}\u0000`;
    return [...this.off].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)).sort();
  }

  /** `alerts` without those of rules switched off for their tenant (the same array when none is). */
  keep(alerts: readonly Alert[]): readonly Alert[] {
    if (!this.off.size || !alerts.length) return alerts;
    const kept = alerts.filter((a) => !this.off.has(`${a.tenant}\u0000${a.rule}`));
    return kept.length === alerts.length ? alerts : kept;
  }
}
