/** IdsM security events through the lane: configurable extract, QSEv field variants, context data. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { DEFAULT_POLICY } from '../normalize/policy.js';
import { DEFAULT_SECURITY_EXTRACT } from '../normalize/security-extract.js';
import { mergeExtracts, parseSecurityExtract } from '../normalize/security-extract-file.js';
import { makeVin } from '../normalize/vin.js';
import { defaultCatalog } from '../sim/default-catalog.js';
import { IDSM } from '../sim/events.js';
import { Lane, type InputItem } from './lane.js';

const T0 = Date.UTC(2026, 10, 25, 8, 0, 0);
const catalog = defaultCatalog();
const VIN = makeVin({ wmi: '5YJ', vds: '3E1EA', year: 2022, plant: 'F' }, 101);
const OEM = parseSecurityExtract(`
version: 1
events:
  - id: 0x9001
    name: CAN_GATEWAY_BLOCKED
    severity: high
    tags: [R155-A5:4.3.2]
    contextData:
      - { name: canId, type: uint32 }
      - { name: dlc, type: uint8 }
      - { name: bus, type: ascii }
  - { id: 0x8601, name: IDSM_ALIVE, severity: info }
`, 'oem.yaml');

function lane(extract = mergeExtracts(DEFAULT_SECURITY_EXTRACT, OEM.extract, 'merge')): Lane {
  return new Lane({ catalog: catalog.specs(), catalogIds: catalog.idMap(), policy: DEFAULT_POLICY, secret: 'test-secret-0123456789', securityExtract: extract }, new ManualClock(T0 + 60_000));
}
const sec = (o: Record<string, unknown>): InputItem => ({ kind: 'security', tenant: 'acme', source: 'test', payload: JSON.stringify({ vin: VIN, ...o }), receivedAt: T0 });

describe('lane: IdsM security events', () => {
  it('the shipped default extract covers every event id the simulator emits', () => {
    const shipped = parseSecurityExtract(readFileSync(new URL('../../rules/security-extract.yaml', import.meta.url), 'utf8'));
    expect(shipped.problems).toEqual([]);
    for (const id of Object.values(IDSM)) expect(shipped.extract.has(id)).toBe(true);
  });

  it('names events from the configured extract, decodes context data by its layout and keeps it raw', () => {
    expect(OEM.problems).toEqual([]);
    const out = lane().process([
      // AUTOSAR QSEv field names: StbM time stamp, event definition id, sensor instance, aggregation count, hex context data.
      sec({ timestamp: { seconds: T0 / 1000, nanoseconds: 250_000_000 }, eventDefinitionId: 0x9001, sensorInstanceId: 3, idsmInstanceId: 1, aggregationCount: 12, contextData: '0x000001D008505400' }),
      sec({ ts: T0, eventId: 0x8601, sensor: 'IdsM' }),
      sec({ ts: T0, eventId: 0x8103, sensor: 'DiagGatewayIds' }),
    ]);
    expect(out.deadLetters).toEqual([]);
    const [blocked, alive, reprog] = out.security;
    expect(blocked).toMatchObject({
      time: T0 + 250, eventId: 0x9001, name: 'CAN_GATEWAY_BLOCKED', severity: 'high', sensor: 'sensor-3', count: 12, tags: ['R155-A5:4.3.2'],
      context: { sensorInstanceId: 3, idsmInstanceId: 1, contextData: '0x000001D008505400', contextDataEncoding: 'hex', contextDataLength: 8, canId: 0x1d0, dlc: 8, bus: 'PT' },
    });
    expect(alive!.name).toBe('IDSM_ALIVE'); // the file wins over the built-in for the same id
    expect(reprog!.name).toBe('UDS_REPROGRAMMING_REQUEST'); // merged: built-in ids still known
    expect(out.alerts.map((a) => a.details.name)).toEqual(['CAN_GATEWAY_BLOCKED', 'UDS_REPROGRAMMING_REQUEST']);
  });

  it('keeps events with unknown ids (IDSM_0x...., medium) and counts them; replace mode forgets the built-in ids', () => {
    const out = lane(mergeExtracts(DEFAULT_SECURITY_EXTRACT, OEM.extract, 'replace')).process([
      sec({ ts: T0, eventId: 0x8103, sensor: 'DiagGatewayIds' }),
      sec({ ts: T0, eventId: 0xbeef, sensor: 'X' }),
      sec({ ts: T0, eventId: 0x9001, sensor: 'GW' }),
    ]);
    expect(out.security.map((e) => [e.name, e.severity])).toEqual([['IDSM_0x8103', 'medium'], ['IDSM_0xBEEF', 'medium'], ['CAN_GATEWAY_BLOCKED', 'high']]);
    expect(out.stats.securityUnknown).toBe(2);
  });

  it('accepts base64 context data and epoch or RFC 3339 timestamps; short data is kept and marked, bad data refused', () => {
    const out = lane().process([
      sec({ timestamp: T0 / 1000, eventId: 0x9001, sensor: 'GW', contextData: 'AAAB0A==' }),
      sec({ timestamp: '1795593600000000000', eventId: 0x8601, sensor: 'IdsM' }),
      sec({ timestamp: '2026-11-25T08:00:00.5Z', eventId: 0x8601, sensor: 'IdsM' }),
      sec({ ts: T0, eventId: 0x9001, sensor: 'GW', contextData: 'not base64 or hex!' }),
      sec({ timestamp: 'yesterday', eventId: 0x8601, sensor: 'IdsM' }),
      sec({ ts: T0, eventId: 0x8601, sensorInstanceId: -1 }),
    ]);
    expect(out.security.map((e) => e.time)).toEqual([T0, T0, T0 + 500]);
    expect(out.security[0]!.context).toMatchObject({ contextDataEncoding: 'base64', contextDataLength: 4, canId: 0x1d0, contextDataError: 'context data of 4 bytes ends inside field dlc' });
    expect(out.deadLetters.map((d) => d.code)).toEqual(['security.context_data', 'time.invalid', 'security.sensor']);
  });
});
