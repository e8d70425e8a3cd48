/**
 * What the statement parsers collect before linking: messages and signals as written, and the
 * statements that refer to them (comments, value descriptions, attributes, value types,
 * extended multiplexing), each with its place in the file so a dangling reference can be
 * reported where it was written.
 */
import type { DbcAttributeDef, DbcAttributeValue, DbcByteOrder, DbcDiagnostic, DbcObjectType } from './model.js';

export interface At {
  readonly line: number;
  readonly col: number;
}

export interface SignalDraft extends At {
  name: string;
  startBit: number;
  length: number;
  byteOrder: DbcByteOrder;
  signed: boolean;
  factor: number;
  offset: number;
  min: number;
  max: number;
  unit: string;
  receivers: string[];
  multiplexor: boolean;
  muxValue?: number;
}

export interface MessageDraft extends At {
  id: number;
  name: string;
  size: number;
  transmitter: string;
  signals: SignalDraft[];
}

/** The object a CM_ or BA_ statement is about. */
export type Target =
  | { readonly kind: 'network' }
  | { readonly kind: 'node'; readonly name: string }
  | { readonly kind: 'message'; readonly id: number }
  | { readonly kind: 'signal'; readonly id: number; readonly signal: string }
  | { readonly kind: 'envvar'; readonly name: string };

export interface Drafts {
  version: string;
  nodes: string[];
  messages: MessageDraft[];
  valueTables: Map<string, Map<number, string>>;
  attributeDefs: Map<string, DbcAttributeDef & At>;
  comments: (At & { target: Target; text: string })[];
  attributes: (At & { target: Target; name: string; value: DbcAttributeValue })[];
  defaults: (At & { name: string; value: DbcAttributeValue })[];
  /** VAL_ id signal ... */
  values: (At & { id: number; signal: string; table: Map<number, string> })[];
  valueTypes: (At & { id: number; signal: string; type: 0 | 1 | 2 })[];
  muxValues: (At & { id: number; signal: string; switchName: string; ranges: [number, number][] })[];
  senders: (At & { id: number; nodes: string[] })[];
  imports: string[];
  diagnostics: DbcDiagnostic[];
}

export function emptyDrafts(): Drafts {
  return {
    version: '',
    nodes: [],
    messages: [],
    valueTables: new Map(),
    attributeDefs: new Map(),
    comments: [],
    attributes: [],
    defaults: [],
    values: [],
    valueTypes: [],
    muxValues: [],
    senders: [],
    imports: [],
    diagnostics: [],
  };
}

export const OBJECT_TYPES: Record<string, DbcObjectType> = { BU_: 'node', BO_: 'message', SG_: 'signal', EV_: 'envvar' };
