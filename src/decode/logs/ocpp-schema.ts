/**
 * OCPP-J message shapes (requests and their results) for the actions Vigil understands, in
 * OCPP 1.6 (plus the 1.6 security whitepaper's SecurityEventNotification) and OCPP 2.0.1,
 * after the official JSON schemas: required fields, types, enumerations and string lengths.
 * Unknown extra fields are tolerated (vendors add them); actions not listed here pass with
 * only the frame checked. Also: what a result or an error means as an HTTP-like status.
 */
import { z } from 'zod';
import { parseIsoTime } from './time.js';

export type OcppVersion = '1.6' | '2.0.1';

const str = (max: number) => z.string().max(max);
const int = z.number().int();
const dateTime = z.string().refine((s) => parseIsoTime(s) !== undefined, 'expected an RFC 3339 date-time with a zone');
const any = z.record(z.string(), z.unknown());
const empty = z.object({});

// ---- OCPP 1.6 ----
const idTagInfo16 = z.object({
  status: z.enum(['Accepted', 'Blocked', 'Expired', 'Invalid', 'ConcurrentTx']),
  expiryDate: dateTime.optional(),
  parentIdTag: str(20).optional(),
});
const sampledValue16 = z.object({ value: z.string(), measurand: z.string().optional(), unit: z.string().optional() });
const meterValue16 = z.object({ timestamp: dateTime, sampledValue: z.array(sampledValue16).min(1) });
const remoteStartStop16 = z.object({ status: z.enum(['Accepted', 'Rejected']) });
const dataTransferStatus = z.enum(['Accepted', 'Rejected', 'UnknownMessageId', 'UnknownVendorId']);
const securityEvent = z.object({ type: str(50), timestamp: dateTime, techInfo: str(255).optional() });

const V16: Readonly<Record<string, readonly [z.ZodType, z.ZodType]>> = {
  BootNotification: [
    z.object({
      chargePointVendor: str(20), chargePointModel: str(20), chargePointSerialNumber: str(25).optional(),
      chargeBoxSerialNumber: str(25).optional(), firmwareVersion: str(50).optional(), iccid: str(20).optional(),
      imsi: str(20).optional(), meterType: str(25).optional(), meterSerialNumber: str(25).optional(),
    }),
    z.object({ status: z.enum(['Accepted', 'Pending', 'Rejected']), currentTime: dateTime, interval: int }),
  ],
  Authorize: [z.object({ idTag: str(20) }), z.object({ idTagInfo: idTagInfo16 })],
  StartTransaction: [
    z.object({ connectorId: int.min(0), idTag: str(20), meterStart: int, reservationId: int.optional(), timestamp: dateTime }),
    z.object({ idTagInfo: idTagInfo16, transactionId: int }),
  ],
  StopTransaction: [
    z.object({
      idTag: str(20).optional(), meterStop: int, timestamp: dateTime, transactionId: int,
      reason: z.enum(['EmergencyStop', 'EVDisconnected', 'HardReset', 'Local', 'Other', 'PowerLoss', 'Reboot', 'Remote', 'SoftReset', 'UnlockCommand', 'DeAuthorized']).optional(),
      transactionData: z.array(meterValue16).optional(),
    }),
    z.object({ idTagInfo: idTagInfo16.optional() }),
  ],
  MeterValues: [z.object({ connectorId: int.min(0), transactionId: int.optional(), meterValue: z.array(meterValue16).min(1) }), empty],
  StatusNotification: [
    z.object({
      connectorId: int.min(0),
      errorCode: z.enum([
        'ConnectorLockFailure', 'EVCommunicationError', 'GroundFailure', 'HighTemperature', 'InternalError', 'LocalListConflict', 'NoError',
        'OtherError', 'OverCurrentFailure', 'PowerMeterFailure', 'PowerSwitchFailure', 'ReaderFailure', 'ResetFailure', 'UnderVoltage',
        'OverVoltage', 'WeakSignal',
      ]),
      status: z.enum(['Available', 'Preparing', 'Charging', 'SuspendedEVSE', 'SuspendedEV', 'Finishing', 'Reserved', 'Unavailable', 'Faulted']),
      info: str(50).optional(), timestamp: dateTime.optional(), vendorId: str(255).optional(), vendorErrorCode: str(50).optional(),
    }),
    empty,
  ],
  Heartbeat: [empty, z.object({ currentTime: dateTime })],
  RemoteStartTransaction: [z.object({ connectorId: int.min(1).optional(), idTag: str(20), chargingProfile: any.optional() }), remoteStartStop16],
  RemoteStopTransaction: [z.object({ transactionId: int }), remoteStartStop16],
  DataTransfer: [
    z.object({ vendorId: str(255), messageId: str(50).optional(), data: z.string().optional() }),
    z.object({ status: dataTransferStatus, data: z.string().optional() }),
  ],
  SecurityEventNotification: [securityEvent, empty],
};

// ---- OCPP 2.0.1 ----
const idToken = z.object({
  idToken: str(36),
  type: z.enum(['Central', 'eMAID', 'ISO14443', 'ISO15693', 'KeyCode', 'Local', 'MacAddress', 'NoAuthorization']),
  additionalInfo: z.array(z.object({ additionalIdToken: str(36), type: str(50) })).min(1).optional(),
});
const idTokenInfo = z.object({
  status: z.enum(['Accepted', 'Blocked', 'ConcurrentTx', 'Expired', 'Invalid', 'NoCredit', 'NotAllowedTypeEVSE', 'NotAtThisLocation', 'NotAtThisTime', 'Unknown']),
  cacheExpiryDateTime: dateTime.optional(),
  chargingPriority: int.optional(),
});
const statusInfo = z.object({ reasonCode: str(20), additionalInfo: str(512).optional() });
const meterValue201 = z.object({
  timestamp: dateTime,
  sampledValue: z.array(z.object({ value: z.number(), measurand: z.string().optional(), unitOfMeasure: any.optional() })).min(1),
});
const requestStartStop = z.object({ status: z.enum(['Accepted', 'Rejected']), statusInfo: statusInfo.optional() });

const V201: Readonly<Record<string, readonly [z.ZodType, z.ZodType]>> = {
  BootNotification: [
    z.object({
      reason: z.enum(['ApplicationReset', 'FirmwareUpdate', 'LocalReset', 'PowerUp', 'RemoteReset', 'ScheduledReset', 'Triggered', 'Unknown', 'Watchdog']),
      chargingStation: z.object({
        model: str(20), vendorName: str(50), serialNumber: str(25).optional(), firmwareVersion: str(50).optional(),
        modem: z.object({ iccid: str(20).optional(), imsi: str(20).optional() }).optional(),
      }),
    }),
    z.object({ currentTime: dateTime, interval: int, status: z.enum(['Accepted', 'Pending', 'Rejected']), statusInfo: statusInfo.optional() }),
  ],
  Authorize: [
    z.object({ idToken, certificate: str(5500).optional(), iso15118CertificateHashData: z.array(any).max(4).optional() }),
    z.object({ idTokenInfo, certificateStatus: z.string().optional() }),
  ],
  TransactionEvent: [
    z.object({
      eventType: z.enum(['Ended', 'Started', 'Updated']),
      timestamp: dateTime,
      triggerReason: z.enum([
        'Authorized', 'CablePluggedIn', 'ChargingRateChanged', 'ChargingStateChanged', 'Deauthorized', 'EnergyLimitReached', 'EVCommunicationLost',
        'EVConnectTimeout', 'MeterValueClock', 'MeterValuePeriodic', 'TimeLimitReached', 'Trigger', 'UnlockCommand', 'StopAuthorized', 'EVDeparted',
        'EVDetected', 'RemoteStop', 'RemoteStart', 'AbnormalCondition', 'SignedDataReceived', 'ResetCommand',
      ]),
      seqNo: int.min(0),
      offline: z.boolean().optional(),
      transactionInfo: z.object({ transactionId: str(36), chargingState: z.string().optional(), stoppedReason: z.string().optional() }),
      idToken: idToken.optional(),
      evse: z.object({ id: int, connectorId: int.optional() }).optional(),
      meterValue: z.array(meterValue201).min(1).optional(),
    }),
    z.object({ totalCost: z.number().optional(), chargingPriority: int.optional(), idTokenInfo: idTokenInfo.optional() }),
  ],
  MeterValues: [z.object({ evseId: int.min(0), meterValue: z.array(meterValue201).min(1) }), empty],
  StatusNotification: [
    z.object({ timestamp: dateTime, connectorStatus: z.enum(['Available', 'Occupied', 'Reserved', 'Unavailable', 'Faulted']), evseId: int, connectorId: int }),
    empty,
  ],
  Heartbeat: [empty, z.object({ currentTime: dateTime })],
  RequestStartTransaction: [
    z.object({ evseId: int.optional(), remoteStartId: int, idToken, groupIdToken: idToken.optional(), chargingProfile: any.optional() }),
    requestStartStop.extend({ transactionId: str(36).optional() }),
  ],
  RequestStopTransaction: [z.object({ transactionId: str(36) }), requestStartStop],
  DataTransfer: [
    z.object({ vendorId: str(255), messageId: str(50).optional(), data: z.unknown().optional() }),
    z.object({ status: dataTransferStatus, statusInfo: statusInfo.optional(), data: z.unknown().optional() }),
  ],
  SecurityEventNotification: [securityEvent, empty],
};

const SCHEMAS: Readonly<Record<OcppVersion, Readonly<Record<string, readonly [z.ZodType, z.ZodType]>>>> = { '1.6': V16, '2.0.1': V201 };

/** Actions checked against a message shape (the others pass with the frame checked). */
export const OCPP_ACTIONS: Readonly<Record<OcppVersion, readonly string[]>> = { '1.6': Object.keys(V16), '2.0.1': Object.keys(V201) };

/** Check a request (`result` false) or a result payload; returns the problems, or undefined when it fits or is not known. */
export function checkOcppPayload(version: OcppVersion, action: string, result: boolean, payload: unknown): string | undefined {
  const pair = Object.hasOwn(SCHEMAS[version], action) ? SCHEMAS[version][action] : undefined;
  if (!pair) return undefined;
  const r = pair[result ? 1 : 0]!.safeParse(payload);
  if (r.success) return undefined;
  return r.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(payload)'}: ${i.message}`)
    .join('; ');
}

// ---- what results and errors mean ----

const AUTH_STATUS: Readonly<Record<string, number>> = {
  Accepted: 200, Blocked: 403, Expired: 401, Invalid: 401, ConcurrentTx: 409, NoCredit: 402,
  NotAllowedTypeEVSE: 403, NotAtThisLocation: 403, NotAtThisTime: 403, Unknown: 401,
};
const RESULT_STATUS: Readonly<Record<string, number>> = {
  Accepted: 200, Pending: 202, Scheduled: 202, Rejected: 403, UnknownMessageId: 404, UnknownVendorId: 404, NotSupported: 501,
};
const ERROR_STATUS: Readonly<Record<string, number>> = {
  NotImplemented: 501, NotSupported: 501, InternalError: 500, GenericError: 500, SecurityError: 403, ProtocolError: 400,
  FormationViolation: 400, FormatViolation: 400, PropertyConstraintViolation: 400, OccurenceConstraintViolation: 400,
  OccurrenceConstraintViolation: 400, TypeConstraintViolation: 400, RpcFrameworkError: 400, MessageTypeNotSupported: 400,
};

const sub = (o: unknown, k: string): unknown => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined);

/**
 * A CALLRESULT as an HTTP-like status: an authorization outcome (`idTagInfo` / `idTokenInfo`)
 * first (Invalid, Expired, Unknown -> 401; Blocked, NotAt... -> 403; ConcurrentTx -> 409;
 * NoCredit -> 402), else the payload's `status` (Accepted 200, Pending 202, Rejected 403,
 * Unknown... 404, NotSupported 501), else 200. Needs no action, so it works unmatched too.
 */
export function resultStatus(payload: unknown): number {
  const auth = sub(sub(payload, 'idTagInfo') ?? sub(payload, 'idTokenInfo'), 'status');
  if (typeof auth === 'string') return AUTH_STATUS[auth] ?? 200;
  const status = sub(payload, 'status');
  return typeof status === 'string' ? RESULT_STATUS[status] ?? 200 : 200;
}

/** A CALLERROR's error code as an HTTP-like status (unknown codes: 500). */
export function errorStatus(errorCode: string): number {
  return Object.hasOwn(ERROR_STATUS, errorCode) ? ERROR_STATUS[errorCode]! : 500;
}

const ONLY_16 = new Set(['StartTransaction', 'StopTransaction', 'RemoteStartTransaction', 'RemoteStopTransaction', 'DiagnosticsStatusNotification', 'GetDiagnostics', 'ChangeConfiguration', 'GetConfiguration', 'SendLocalList', 'GetLocalListVersion']);
const ONLY_201 = new Set(['TransactionEvent', 'RequestStartTransaction', 'RequestStopTransaction', 'NotifyEvent', 'NotifyReport', 'GetVariables', 'SetVariables', 'NotifyEVChargingNeeds', 'NotifyChargingLimit', 'ReportChargingProfiles', 'Get15118EVCertificate', 'GetBaseReport']);

/** The version a CALL's action and payload imply, when they imply one. */
export function inferOcppVersion(action: string, payload: Record<string, unknown>): OcppVersion | undefined {
  if (ONLY_16.has(action)) return '1.6';
  if (ONLY_201.has(action)) return '2.0.1';
  if ('chargingStation' in payload || 'idToken' in payload || 'connectorStatus' in payload || 'evseId' in payload) return '2.0.1';
  if ('chargePointVendor' in payload || 'idTag' in payload || ('errorCode' in payload && 'connectorId' in payload) || 'connectorId' in payload) return '1.6';
  return undefined;
}
