/**
 * Payload encodings: every encoding decodes to the object form of the JSON wire format (see
 * README.md), which the shape checks (decodeSignals, decodeSecurity, decodeLog) then validate.
 * A source says which encoding a message has (MQTT topic or content type, HTTP content
 * type, file format); JSON is the default. Add an encoding here, in one place.
 */
import { parseJsonObject, type Decoded } from './json.js';
import { decodeAccessJson } from './logs/access-json.js';
import { decodeClfLine } from './logs/clf.js';
import { decodeOcpp } from './logs/ocpp.js';
import type { OcppCallWindow } from './logs/ocpp-window.js';
import { parseMsgpackObject } from './msgpack.js';
import { reject } from './reject.js';

/** `clf`, `accesslog-json` and `ocpp` are log encodings (kind `log`); see src/decode/logs/README.md. */
export type Encoding = 'json' | 'msgpack' | 'clf' | 'accesslog-json' | 'ocpp';

export const ENCODINGS: readonly Encoding[] = ['json', 'msgpack', 'clf', 'accesslog-json', 'ocpp'];

/**
 * What a source knows about its messages that the payload may not say (plain data: it
 * crosses to worker threads with the message). All optional.
 */
export interface PayloadContext {
  /** Service of log records that do not name one (access logs: default `http`; OCPP: `charging`). */
  readonly service?: string;
  /** OCPP plain frames: the charge point, the direction (`in`: station -> CSMS), its address, the OCPP version. */
  readonly chargePoint?: string;
  readonly direction?: 'in' | 'out';
  readonly ip?: string;
  readonly ocppVersion?: string;
  /** Signals: VSS path -> unit of the values this source sends, where it differs from the catalog's. */
  readonly units?: Readonly<Record<string, string>>;
}

/** Per-message decode inputs beyond the payload. */
export interface DecodeOptions {
  readonly context?: PayloadContext;
  /** When the source received the message: the event time of records that carry none (plain OCPP frames). */
  readonly receivedAt?: number;
  /** Keeps stateful decoders' keys of different tenants apart. */
  readonly scope?: string;
  /** Stateful: the lane's recent OCPP calls, to resolve results to their action. */
  readonly ocppCalls?: OcppCallWindow;
}

/** Media types -> encoding (MQTT 5 content type, HTTP Content-Type); parameters such as `charset` are ignored. */
const MEDIA_TYPES: Readonly<Record<string, Encoding>> = {
  'application/json': 'json',
  'application/msgpack': 'msgpack',
  'application/x-msgpack': 'msgpack',
  'application/vnd.msgpack': 'msgpack',
};

/** The encoding a media type names, or undefined when it names none we decode. */
export function encodingOfMediaType(mediaType: string): Encoding | undefined {
  const bare = mediaType.split(';', 1)[0]!.trim().toLowerCase();
  return Object.hasOwn(MEDIA_TYPES, bare) ? MEDIA_TYPES[bare] : undefined;
}

// Access logs are mostly ASCII; stray bytes in a line become U+FFFD rather than refusing it.
const logLine = new TextDecoder('utf-8');

/** Decode a payload of `encoding` into the wire object form. */
export function decodePayload(payload: string | Uint8Array, encoding: Encoding | undefined, opts: DecodeOptions = {}): Decoded<Record<string, unknown>> {
  switch (encoding ?? 'json') {
    case 'json':
      return parseJsonObject(payload);
    case 'msgpack':
      return parseMsgpackObject(payload);
    case 'clf':
      return decodeClfLine(typeof payload === 'string' ? payload : logLine.decode(payload), opts.context);
    case 'accesslog-json':
      return decodeAccessJson(payload, opts.context);
    case 'ocpp':
      return decodeOcpp(payload, { ...opts.context, receivedAt: opts.receivedAt, scope: opts.scope }, opts.ocppCalls);
    default:
      return { ok: false, reject: reject('encoding.unsupported', `unsupported payload encoding ${JSON.stringify(encoding)}`) };
  }
}
