/**
 * Record kinds other than signals. These are rarer than signals (an IDS event or an API
 * log line per many thousand signals), so they travel as plain objects.
 */

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** What kind of input a record is; also the MQTT topic suffix and the HTTP ingest path. */
export type RecordKind = 'signals' | 'security' | 'log';

/** An in-vehicle IDS security event (AUTOSAR IdsM qualified security event). */
export interface SecurityEvent {
  /** Record id: source + sequence, or a content hash; makes writes idempotent. */
  readonly id: string;
  readonly tenant: string;
  readonly vehicle: string;
  /** Event time, epoch ms. */
  readonly time: number;
  /** IdsM security event id. */
  readonly eventId: number;
  readonly name: string;
  readonly sensor: string;
  readonly count: number;
  readonly severity: Severity;
  readonly context?: Readonly<Record<string, unknown>>;
  /** Technique and threat tags the security extract gives the event id (not yet persisted by the DuckDB store). */
  readonly tags?: readonly string[];
  readonly source: string;
}

/** A back-end API or log event: telematics server, mobile app, EV charging (OCPP). */
export interface ApiEvent {
  readonly id: string;
  readonly tenant: string;
  readonly time: number;
  readonly service: string;
  readonly vehicle?: string;
  readonly actor?: string;
  readonly method?: string;
  readonly endpoint: string;
  readonly status?: number;
  readonly sourceIp?: string;
  readonly userAgent?: string;
  /**
   * Protocol facts with no column of their own: OCPP message type, action, charge point,
   * error code, security event type; `vinInvalid` when the request named a VIN that failed
   * validation. (Not yet persisted by the DuckDB store.)
   */
  readonly detail?: Readonly<Record<string, unknown>>;
  readonly source: string;
}

/** A raw detection produced by a detector for one vehicle (or the fleet when `vehicle` is absent). */
export interface Alert {
  readonly id: string;
  readonly tenant: string;
  readonly vehicle?: string;
  /** Event time of the evidence that fired the detection. */
  readonly time: number;
  /** Processing time when the detector fired. */
  readonly detectedAt: number;
  readonly rule: string;
  readonly title: string;
  readonly severity: Severity;
  readonly tags: readonly string[];
  readonly details: Readonly<Record<string, unknown>>;
}

/** What is known of a vehicle beyond telemetry: registration data and ECU software. */
export interface VehicleIdentity {
  readonly make?: string;
  readonly model?: string;
  readonly year?: number;
  readonly trim?: string;
  readonly region?: string;
  /** ECU name -> software version. */
  readonly software?: Readonly<Record<string, string>>;
}

/** What the store knows of a vehicle: its identity and the summary of its twin. */
export interface VehicleRecord extends VehicleIdentity {
  readonly tenant: string;
  /** Pseudonymized vehicle key (see vehicleKey). */
  readonly id: string;
  /** Event time of the first data seen (epoch ms); absent for a registered vehicle that has sent nothing. */
  readonly firstSeen?: number;
  readonly lastSeen?: number;
  readonly signalCount: number;
}

/** A record that could not be accepted, kept with its reason and raw bytes. */
export interface DeadLetter {
  readonly id: string;
  readonly tenant?: string;
  /** Which source received it (e.g. `sim`, `http`, `mqtt:vigil/acme/...`). */
  readonly source: string;
  /** The record's kind; `can` for a batch of raw CAN frames (kept as candump text). */
  readonly kind: RecordKind | 'can' | 'unknown';
  /** Machine-readable reason code, e.g. `json.malformed`, `signal.unknown`, `value.out_of_range`. */
  readonly code: string;
  /** Human-readable reason with the specifics (path, value, limit). */
  readonly reason: string;
  readonly receivedAt: number;
  readonly raw: Uint8Array;
}
