/**
 * Payload encodings: every encoding decodes to the object form of the JSON wire format (see
 * README.md), which the shape checks (decodeSignals, decodeSecurity, decodeLog) then validate.
 * A source says which encoding a message has (MQTT topic or content type, HTTP content
 * type, file format); JSON is the default. Add an encoding here, in one place.
 */
import { parseJsonObject, type Decoded } from './json.js';
import { parseMsgpackObject } from './msgpack.js';
import { reject } from './reject.js';

export type Encoding = 'json' | 'msgpack';

export const ENCODINGS: readonly Encoding[] = ['json', 'msgpack'];

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

/** Decode a payload of `encoding` into the wire object form. */
export function decodePayload(payload: string | Uint8Array, encoding: Encoding | undefined): Decoded<Record<string, unknown>> {
  switch (encoding ?? 'json') {
    case 'json':
      return parseJsonObject(payload);
    case 'msgpack':
      return parseMsgpackObject(payload);
    default:
      return { ok: false, reject: reject('encoding.unsupported', `unsupported payload encoding ${JSON.stringify(encoding)}`) };
  }
}
