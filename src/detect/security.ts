/** Security events the in-vehicle IDS qualifies as high or critical become alerts directly. */
import type { Alert, SecurityEvent } from '../core/records.js';

const RAISE = new Set(['high', 'critical']);

export function securityEventAlert(e: SecurityEvent, now: number): Alert | undefined {
  if (!RAISE.has(e.severity)) return undefined;
  return {
    id: `vigil.ids_event:${e.id}`,
    tenant: e.tenant,
    vehicle: e.vehicle,
    time: e.time,
    detectedAt: now,
    rule: 'vigil.ids_event',
    title: `In-vehicle IDS reported ${e.name}`,
    severity: e.severity,
    tags: ['R155-A5:4.3.6'],
    details: { eventId: e.eventId, name: e.name, sensor: e.sensor, count: e.count, ...(e.context ? { context: e.context } : {}) },
  };
}
