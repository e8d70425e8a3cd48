/**
 * The alert service's intel hook (AlertServiceOptions.intel): for a batch of alerts, the
 * vulnerabilities each alert's vehicle is exposed to, chosen by `relevantIntel`
 * (src/alerts/enrich.ts). One store query per tenant of the batch, for all its alerted vehicles.
 */
import type { Alert } from '../core/records.js';
import { isVehicleKey } from '../core/vehicle-key.js';
import { relevantIntel, type IntelMatch } from '../alerts/enrich.js';
import type { IntelStore } from '../intel/ports.js';

export function exposureIntel(store: Pick<IntelStore, 'vehiclesVulnerabilities'>): (alerts: readonly Alert[]) => Promise<Map<string, IntelMatch[]>> {
  return async (alerts) => {
    const byTenant = new Map<string, Alert[]>();
    for (const a of alerts) {
      if (a.vehicle === undefined || !isVehicleKey(a.vehicle)) continue;
      const list = byTenant.get(a.tenant) ?? [];
      list.push(a);
      byTenant.set(a.tenant, list);
    }
    const out = new Map<string, IntelMatch[]>();
    for (const [tenant, list] of byTenant) {
      const exposures = await store.vehiclesVulnerabilities(tenant, [...new Set(list.map((a) => a.vehicle!))]);
      for (const a of list) {
        const m = relevantIntel(a, exposures.get(a.vehicle!) ?? []);
        if (m.length) out.set(a.id, m);
      }
    }
    return out;
  };
}
