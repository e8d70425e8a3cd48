import { describe, expect, it } from 'vitest';
import { decodeLog } from '../json.js';
import { decodeOcpp, type OcppContext } from './ocpp.js';
import { OcppCallWindow } from './ocpp-window.js';

const T0 = Date.UTC(2026, 10, 25, 8, 0, 0);
const iso = (ms: number): string => new Date(ms).toISOString();

/** A CSMS log: each record decoded as the lane does (with one call window) and shape-checked. */
function csms(ctx: OcppContext = {}) {
  const calls = new OcppCallWindow();
  return (record: unknown) => {
    const wire = decodeOcpp(typeof record === 'string' ? record : JSON.stringify(record), ctx, calls);
    return wire.ok ? decodeLog(wire.value) : wire;
  };
}
const env = (frame: unknown[], extra: Record<string, unknown> = {}) => ({ ts: T0, chargePoint: 'CP-0042', direction: 'in', ip: '198.51.100.7', ...extra, frame });

describe('OCPP 1.6 message logs', () => {
  it('boots, authorizes (accepted and invalid), starts and stops a transaction', () => {
    const log = csms();
    const boot = log(env([2, 'b-1', 'BootNotification', { chargePointVendor: 'Alfen BV', chargePointModel: 'NG920-61023', firmwareVersion: '6.1.0-4096', chargePointSerialNumber: 'ACE0123456' }]));
    expect(boot.ok && boot.value).toMatchObject({
      ts: T0, service: 'charging', endpoint: 'ocpp/1.6/BootNotification', method: 'CALL', actor: 'CP-0042', ip: '198.51.100.7',
      ua: 'Alfen BV/NG920-61023 6.1.0-4096', detail: { protocol: 'ocpp', messageType: 'CALL', chargePoint: 'CP-0042', direction: 'in', firmwareVersion: '6.1.0-4096' },
    });
    expect(boot.ok && boot.value).not.toHaveProperty('status');
    // The CSMS answers on the same connection: direction out, same unique id. Heartbeat reveals no version: remembered per charge point.
    const res = log(env([3, 'b-1', { status: 'Accepted', currentTime: iso(T0), interval: 300 }], { direction: 'out' }));
    expect(res.ok && res.value).toMatchObject({ endpoint: 'ocpp/1.6/BootNotification', method: 'CALLRESULT', status: 200, detail: { matched: true, result: 'Accepted' } });
    expect(log(env([2, 'h-1', 'Heartbeat', {}])).ok && log(env([2, 'h-2', 'Heartbeat', {}]))).toMatchObject({ ok: true, value: { endpoint: 'ocpp/1.6/Heartbeat' } });

    log(env([2, 'a-1', 'Authorize', { idTag: '04A2B3C4D5E6F7' }]));
    const ok = log(env([3, 'a-1', { idTagInfo: { status: 'Accepted', expiryDate: '2026-12-31T23:59:59.000Z' } }], { direction: 'out' }));
    expect(ok.ok && ok.value).toMatchObject({ endpoint: 'ocpp/1.6/Authorize', status: 200, actor: '04A2B3C4D5E6F7', detail: { authorization: 'Accepted' } });
    log(env([2, 'a-2', 'Authorize', { idTag: 'DEADBEEF' }]));
    const invalid = log(env([3, 'a-2', { idTagInfo: { status: 'Invalid' } }], { direction: 'out' }));
    expect(invalid.ok && invalid.value).toMatchObject({ endpoint: 'ocpp/1.6/Authorize', status: 401, actor: 'DEADBEEF' });
    log(env([2, 'a-3', 'Authorize', { idTag: 'STOLEN01' }]));
    expect(log(env([3, 'a-3', { idTagInfo: { status: 'Blocked' } }], { direction: 'out' }))).toMatchObject({ ok: true, value: { status: 403 } });

    const start = log(env([2, 's-1', 'StartTransaction', { connectorId: 1, idTag: '04A2B3C4D5E6F7', meterStart: 1_204_500, timestamp: iso(T0) }]));
    expect(start.ok && start.value).toMatchObject({ endpoint: 'ocpp/1.6/StartTransaction', actor: '04A2B3C4D5E6F7', detail: { connectorId: 1 } });
    expect(log(env([3, 's-1', { idTagInfo: { status: 'Accepted' }, transactionId: 81234 }], { direction: 'out' }))).toMatchObject({ ok: true, value: { status: 200 } });
    const mv = log(env([2, 'm-1', 'MeterValues', { connectorId: 1, transactionId: 81234, meterValue: [{ timestamp: iso(T0), sampledValue: [{ value: '1204.9', measurand: 'Energy.Active.Import.Register', unit: 'kWh' }] }] }]));
    expect(mv.ok && mv.value).toMatchObject({ endpoint: 'ocpp/1.6/MeterValues' });
    const stop = log(env([2, 's-2', 'StopTransaction', { idTag: '04A2B3C4D5E6F7', meterStop: 1_228_100, timestamp: iso(T0 + 3_600_000), transactionId: 81234, reason: 'EVDisconnected' }]));
    expect(stop.ok && stop.value).toMatchObject({ endpoint: 'ocpp/1.6/StopTransaction', detail: { stopReason: 'EVDisconnected', transactionId: '81234' } });
  });

  it('remote start from the CSMS, status notifications, data transfer with a VIN, and the 1.6 security whitepaper event', () => {
    const log = csms();
    log(env([2, 'r-1', 'RemoteStartTransaction', { connectorId: 2, idTag: 'APP-7781' }], { direction: 'out' }));
    const rejected = log(env([3, 'r-1', { status: 'Rejected' }], { direction: 'in' }));
    expect(rejected.ok && rejected.value).toMatchObject({ endpoint: 'ocpp/1.6/RemoteStartTransaction', status: 403, actor: 'APP-7781' });
    const faulted = log(env([2, 'st-1', 'StatusNotification', { connectorId: 2, errorCode: 'GroundFailure', status: 'Faulted', timestamp: iso(T0) }]));
    expect(faulted.ok && faulted.value).toMatchObject({ endpoint: 'ocpp/1.6/StatusNotification', detail: { connectorStatus: 'Faulted', errorCode: 'GroundFailure' } });
    const dt = log(env([2, 'd-1', 'DataTransfer', { vendorId: 'com.example.autocharge', messageId: 'EvIdentity', data: '{"vin":"5YJ3E1EA7KF317001","soc":41}' }]));
    expect(dt.ok && dt.value).toMatchObject({ endpoint: 'ocpp/1.6/DataTransfer', vin: '5YJ3E1EA7KF317001', vinFrom: 'payload', detail: { vendorId: 'com.example.autocharge' } });
    const sec = log(env([2, 'sec-1', 'SecurityEventNotification', { type: 'InvalidCentralSystemCertificate', timestamp: iso(T0), techInfo: 'CN mismatch' }], { version: 'ocpp1.6' }));
    expect(sec.ok && sec.value).toMatchObject({ endpoint: 'ocpp/1.6/SecurityEventNotification', detail: { securityEvent: 'InvalidCentralSystemCertificate', techInfo: 'CN mismatch' } });
  });

  it('maps CALLERRORs to a status and keeps the error code; unmatched results are marked', () => {
    const log = csms();
    log(env([2, 'x-1', 'Authorize', { idTag: 'ABC' }]));
    const err = log(env([4, 'x-1', 'SecurityError', 'Station not accepted', {}], { direction: 'out' }));
    expect(err.ok && err.value).toMatchObject({ endpoint: 'ocpp/1.6/Authorize', method: 'CALLERROR', status: 403, detail: { errorCode: 'SecurityError', errorDescription: 'Station not accepted' } });
    const lost = log(env([3, 'never-sent', { status: 'Accepted' }], { direction: 'out' }));
    expect(lost.ok && lost.value).toMatchObject({ endpoint: 'ocpp/1.6/result', method: 'CALLRESULT', status: 200, detail: { matched: false } });
    const lostErr = log(env([4, 'nope', 'NotImplemented', '', {}]));
    expect(lostErr.ok && lostErr.value).toMatchObject({ endpoint: 'ocpp/1.6/error', status: 501 });
  });
});

describe('OCPP 2.0.1 message logs', () => {
  it('infers the version from the payload and maps authorization and transaction events', () => {
    const log = csms();
    const boot = log(env([2, 'b-1', 'BootNotification', { reason: 'PowerUp', chargingStation: { model: 'Terra AC W22-T-RD-M', vendorName: 'ABB', firmwareVersion: '1.8.21', serialNumber: 'TACW2212345' } }], { chargePoint: 'CS-7' }));
    expect(boot.ok && boot.value).toMatchObject({ endpoint: 'ocpp/2.0.1/BootNotification', ua: 'ABB/Terra AC W22-T-RD-M 1.8.21', detail: { bootReason: 'PowerUp' } });
    log(env([2, 'a-1', 'Authorize', { idToken: { idToken: '00:1A:2B:3C:4D:5E', type: 'MacAddress' } }], { chargePoint: 'CS-7' }));
    const unknown = log(env([3, 'a-1', { idTokenInfo: { status: 'Unknown' } }], { chargePoint: 'CS-7', direction: 'out' }));
    expect(unknown.ok && unknown.value).toMatchObject({ endpoint: 'ocpp/2.0.1/Authorize', status: 401, actor: '00:1A:2B:3C:4D:5E' });
    const tx = log(env([2, 't-1', 'TransactionEvent', {
      eventType: 'Started', timestamp: iso(T0), triggerReason: 'Authorized', seqNo: 0, transactionInfo: { transactionId: 'f1e2d3c4-0001', chargingState: 'EVConnected' },
      idToken: { idToken: 'RFID-99AA', type: 'ISO14443', additionalInfo: [{ additionalIdToken: '1HGCM82633A004352', type: 'VIN' }] }, evse: { id: 1, connectorId: 1 },
    }], { chargePoint: 'CS-7' }));
    expect(tx.ok && tx.value).toMatchObject({
      endpoint: 'ocpp/2.0.1/TransactionEvent', actor: 'RFID-99AA', vin: '1HGCM82633A004352', vinFrom: 'payload',
      detail: { eventType: 'Started', triggerReason: 'Authorized', transactionId: 'f1e2d3c4-0001', idTokenType: 'ISO14443' },
    });
    const status = log(env([2, 's-1', 'StatusNotification', { timestamp: iso(T0), connectorStatus: 'Occupied', evseId: 1, connectorId: 1 }], { chargePoint: 'CS-7' }));
    expect(status.ok && status.value).toMatchObject({ endpoint: 'ocpp/2.0.1/StatusNotification', detail: { connectorStatus: 'Occupied' } });
  });

  it('keeps the EVCCID of a MacAddress token as evidence, never as a VIN', () => {
    const r = csms()(env([2, 'a-9', 'Authorize', { idToken: { idToken: '02:00:00:AB:CD:EF', type: 'MacAddress' } }]));
    expect(r.ok && r.value).toMatchObject({ detail: { evccid: '02:00:00:AB:CD:EF', idTokenType: 'MacAddress' } });
    expect(r.ok && r.value).not.toHaveProperty('vin');
  });

  it('a security event notification and a remote start request, as plain frames with the context from the source', () => {
    const log = csms({ chargePoint: 'CS-9', ocppVersion: 'ocpp2.0.1', receivedAt: T0 + 5, ip: '192.0.2.50:443', service: 'cpo-csms' });
    const sec = log([2, 'e-1', 'SecurityEventNotification', { type: 'TamperDetectionActivated', timestamp: iso(T0) }]);
    expect(sec.ok && sec.value).toMatchObject({ ts: T0 + 5, service: 'cpo-csms', endpoint: 'ocpp/2.0.1/SecurityEventNotification', ip: '192.0.2.50', actor: 'CS-9', detail: { securityEvent: 'TamperDetectionActivated' } });
    const rs = log([2, 'r-1', 'RequestStartTransaction', { remoteStartId: 17, idToken: { idToken: 'APP-1', type: 'Central' }, evseId: 1 }]);
    expect(rs.ok && rs.value).toMatchObject({ endpoint: 'ocpp/2.0.1/RequestStartTransaction', actor: 'APP-1' });
    expect(log([3, 'r-1', { status: 'Accepted', transactionId: 'tx-1' }])).toMatchObject({ ok: true, value: { endpoint: 'ocpp/2.0.1/RequestStartTransaction', status: 200 } });
    const generic = log([2, 'n-1', 'NotifyEvent', { generatedAt: iso(T0), seqNo: 0, eventData: [] }]);
    expect(generic.ok && generic.value).toMatchObject({ endpoint: 'ocpp/2.0.1/NotifyEvent', method: 'CALL' });
  });
});

describe('OCPP refusals', () => {
  it('refuses malformed frames and payloads that break the message shape, each with a reason', () => {
    const log = csms();
    const cases: [unknown, string][] = [
      ['[2,"x"', 'json.malformed'],
      [{ ts: T0, frame: { not: 'a frame' } }, 'ocpp.frame'],
      [env([9, 'id', 'Heartbeat', {}]), 'ocpp.frame'],
      [env([2, 'x'.repeat(37), 'Heartbeat', {}]), 'ocpp.frame'],
      [env([2, 'id', 'Authorize']), 'ocpp.frame'],
      [env([2, 'id', 'Authorize', { idTag: 'A'.repeat(21) }]), 'ocpp.schema'],
      [env([2, 'id', 'BootNotification', { chargePointVendor: 'X' }]), 'ocpp.schema'],
      [env([2, 'id', 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Exploded' }], { version: '1.6' }), 'ocpp.schema'],
      [env([2, 'id', 'Heartbeat', {}], { version: '1.5' }), 'ocpp.version'],
      [env([2, 'id', 'Heartbeat', {}], { direction: 'sideways' }), 'ocpp.direction'],
      [{ chargePoint: 'CP-1', frame: [2, 'id', 'Heartbeat', {}] }, 'time.invalid'],
      [env([4, 'id', 'InternalError', 'x']), 'ocpp.frame'],
    ];
    expect(cases.map(([r]) => {
      const out = log(r);
      return out.ok ? 'ok' : out.reject.code;
    })).toEqual(cases.map(([, c]) => c));
  });

  it('accepts the frame as a JSON string inside the envelope, and an RFC 3339 timestamp', () => {
    const r = csms()({ timestamp: '2026-11-25T09:00:00+01:00', chargePointId: 'CP-1', frame: '[2,"h","Heartbeat",{}]' });
    expect(r.ok && r.value).toMatchObject({ ts: T0, endpoint: 'ocpp/unknown/Heartbeat', actor: 'CP-1' });
  });
});

describe('OCPP meter readings', () => {
  const detailOf = (r: ReturnType<ReturnType<typeof csms>>): Record<string, unknown> => (r.ok ? (r.value.detail ?? {}) : {}) as Record<string, unknown>;

  it('1.6: register per connector, its change, and the energy of a session from meterStart to meterStop', () => {
    const log = csms();
    const start = log(env([2, 's-1', 'StartTransaction', { connectorId: 1, idTag: '04A2B3C4D5E6F7', meterStart: 120_000, timestamp: iso(T0) }]));
    expect(detailOf(start)).toMatchObject({ meterStartWh: 120_000, connectorId: 1 });
    expect(detailOf(start)).not.toHaveProperty('registerDeltaWh'); // the connector's first reading
    log(env([3, 's-1', { transactionId: 7, idTagInfo: { status: 'Accepted' } }], { direction: 'out' }));
    const sample = (id: string, wh: string, unit: string, kw: string) =>
      log(env([2, id, 'MeterValues', { connectorId: 1, transactionId: 7, meterValue: [{ timestamp: iso(T0 + 60_000), sampledValue: [
        { value: wh, unit, measurand: 'Energy.Active.Import.Register' }, { value: kw, unit: 'kW', measurand: 'Power.Active.Import' },
        { value: '230.1', measurand: 'Voltage', phase: 'L1', unit: 'V' },
      ] }] }]));
    expect(detailOf(sample('m-1', '125.5', 'kWh', '11'))).toMatchObject({ energyRegisterWh: 125_500, powerW: 11_000, registerDeltaWh: 5_500, transactionId: '7' });
    // The register runs backwards: a meter reset or tampered with.
    expect(detailOf(sample('m-2', '124000', 'Wh', '11'))).toMatchObject({ energyRegisterWh: 124_000, registerDeltaWh: -1_500 });
    const stop = log(env([2, 's-2', 'StopTransaction', { transactionId: 7, meterStop: 131_000, timestamp: iso(T0 + 3_600_000), reason: 'Local' }]));
    expect(detailOf(stop)).toMatchObject({ meterStopWh: 131_000, sessionEnergyWh: 11_000 });
    // A stop whose start was never seen has no session energy.
    expect(detailOf(log(env([2, 's-3', 'StopTransaction', { transactionId: 99, meterStop: 5, timestamp: iso(T0) }])))).not.toHaveProperty('sessionEnergyWh');
  });

  it('2.0.1: TransactionEvent Started/Ended registers with unit multipliers give the session energy', () => {
    const log = csms();
    const ev = (id: string, eventType: string, kwh: number, seqNo: number) =>
      log(env([2, id, 'TransactionEvent', {
        eventType, timestamp: iso(T0), triggerReason: eventType === 'Started' ? 'CablePluggedIn' : 'EVDeparted', seqNo,
        transactionInfo: { transactionId: 'tx-42' }, evse: { id: 2, connectorId: 1 },
        meterValue: [{ timestamp: iso(T0), sampledValue: [{ value: kwh, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'kWh', multiplier: 0 } }] }],
      }], { version: '2.0.1' }));
    expect(detailOf(ev('t-1', 'Started', 40.25, 0))).toMatchObject({ energyRegisterWh: 40_250, connectorId: 2, transactionId: 'tx-42' });
    expect(detailOf(ev('t-2', 'Ended', 38.25, 1))).toMatchObject({ energyRegisterWh: 38_250, registerDeltaWh: -2_000, sessionEnergyWh: -2_000 });
  });
});
