/**
 * Mapping files: which DBC signals become which VSS signals, and how their values change on
 * the way (see README.md, "Mapping files"; shipped example rules/can/volvo_v40_2017_pt.vss.yaml).
 *
 *   version: 1
 *   dbc: volvo_v40_2017_pt.dbc          # optional: the DBC it was written for (informational)
 *   signals:
 *     - signal: VehicleSpeed0.VehicleSpeed        # Message.Signal, or by id: 0x130.VehicleSpeed / 304.VehicleSpeed
 *       path: Vehicle.Speed
 *     - signal: wheelspeed0.WhlSpdLF
 *       path: Vehicle.Chassis.Axle.Row1.Wheel.Left.Speed
 *       scale: 0.01                               # value * scale + offset, after the DBC's own factor and offset
 *       offset: -327.68
 *       unit: km/h                                # the value's unit (default: the DBC's), converted to the VSS unit
 *     - signal: MiscCarInfo.TurnSignal
 *       path: Vehicle.Body.Lights.DirectionIndicator.Left.IsSignaling
 *       values: { 1: true, Left: true }           # raw value or VAL_ label -> VSS value
 *       default: false                            # for raw values not listed (absent: refused, dead-lettered)
 *       ignore: [65535]                           # raw values meaning "not available": dropped, counted
 *
 * This file reads and validates the shape (zod, every problem at once, each with file, line,
 * column and path); bind.ts checks it against a DBC and a signal catalog.
 */
import { LineCounter, parseDocument, type YAMLParseError } from 'yaml';
import { z } from 'zod';

/** `Message.Signal`, or `<id>.Signal` with a decimal or 0x id. */
export const SIGNAL_REF = /^(?:(0x[0-9a-f]+|\d+)|([A-Za-z_][A-Za-z0-9_]*))\.([A-Za-z_][A-Za-z0-9_]*)$/i;
const VSS_PATH = /^[A-Z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$/;

const vssValue = z.union([z.number().refine(Number.isFinite, 'a finite number'), z.boolean(), z.string().max(4096)]);
export type VssValue = z.infer<typeof vssValue>;

const entrySchema = z.strictObject({
  signal: z.string().regex(SIGNAL_REF, 'expected Message.Signal, or <id>.Signal with a decimal or 0x id'),
  path: z.string().regex(VSS_PATH, 'expected a VSS path such as Vehicle.Speed'),
  scale: z.number().refine((x) => Number.isFinite(x) && x !== 0, 'a finite, non-zero number').optional(),
  offset: z.number().refine(Number.isFinite, 'a finite number').optional(),
  unit: z.string().min(1).optional(),
  values: z.record(z.string().min(1), vssValue).optional(),
  default: vssValue.optional(),
  ignore: z.array(z.number().int()).optional(),
});

const mappingSchema = z.strictObject({
  version: z.literal(1, 'expected 1'),
  dbc: z.string().min(1).optional(),
  signals: z.array(entrySchema).min(1, 'expected at least one signal'),
});

export interface CanMappingEntry extends z.infer<typeof entrySchema> {
  /** Where the entry is written: `file:line:col`, for the problems bind.ts reports. */
  readonly at: string;
}

export interface CanMapping {
  readonly file: string;
  readonly dbc?: string;
  readonly signals: readonly CanMappingEntry[];
}

export interface ParsedMapping {
  /** Absent when there are problems. */
  readonly mapping?: CanMapping;
  /** Every problem, `file:line:col: signals.3.path: message`. */
  readonly problems: readonly string[];
}

/** Parse and validate a mapping file's text (YAML or JSON); `file` names it in problems. */
export function parseCanMapping(text: string, file = 'mapping'): ParsedMapping {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true });
  if (doc.errors.length) {
    return { problems: doc.errors.map((e: YAMLParseError) => `${e.linePos ? `${file}:${e.linePos[0].line}:${e.linePos[0].col}` : file}: ${e.message.split('\n')[0]}`) };
  }
  /** `file:line:col` of the deepest node of `path` that exists. */
  const where = (path: readonly PropertyKey[]): string => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
      if (node?.range) {
        const p = lines.linePos(node.range[0]);
        return `${file}:${p.line}:${p.col}`;
      }
    }
    return file;
  };
  const result = mappingSchema.safeParse(doc.toJS() ?? {});
  if (!result.success) {
    return {
      problems: result.error.issues.map((i) => {
        const path = i.path.length ? `${i.path.join('.')}: ` : '';
        return `${where(i.path)}: ${path}${i.message}`;
      }),
    };
  }
  const problems: string[] = [];
  result.data.signals.forEach((e, i) => {
    const at = (key: string): string => `${where(['signals', i, key])}: signals.${i}.${key}`;
    if (e.values && (e.scale !== undefined || e.offset !== undefined || e.unit !== undefined)) {
      problems.push(`${at('values')}: values give the VSS value itself; scale, offset and unit do not apply with them`);
    }
    if (e.default !== undefined && !e.values) problems.push(`${at('default')}: default is for raw values missing from values, and there are no values`);
  });
  if (problems.length) return { problems };
  const signals = result.data.signals.map((e, i) => ({ ...e, at: where(['signals', i]) }));
  return { mapping: { file, ...(result.data.dbc !== undefined ? { dbc: result.data.dbc } : {}), signals }, problems };
}

/** A parsed `signal:` reference: by message name or by id (with or without the extended flag). */
export function parseSignalRef(ref: string): { message?: string; id?: number; signal: string } {
  const m = SIGNAL_REF.exec(ref)!;
  return m[1] !== undefined ? { id: Number(m[1]), signal: m[3]! } : { message: m[2]!, signal: m[3]! };
}
