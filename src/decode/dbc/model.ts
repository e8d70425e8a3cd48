/**
 * The parsed form of a DBC file: nodes, messages with their signals, value tables, comments
 * and attributes, plus where each came from (line numbers) for the messages tools print.
 * Message ids follow the DBC convention used by `CanFrameBatch`: bit 31 marks a 29-bit id.
 */

/** `@0` is Motorola (big endian), `@1` Intel (little endian). */
export type DbcByteOrder = 'big_endian' | 'little_endian';
/** From SIG_VALTYPE_: 0 integer (the default), 1 IEEE float (32 bits), 2 IEEE double (64 bits). */
export type DbcValueType = 'integer' | 'float' | 'double';
export type DbcAttributeValue = number | string;
export type DbcObjectType = 'network' | 'node' | 'message' | 'signal' | 'envvar';

/** When a multiplexed signal is present: its switch's raw value lies in one of `ranges` (inclusive). */
export interface DbcMuxCondition {
  readonly switchName: string;
  readonly ranges: readonly (readonly [number, number])[];
}

export interface DbcSignal {
  readonly name: string;
  /** As written: for Motorola the most significant bit in the DBC's sawtooth numbering, for Intel the least. */
  readonly startBit: number;
  readonly length: number;
  readonly byteOrder: DbcByteOrder;
  readonly signed: boolean;
  readonly valueType: DbcValueType;
  readonly factor: number;
  readonly offset: number;
  readonly min: number;
  readonly max: number;
  readonly unit: string;
  readonly receivers: readonly string[];
  /** `M` or `mNM`: this signal selects which multiplexed signals are present. */
  readonly multiplexor: boolean;
  /** The `N` of `mN` / `mNM`, as written. */
  readonly muxValue?: number;
  /** Resolved presence condition (from `mN` and the message's switch, or from SG_MUL_VAL_). */
  readonly mux?: DbcMuxCondition;
  readonly comment?: string;
  /** Raw value -> label, from VAL_. */
  readonly values?: ReadonlyMap<number, string>;
  readonly attributes: Readonly<Record<string, DbcAttributeValue>>;
  readonly line: number;
}

export interface DbcMessage {
  /** With bit 31 set for extended (29-bit) ids, as in the file. */
  readonly id: number;
  readonly extended: boolean;
  readonly name: string;
  /** Declared data length in bytes (0..64). */
  readonly size: number;
  readonly transmitter: string;
  /** Further senders from BO_TX_BU_. */
  readonly transmitters: readonly string[];
  readonly signals: readonly DbcSignal[];
  readonly comment?: string;
  readonly attributes: Readonly<Record<string, DbcAttributeValue>>;
  readonly line: number;
}

export interface DbcNode {
  readonly name: string;
  readonly comment?: string;
  readonly attributes: Readonly<Record<string, DbcAttributeValue>>;
}

export interface DbcAttributeDef {
  readonly name: string;
  readonly objectType: DbcObjectType;
  readonly type: 'INT' | 'HEX' | 'FLOAT' | 'STRING' | 'ENUM';
  readonly min?: number;
  readonly max?: number;
  /** ENUM labels; an ENUM attribute's value is an index into them. */
  readonly values?: readonly string[];
  /** From BA_DEF_DEF_. */
  readonly default?: DbcAttributeValue;
}

export interface DbcDatabase {
  /** The name given to the parser, for messages. */
  readonly file: string;
  readonly version: string;
  readonly nodes: readonly DbcNode[];
  readonly messages: readonly DbcMessage[];
  /** VAL_TABLE_ name -> raw value -> label. */
  readonly valueTables: ReadonlyMap<string, ReadonlyMap<number, string>>;
  readonly attributeDefs: ReadonlyMap<string, DbcAttributeDef>;
  /** Network (file-level) attributes and comment. */
  readonly attributes: Readonly<Record<string, DbcAttributeValue>>;
  readonly comment?: string;
  /** Files named by `CM_ "IMPORT name.dbc";` (the opendbc generator convention); not resolved here. */
  readonly imports: readonly string[];
}

export interface DbcDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly file: string;
  /** 1-based; 0 when the problem has no single place (e.g. a file-wide check). */
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

export interface DbcParseResult {
  readonly db: DbcDatabase;
  readonly errors: readonly DbcDiagnostic[];
  readonly warnings: readonly DbcDiagnostic[];
}

/** `file:line:col: severity: message`, the form compilers print. */
export function formatDiagnostic(d: DbcDiagnostic): string {
  const at = d.line > 0 ? `${d.file}:${d.line}:${d.col}` : d.file;
  return `${at}: ${d.severity}: ${d.message}`;
}

/** Message id for display: `0x1D0`, or `0x18FEF100 (extended)`. */
export function formatCanId(id: number): string {
  const ext = id >>> 31 === 1;
  const hex = (ext ? id & 0x1fffffff : id).toString(16).toUpperCase();
  return ext ? `0x${hex} (extended)` : `0x${hex}`;
}

/**
 * Pseudo-message that Vector tools use to hold signals not assigned to any message (its id
 * varies: 0xC0000000, or 0x40000000 in older files). It is parsed but never decoded.
 */
export const INDEPENDENT_SIGNALS = 'VECTOR__INDEPENDENT_SIG_MSG';
