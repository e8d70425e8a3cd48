/**
 * OCPP-J (1.6 and 2.0.1) message logs of a charging-station management system (CSMS) to
 * the log wire object. A record is either an envelope
 *
 *   {"ts":"2026-11-25T08:00:00Z","chargePoint":"CP-0042","direction":"in","ip":"198.51.100.7",
 *    "version":"1.6","frame":[2,"19223201","Authorize",{"idTag":"04A2B3C4D5"}]}
 *
 * or a plain frame (`[2,"19223201","Authorize",{...}]`) whose charge point, direction, address
 * and version come from the source's context, and whose time is when it was received.
 * CALL = `[2, id, Action, payload]`, CALLRESULT = `[3, id, payload]`, CALLERROR =
 * `[4, id, errorCode, errorDescription, details]`. A result or error is resolved to its
 * call's action through an OcppCallWindow when one is given; unresolved, its endpoint ends
 * in `result` or `error`. See README.md for the mapping to API events.
 */
import type { Decoded } from '../json.js';
import { MAX_MESSAGE_BYTES } from '../json.js';
import { reject } from '../reject.js';
import { stripPort } from './access-json.js';
import { isVinShaped } from './endpoint.js';
import { checkOcppPayload, errorStatus, inferOcppVersion, resultStatus, type OcppVersion } from './ocpp-schema.js';
import type { OcppCallWindow } from './ocpp-window.js';
import { parseAnyTime } from './time.js';

/** Service name of OCPP events when the source does not name one. */
export const DEFAULT_OCPP_SERVICE = 'charging';

export interface OcppContext {
  readonly service?: string;
  readonly chargePoint?: string;
  /** `in`: station -> CSMS; `out`: CSMS -> station. */
  readonly direction?: 'in' | 'out';
  readonly ip?: string;
  readonly ocppVersion?: string;
  /** Event time of plain frames (they carry none): when the source received them. */
  readonly receivedAt?: number;
  /** Keeps the correlation keys of different tenants apart. */
  readonly scope?: string;
}

const CALL = 2;
const CALLRESULT = 3;
const CALLERROR = 4;
const ACTION = /^[A-Za-z][A-Za-z0-9]{0,63}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const fail = (code: string, reason: string): Decoded<Obj> => ({ ok: false, reject: reject(code, reason) });
const str = (v: unknown, max: number): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= max ? v : undefined);

/** `1.6`, `ocpp1.6`, `1.6J` -> 1.6; `2.0.1`, `ocpp2.0.1`, `2.0` -> 2.0.1. */
export function ocppVersionOf(v: unknown): OcppVersion | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.trim().toLowerCase().replace(/^ocpp/, '');
  if (s === '1.6' || s === '1.6j') return '1.6';
  if (s === '2.0.1' || s === '2.0') return '2.0.1';
  return undefined;
}

const DIRECTIONS: Readonly<Record<string, 'in' | 'out'>> = {
  in: 'in', out: 'out', 'station->csms': 'in', 'cp->csms': 'in', 'cs->csms': 'in', 'csms->station': 'out', 'csms->cp': 'out', 'csms->cs': 'out',
};

/** Decode one OCPP log record (envelope or plain frame) into the log wire object. */
export function decodeOcpp(payload: string | Uint8Array, ctx: OcppContext = {}, calls?: OcppCallWindow): Decoded<Obj> {
  if (payload.length > MAX_MESSAGE_BYTES) return fail('message.too_large', `message of ${payload.length} bytes exceeds ${MAX_MESSAGE_BYTES}`);
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : utf8.decode(payload));
  } catch (e) {
    return e instanceof SyntaxError ? fail('json.malformed', `malformed JSON: ${e.message}`) : fail('message.encoding', 'payload is not valid UTF-8');
  }
  const env: Obj = Array.isArray(value) ? {} : isObj(value) ? value : {};
  let frame: unknown = Array.isArray(value) ? value : env.frame ?? env.message;
  if (typeof frame === 'string') {
    try {
      frame = JSON.parse(frame);
    } catch (e) {
      return fail('ocpp.frame', `\`frame\` is a string but not JSON: ${(e as Error).message}`);
    }
  }
  if (!Array.isArray(frame)) return fail('ocpp.frame', 'expected an OCPP-J frame array, plain or as the envelope\'s `frame`');

  const envTime = env.ts ?? env.timestamp ?? env.time;
  const ts = typeof env.ts === 'number' ? (env.ts >= 0 ? env.ts : undefined) : envTime !== undefined ? parseAnyTime(envTime) : ctx.receivedAt;
  if (ts === undefined) return fail('time.invalid', 'no usable time: `ts` (epoch ms) or `timestamp` (RFC 3339) in the envelope, or the receive time');
  const cpRaw = env.chargePoint ?? env.chargePointId ?? env.chargingStationId ?? env.stationId ?? ctx.chargePoint;
  const chargePoint = cpRaw === undefined ? undefined : str(cpRaw, 64);
  if (cpRaw !== undefined && chargePoint === undefined) return fail('ocpp.charge_point', 'the charge point id must be a string of 1..64 characters');
  const dirRaw = env.direction ?? ctx.direction;
  const direction = dirRaw === undefined ? undefined : typeof dirRaw === 'string' ? DIRECTIONS[dirRaw.toLowerCase().replace(/\s+/g, '')] : undefined;
  if (dirRaw !== undefined && direction === undefined) return fail('ocpp.direction', `direction ${JSON.stringify(dirRaw)} is not in/out (station->csms / csms->station)`);
  const verRaw = env.version ?? env.ocppVersion ?? env.subprotocol ?? ctx.ocppVersion;
  const declared = verRaw === undefined ? undefined : ocppVersionOf(verRaw);
  if (verRaw !== undefined && declared === undefined) return fail('ocpp.version', `unsupported OCPP version ${JSON.stringify(verRaw)} (1.6 or 2.0.1)`);
  const ipRaw = env.ip ?? env.remoteAddress ?? ctx.ip;

  const type = frame[0];
  const uniqueId = str(frame[1], 36);
  if (uniqueId === undefined) return fail('ocpp.frame', 'the unique id (frame[1]) must be a string of 1..36 characters');
  const out: Obj = { ts, service: ctx.service ?? DEFAULT_OCPP_SERVICE };
  if (typeof ipRaw === 'string' && ipRaw) out.ip = stripPort(ipRaw);
  if (env.seq !== undefined) out.seq = env.seq;
  const detail: Obj = { protocol: 'ocpp', uniqueId };
  if (chargePoint !== undefined) detail.chargePoint = chargePoint;
  if (direction !== undefined) detail.direction = direction;
  const scope = `${ctx.scope ?? ''}\u0000${chargePoint ?? ''}\u0000`;
  const remembered = chargePoint !== undefined ? calls?.versionOf(chargePoint) : undefined;

  if (type === CALL) {
    if (frame.length !== 4) return fail('ocpp.frame', `a CALL has 4 elements, got ${frame.length}`);
    const action = frame[2];
    const body = frame[3];
    if (typeof action !== 'string' || !ACTION.test(action)) return fail('ocpp.frame', 'the action (frame[2]) must be an OCPP action name');
    if (!isObj(body)) return fail('ocpp.frame', 'the payload (frame[3]) must be an object');
    let version = declared ?? remembered ?? inferOcppVersion(action, body);
    if (version) {
      const problem = checkOcppPayload(version, action, false, body);
      if (problem) return fail('ocpp.schema', `OCPP ${version} ${action} request: ${problem}`);
    } else {
      // Neither said nor implied: the version whose shape fits, if only one does.
      const p16 = checkOcppPayload('1.6', action, false, body);
      const p201 = checkOcppPayload('2.0.1', action, false, body);
      if (p16 && p201) return fail('ocpp.schema', `${action} request fits neither OCPP 1.6 (${p16}) nor 2.0.1 (${p201})`);
      if (!p16 !== !p201) version = p16 ? '2.0.1' : '1.6';
    }
    if (version && chargePoint !== undefined && version !== remembered) calls?.setVersion(chargePoint, version);
    const idTag = idTagOf(body);
    const facts = callDetail(action, body);
    calls?.remember(`${scope}${direction ?? '?'}\u0000${uniqueId}`, { action, version, ...(idTag ? { idTag } : {}), ts, ...(typeof facts.meterStartWh === 'number' ? { meterStartWh: facts.meterStartWh } : {}) });
    if (calls) Object.assign(facts, meterState(calls, scope, action, facts));
    Object.assign(detail, { messageType: 'CALL', action }, facts);
    out.endpoint = `ocpp/${version ?? 'unknown'}/${action}`;
    out.method = 'CALL';
    const actor = idTag ?? chargePoint;
    if (actor) out.actor = actor;
    const ua = bootAgent(action, body);
    if (ua) out.ua = ua;
    const vin = findVin(body);
    if (vin) Object.assign(out, { vin, vinFrom: 'payload' });
  } else if (type === CALLRESULT || type === CALLERROR) {
    const isResult = type === CALLRESULT;
    if (frame.length !== (isResult ? 3 : 5)) return fail('ocpp.frame', `a ${isResult ? 'CALLRESULT has 3' : 'CALLERROR has 5'} elements, got ${frame.length}`);
    const callDirection = direction === 'in' ? 'out' : direction === 'out' ? 'in' : '?';
    const call = calls?.take(`${scope}${callDirection}\u0000${uniqueId}`, ts);
    const version = declared ?? call?.version ?? remembered;
    detail.messageType = isResult ? 'CALLRESULT' : 'CALLERROR';
    detail.matched = call !== undefined;
    if (call) detail.action = call.action;
    if (isResult) {
      const body = frame[2];
      if (!isObj(body)) return fail('ocpp.frame', 'the payload (frame[2]) must be an object');
      if (call && version) {
        const problem = checkOcppPayload(version, call.action, true, body);
        if (problem) return fail('ocpp.schema', `OCPP ${version} ${call.action} result: ${problem}`);
      }
      out.status = resultStatus(body);
      // OCPP 1.6: the transaction id of a session arrives in StartTransaction's result.
      if (call?.action === 'StartTransaction' && typeof body.transactionId === 'number' && call.meterStartWh !== undefined) {
        calls?.sessionStarted(`${scope}tx\u0000${body.transactionId}`, call.meterStartWh);
      }
      const auth = (body.idTagInfo ?? body.idTokenInfo) as Obj | undefined;
      if (isObj(auth) && typeof auth.status === 'string') detail.authorization = auth.status;
      else if (typeof body.status === 'string') detail.result = body.status;
      const vin = findVin(body);
      if (vin) Object.assign(out, { vin, vinFrom: 'payload' });
    } else {
      const [, , code, description, details] = frame;
      const errorCode = str(code, 64);
      if (errorCode === undefined) return fail('ocpp.frame', 'the error code (frame[2]) must be a string of 1..64 characters');
      if (typeof description !== 'string') return fail('ocpp.frame', 'the error description (frame[3]) must be a string');
      if (!isObj(details)) return fail('ocpp.frame', 'the error details (frame[4]) must be an object');
      out.status = errorStatus(errorCode);
      detail.errorCode = errorCode;
      if (description) detail.errorDescription = description.slice(0, 255);
    }
    out.endpoint = `ocpp/${version ?? 'unknown'}/${call?.action ?? (isResult ? 'result' : 'error')}`;
    out.method = detail.messageType;
    const actor = call?.idTag ?? chargePoint;
    if (actor) out.actor = actor;
  } else {
    return fail('ocpp.frame', `unknown message type ${JSON.stringify(type)} (2 CALL, 3 CALLRESULT, 4 CALLERROR)`);
  }
  out.detail = detail;
  return { ok: true, value: out };
}

/** The id tag (1.6) or id token (2.0.1) a request names: the actor of a charging session. */
function idTagOf(body: Obj): string | undefined {
  if (typeof body.idTag === 'string' && body.idTag) return body.idTag;
  const token = body.idToken;
  return isObj(token) && typeof token.idToken === 'string' && token.idToken ? token.idToken : undefined;
}

/** The facts of a request worth keeping on the event. */
function callDetail(action: string, b: Obj): Obj {
  const d: Obj = {};
  const token = b.idToken;
  if (isObj(token) && typeof token.type === 'string') {
    d.idTokenType = token.type;
    // ISO 15118 / Autocharge: an EV identified by its communication controller's MAC (EVCCID). Not a VIN.
    if (token.type === 'MacAddress' && typeof token.idToken === 'string') d.evccid = token.idToken;
  }
  if (typeof b.evccid === 'string') d.evccid = b.evccid;
  else if (typeof b.EVCCID === 'string') d.evccid = b.EVCCID;
  switch (action) {
    case 'SecurityEventNotification':
      if (typeof b.type === 'string') d.securityEvent = b.type;
      if (typeof b.techInfo === 'string') d.techInfo = b.techInfo;
      break;
    case 'BootNotification': {
      const cs = isObj(b.chargingStation) ? b.chargingStation : b;
      const fw = cs.firmwareVersion;
      if (typeof fw === 'string') d.firmwareVersion = fw;
      if (typeof b.reason === 'string') d.bootReason = b.reason;
      break;
    }
    case 'StatusNotification':
      if (typeof b.status === 'string') d.connectorStatus = b.status;
      if (typeof b.connectorStatus === 'string') d.connectorStatus = b.connectorStatus;
      if (typeof b.errorCode === 'string' && b.errorCode !== 'NoError') d.errorCode = b.errorCode;
      break;
    case 'StopTransaction':
      if (typeof b.reason === 'string') d.stopReason = b.reason;
      if (typeof b.transactionId === 'number') d.transactionId = String(b.transactionId);
      if (typeof b.meterStop === 'number') d.meterStopWh = b.meterStop;
      break;
    case 'StartTransaction':
      if (typeof b.connectorId === 'number') d.connectorId = b.connectorId;
      if (typeof b.meterStart === 'number') d.meterStartWh = b.meterStart;
      break;
    case 'MeterValues':
      if (typeof b.connectorId === 'number') d.connectorId = b.connectorId;
      if (typeof b.evseId === 'number') d.connectorId = b.evseId;
      if (typeof b.transactionId === 'number') d.transactionId = String(b.transactionId);
      Object.assign(d, meterReadings(b.meterValue));
      break;
    case 'TransactionEvent': {
      d.eventType = b.eventType;
      d.triggerReason = b.triggerReason;
      const info = b.transactionInfo;
      if (isObj(info) && typeof info.transactionId === 'string') d.transactionId = info.transactionId;
      if (isObj(info) && typeof info.stoppedReason === 'string') d.stopReason = info.stoppedReason;
      if (isObj(b.evse) && typeof b.evse.id === 'number') d.connectorId = b.evse.id;
      Object.assign(d, meterReadings(b.meterValue));
      break;
    }
    case 'DataTransfer':
      if (typeof b.vendorId === 'string') d.vendorId = b.vendorId;
      if (typeof b.messageId === 'string') d.messageId = b.messageId;
      break;
  }
  return d;
}

/**
 * What the meter's history says of a request's readings: `registerDeltaWh` (change of the
 * connector's energy register since its last reading; negative = running backwards) and
 * `sessionEnergyWh` (register at the end of a transaction minus at its start).
 */
function meterState(calls: OcppCallWindow, scope: string, action: string, f: Obj): Obj {
  const out: Obj = {};
  const tx = typeof f.transactionId === 'string' ? `${scope}tx\u0000${f.transactionId}` : undefined;
  const register = typeof f.energyRegisterWh === 'number' ? f.energyRegisterWh : typeof f.meterStartWh === 'number' ? f.meterStartWh : undefined;
  if (register !== undefined && typeof f.connectorId === 'number') {
    const delta = calls.registerReading(`${scope}c\u0000${f.connectorId}`, register);
    if (delta !== undefined) out.registerDeltaWh = delta;
  }
  if (action === 'StopTransaction' && tx && typeof f.meterStopWh === 'number') {
    const energy = calls.sessionEnded(tx, f.meterStopWh);
    if (energy !== undefined) out.sessionEnergyWh = energy;
  } else if (action === 'TransactionEvent' && tx && typeof f.energyRegisterWh === 'number') {
    if (f.eventType === 'Started') calls.sessionStarted(tx, f.energyRegisterWh);
    else if (f.eventType === 'Ended') {
      const energy = calls.sessionEnded(tx, f.energyRegisterWh);
      if (energy !== undefined) out.sessionEnergyWh = energy;
    }
  }
  return out;
}

/** Energy units to Wh, power units to W (OCPP 1.6 `unit`; 2.0.1 `unitOfMeasure.unit` with a power-of-ten `multiplier`). */
const ENERGY_WH: Readonly<Record<string, number>> = { wh: 1, kwh: 1000 };
const POWER_W: Readonly<Record<string, number>> = { w: 1, kw: 1000 };

/**
 * The latest energy register (`Energy.Active.Import.Register`, OCPP's default measurand) and
 * active import power of a `meterValue` list, in Wh and W: `{ energyRegisterWh, powerW }`,
 * each only when present and readable.
 */
export function meterReadings(meterValue: unknown): { energyRegisterWh?: number; powerW?: number } {
  if (!Array.isArray(meterValue)) return {};
  let latest = Number.NEGATIVE_INFINITY;
  const out: { energyRegisterWh?: number; powerW?: number } = {};
  for (const mv of meterValue) {
    if (!isObj(mv) || !Array.isArray(mv.sampledValue)) continue;
    const at = typeof mv.timestamp === 'string' ? Date.parse(mv.timestamp) : Number.NaN;
    if (at < latest) continue;
    if (at === at) latest = at;
    for (const sv of mv.sampledValue) {
      if (!isObj(sv)) continue;
      const measurand = typeof sv.measurand === 'string' ? sv.measurand : 'Energy.Active.Import.Register';
      const phase = sv.phase;
      if (phase !== undefined) continue; // per-phase values: the totals are what a bill is made of
      const raw = typeof sv.value === 'number' ? sv.value : typeof sv.value === 'string' && sv.value.trim() !== '' ? Number(sv.value) : Number.NaN;
      if (!Number.isFinite(raw)) continue;
      const uom = isObj(sv.unitOfMeasure) ? sv.unitOfMeasure : undefined;
      const unit = String(uom?.unit ?? sv.unit ?? (measurand.startsWith('Energy') ? 'Wh' : 'W')).toLowerCase();
      const scale = typeof uom?.multiplier === 'number' ? 10 ** uom.multiplier : 1;
      if (measurand === 'Energy.Active.Import.Register' && ENERGY_WH[unit] !== undefined) out.energyRegisterWh = raw * scale * ENERGY_WH[unit]!;
      else if (measurand === 'Power.Active.Import' && POWER_W[unit] !== undefined) out.powerW = raw * scale * POWER_W[unit]!;
    }
  }
  return out;
}

/** A station's identity from its BootNotification, as a user agent: `Vendor/Model firmware`. */
function bootAgent(action: string, b: Obj): string | undefined {
  if (action !== 'BootNotification') return undefined;
  const cs = isObj(b.chargingStation) ? b.chargingStation : undefined;
  const vendor = cs ? cs.vendorName : b.chargePointVendor;
  const model = cs ? cs.model : b.chargePointModel;
  const fw = cs ? cs.firmwareVersion : b.firmwareVersion;
  if (typeof vendor !== 'string' || typeof model !== 'string') return undefined;
  return typeof fw === 'string' ? `${vendor}/${model} ${fw}` : `${vendor}/${model}`;
}

/**
 * A VIN the payload names: a `vin` field at any depth (up to 5), an id token's
 * `additionalInfo` of type VIN, or either inside a DataTransfer's JSON `data` string.
 * OCPP 2.0.1 itself has no VIN field; CSMS vendors carry it in these places.
 */
export function findVin(v: unknown, depth = 0): string | undefined {
  if (depth > 5) return undefined;
  if (typeof v === 'string') {
    if (depth > 0 && v.length <= 4096 && v.startsWith('{')) {
      try {
        return findVin(JSON.parse(v), depth + 1);
      } catch {
        return undefined;
      }
    }
    return undefined;
  }
  if (Array.isArray(v)) {
    for (const e of v) {
      const hit = findVin(e, depth + 1);
      if (hit) return hit;
    }
    return undefined;
  }
  if (!isObj(v)) return undefined;
  if (typeof v.type === 'string' && v.type.toLowerCase() === 'vin' && typeof v.additionalIdToken === 'string') {
    const s = v.additionalIdToken.toUpperCase();
    if (isVinShaped(s)) return s;
  }
  for (const k in v) {
    const x = v[k];
    if (k.toLowerCase() === 'vin' && typeof x === 'string') {
      const s = x.toUpperCase();
      if (isVinShaped(s)) return s;
    } else if (typeof x === 'object' || (k === 'data' && typeof x === 'string')) {
      const hit = findVin(x, depth + 1);
      if (hit) return hit;
    }
  }
  return undefined;
}
