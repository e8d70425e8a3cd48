/**
 * The security extract: what each IdsM security event id means and how severe it is.
 * OEMs define their own ids; this default covers the events the demo fleet emits and is
 * replaced or extended by configuration.
 */
import type { Severity } from '../core/records.js';

export interface SecurityEventDef {
  readonly name: string;
  readonly severity: Severity;
}

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
]);
