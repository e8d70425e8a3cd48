/**
 * DBC support: parse DBC text (parser.ts), compile it into allocation-free per-message
 * decoders (decoder.ts), and bind decoded signals to VSS paths (mapping.ts, bind.ts). See README.md.
 */
export { parseDbc } from './parser.js';
export { compileDbc, DbcDecoder, emptyRows, type CompileOptions, type DecodedRows, type DecodeStrategy } from './decoder.js';
export type { DecodeStats } from './codegen.js';
export type { DecoderSignal } from './prepare.js';
export { parseCanMapping, type CanMapping, type CanMappingEntry, type ParsedMapping } from './mapping.js';
export { bindCanMapping, CanBinding, compileCanBinding, type CanBindingSource, type CompiledBinding, type MapResult, type RefusedValues } from './bind.js';
export {
  formatCanId,
  formatDiagnostic,
  INDEPENDENT_SIGNALS,
  type DbcAttributeDef,
  type DbcAttributeValue,
  type DbcByteOrder,
  type DbcDatabase,
  type DbcDiagnostic,
  type DbcMessage,
  type DbcMuxCondition,
  type DbcNode,
  type DbcParseResult,
  type DbcSignal,
  type DbcValueType,
} from './model.js';
