/**
 * Payload encodings: every encoding decodes to the object form of the JSON wire format (see
 * README.md), which the shape checks (decodeSignals, decodeSecurity, decodeLog) then validate.
 * A source says which encoding a message has (MQTT topic or content type, HTTP content
 * type, file format); JSON is the default. Add an encoding here, in one place.
 */
import { parseJsonObject, type Decoded } from './json.js';
import { reject } from './reject.js';

export type Encoding = 'json';

export const ENCODINGS: readonly Encoding[] = ['json'];

/** Decode a payload of `encoding` into the wire object form. */
export function decodePayload(payload: string | Uint8Array, encoding: Encoding | undefined): Decoded<Record<string, unknown>> {
  switch (encoding ?? 'json') {
    case 'json':
      return parseJsonObject(payload);
    default:
      return { ok: false, reject: reject('encoding.unsupported', `unsupported payload encoding ${JSON.stringify(encoding)}`) };
  }
}
