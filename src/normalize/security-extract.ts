/**
 * The security extract: what each IdsM security event id means and how severe it is.
 * OEMs define their own ids; this default covers the events the demo fleet emits and is
 * replaced or extended by configuration (`security.extract`, a file in the format of
 * rules/security-extract.yaml, which holds this same default; a test keeps them equal).
 */
import type { Severity } from '../core/records.js';

export interface SecurityEventDef {
  readonly name: string;
  readonly severity: Severity;
  readonly description?: string;
  /** Technique and threat tags (Auto-ISAC ATM ids, UN R155 Annex 5 refs). */
  readonly tags?: readonly string[];
  /** Layout of the event's context data bytes, decoded into `context` (see security-context.ts). */
  readonly contextData?: readonly ContextField[];
}

/** One field of an event's context data, in order, big-endian unless `littleEndian`. */
export interface ContextField {
  readonly name: string;
  readonly type: ContextFieldType;
  /** Bytes of a `bytes` or `ascii` field; absent: the rest of the data. */
  readonly length?: number;
  readonly littleEndian?: boolean;
}

export const CONTEXT_FIELD_TYPES = ['uint8', 'uint16', 'uint32', 'int8', 'int16', 'int32', 'float32', 'float64', 'bytes', 'ascii'] as const;
export type ContextFieldType = (typeof CONTEXT_FIELD_TYPES)[number];

/** The name of an event id the extract does not know: `IDSM_0x8A01`. */
export const unknownEventName = (id: number): string => `IDSM_0x${id.toString(16).toUpperCase().padStart(4, '0')}`;

export const DEFAULT_SECURITY_EXTRACT: ReadonlyMap<number, SecurityEventDef> = new Map([
  [0x8001, { name: 'CAN_UNKNOWN_ID', severity: 'medium' }],
  [0x8002, { name: 'CAN_DLC_MISMATCH', severity: 'low' }],
  [0x8003, { name: 'CAN_FREQUENCY_VIOLATION', severity: 'medium' }],
  [0x8101, { name: 'UDS_SESSION_CHANGE', severity: 'low' }],
  [0x8102, { name: 'UDS_SECURITY_ACCESS_FAILED', severity: 'medium' }],
  [0x8103, { name: 'UDS_REPROGRAMMING_REQUEST', severity: 'high' }],
  [0x8201, { name: 'SECOC_MAC_VERIFICATION_FAILED', severity: 'high' }],
  [0x8301, { name: 'REMOTE_UNLOCK', severity: 'info' }],
  [0x8302, { name: 'REMOTE_ENGINE_START', severity: 'info' }],
  [0x8401, { name: 'OTA_HASH_MISMATCH', severity: 'critical' }],
  [0x8402, { name: 'OTA_DOWNGRADE_ATTEMPT', severity: 'high' }],
  [0x8501, { name: 'BT_PAIRING_REQUEST', severity: 'info' }],
  [0x8601, { name: 'IDS_HEARTBEAT', severity: 'info' }],
  [0x8701, { name: 'DEBUG_PORT_ACTIVITY', severity: 'high' }],
  [0x8403, { name: 'SECURE_BOOT_FAILED', severity: 'critical' }],
  [0x8502, { name: 'KEYLESS_RELAY_SUSPECTED', severity: 'high' }],
  [0x8503, { name: 'WIFI_DEAUTH', severity: 'medium' }],
  [0x8504, { name: 'BT_PAIRING_FAILED', severity: 'low' }],
  [0x8702, { name: 'UDS_TESTER_PRESENT_OBD', severity: 'info' }],
  [0x8801, { name: 'IVI_APP_INSTALLED', severity: 'low' }],
  [0x8802, { name: 'IVI_ADB_ENABLED', severity: 'high' }],
  [0x8803, { name: 'IVI_ROOT_DETECTED', severity: 'critical' }],
  [0x8901, { name: 'NET_UNKNOWN_DESTINATION', severity: 'medium' }],
  [0x8902, { name: 'TCU_NETWORK_ATTACH', severity: 'info' }],
  [0x8903, { name: 'TLS_PINNING_FAILED', severity: 'high' }],
  [0x8904, { name: 'CERT_VALIDATION_FAILED', severity: 'medium' }],
  [0x8A01, { name: 'V2X_SIGNATURE_INVALID', severity: 'high' }],
  [0x8A02, { name: 'V2X_PLAUSIBILITY_FAILED', severity: 'medium' }],
  [0x8B01, { name: 'IMMO_AUTH_FAILED', severity: 'high' }],
  [0x8C01, { name: 'SENSOR_PLAUSIBILITY_FAILED', severity: 'medium' }],
  [0x8C02, { name: 'AIRBAG_CRASH_SIGNAL', severity: 'high' }],
  [0x8C03, { name: 'BMS_CELL_OUT_OF_RANGE', severity: 'high' }],
]);
