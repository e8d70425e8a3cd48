/**
 * How the columns of a CAN CSV trace map to frames: one schema (the type comes from it), the
 * built-in layouts, a mapping file (YAML or JSON) that may extend a layout, `--map key=value`
 * overrides, and a guess from header names when nothing is given. See README.md here for the
 * format with examples; DAGA and ROAD need only their layout name.
 */
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';

/** A column by header name, or by 0-based index (negative counts from the end of the row). */
const column = z.union([z.string().min(1), z.number().int()]);

/** `Byte1..Byte8` (or `D0..D7`): numbered column names, as a list. */
export function expandColumns(spec: string): string[] {
  const m = /^(.*?)(\d+)\.\.(.*?)(\d+)$/.exec(spec.trim());
  if (!m || m[1] !== m[3]) return spec.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const [from, to] = [Number(m[2]), Number(m[4])];
  if (to < from || to - from >= 64) return [spec];
  return Array.from({ length: to - from + 1 }, (_, k) => `${m[1]}${from + k}`);
}

const columns = z.union([
  z.array(column).min(1).max(64),
  z.string().min(1).transform((s) => expandColumns(s)),
]);
/** Label values; YAML turns `True` and `1` into a boolean and a number, so scalars of any kind count as their text. */
const scalar = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));
const values = z.union([z.array(scalar).min(1), z.string().min(1).transform((s) => s.split(','))]);

/** Label values that mean "attack" unless the mapping lists its own (compared case-insensitively). */
export const DEFAULT_TRUE_LABELS = ['1', 'true', 't', 'yes', 'y', 'attack', 'anomaly', 'injected', 'malicious'];

export const csvMappingSchema = z
  .strictObject({
    /** Single character; `tab` for a tab. */
    delimiter: z
      .string()
      .transform((d) => (d === 'tab' || d === '\\t' ? '\t' : d))
      .pipe(z.string().length(1))
      .default(','),
    /** Whether the first line names the columns. */
    header: z.boolean().default(true),
    time: z.strictObject({
      column,
      /** `auto`: s, ms, us or ns by the magnitude of the first value (only safe for epoch times). */
      unit: z.enum(['s', 'ms', 'us', 'ns', 'iso', 'auto']).default('s'),
      /** `relative` adds the start time; `auto`: relative when the first time is before 2000. */
      base: z.enum(['auto', 'epoch', 'relative']).default('auto'),
    }),
    id: z.strictObject({
      column,
      format: z.enum(['hex', 'dec']).default('hex'),
      /** `auto`: ids above 0x7FF are 29-bit; a trailing `x` (`18FEF100x`) marks one too. */
      extended: z.enum(['auto', 'never', 'always']).default('auto'),
    }),
    /** Data length; absent: the payload's length. `code` is the ISO DLC code (9..15 -> 12..64 bytes). */
    dlc: z.strictObject({ column, unit: z.enum(['bytes', 'bits', 'code']).default('bytes') }).optional(),
    /** The data as one hex column (spaces, '.', ':' between bytes allowed). */
    payload: z
      .strictObject({
        column,
        /** `left`: fewer hex digits than the DLC asks are zero-padded on the left (a number that lost its leading zeros). */
        pad: z.enum(['none', 'left']).default('none'),
        /** `wire`: first two digits are data byte 0; `reversed`: the hex is the data read as a little-endian number, its LAST two digits are byte 0. */
        order: z.enum(['wire', 'reversed']).default('wire'),
      })
      .optional(),
    /** The data as one column per byte; without a DLC the data ends at the first empty column. */
    bytes: z.strictObject({ columns, format: z.enum(['hex', 'dec']).default('hex') }).optional(),
    /** Ground truth: a value in `true` marks an attack frame; with `false` given, any other value is rejected. */
    label: z.strictObject({ column, true: values.default(DEFAULT_TRUE_LABELS), false: values.optional() }).optional(),
    /** The vehicle (VIN) of each row; absent: the one vehicle given to the reader. */
    vehicle: z.strictObject({ column }).optional(),
    /** The bus or interface of each row. */
    bus: z.strictObject({ column }).optional(),
  })
  .refine((m) => (m.payload === undefined) !== (m.bytes === undefined), { message: 'give exactly one of payload (one hex column) or bytes (a column per byte)' });

export type CsvMapping = z.output<typeof csvMappingSchema>;
export type CsvMappingInput = z.input<typeof csvMappingSchema>;
export type CsvColumn = z.output<typeof column>;

/** Built-in layouts by name. */
export const CSV_LAYOUTS = {
  /**
   * DAGA (SECloudUNIMORE/ACS): seconds from start, hex id, DLC in BITS, ANOMALY True/False.
   * PAYLOAD_HEX is the data read as a little-endian number printed in hex (so leading zeros
   * can be missing, e.g. `0`): its last two digits are byte 0. Read in that order the Volvo
   * V40 DBC gives plausible signals (0-45 km/h, idle rpm); in wire order it does not.
   */
  daga: {
    header: true,
    time: { column: 'timestamp', unit: 's', base: 'relative' },
    id: { column: 'CAN_ID', format: 'hex' },
    dlc: { column: 'DLC', unit: 'bits' },
    payload: { column: 'PAYLOAD_HEX', pad: 'left', order: 'reversed' },
    label: { column: 'ANOMALY', true: ['True'], false: ['False'] },
  },
  /**
   * ROAD (ORNL) as CSV: `Time,Id,Byte1..Byte8,Label`; time in seconds, hex id and bytes,
   * Label 1 = attack. Other label values are refused, so a typo never passes as "normal".
   */
  road: {
    header: true,
    time: { column: 'Time', unit: 's', base: 'auto' },
    id: { column: 'Id', format: 'hex' },
    bytes: { columns: 'Byte1..Byte8', format: 'hex' },
    label: { column: 'Label', true: ['1', 'True', 'T', 'attack'], false: ['0', 'False', 'F', 'normal'] },
  },
} as const satisfies Record<string, CsvMappingInput>;

export type CsvLayoutName = keyof typeof CSV_LAYOUTS;
export const isCsvLayout = (name: string): name is CsvLayoutName => Object.hasOwn(CSV_LAYOUTS, name);

function problemsOf(error: z.ZodError, where: string): string[] {
  return error.issues.map((i) => `${where}${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`);
}

/** Validate a mapping object; throws ConfigError listing every problem. */
export function parseCsvMapping(input: unknown, where = 'mapping'): CsvMapping {
  const r = csvMappingSchema.safeParse(input);
  if (!r.success) throw new ConfigError(`invalid CSV mapping (${where})`, problemsOf(r.error, ''));
  return r.data;
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep merge of plain objects; arrays and scalars of `over` replace those of `base`, and `null` removes a key (`dlc: null`). */
function merge(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else out[k] = isPlain(v) && isPlain(out[k]) ? merge(out[k], v) : v;
  }
  return out;
}

function layoutObject(name: string, where: string): Plain {
  if (!isCsvLayout(name)) throw new ConfigError(`unknown CSV layout ${JSON.stringify(name)} (${where})`, [`known layouts: ${Object.keys(CSV_LAYOUTS).join(', ')}`]);
  return structuredClone(CSV_LAYOUTS[name]) as Plain;
}

/** `key.path=value` pairs (the `--map` flag) into an object; values are YAML scalars or lists. */
export function mapFlagsObject(pairs: readonly string[]): Plain {
  const out: Plain = {};
  const problems: string[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      problems.push(`${JSON.stringify(pair)}: expected key=value, e.g. time.unit=ms`);
      continue;
    }
    const path = pair.slice(0, eq).trim().split('.');
    const raw = pair.slice(eq + 1).trim();
    let value: unknown = raw;
    const last = path[path.length - 1]!;
    if (last === 'columns' || last === 'true' || last === 'false') value = last === 'columns' ? expandColumns(raw) : raw.split(',');
    else if (raw === 'true' || raw === 'false') value = raw === 'true';
    else if (raw === 'null') value = null;
    else if (last === 'column' && /^-?\d+$/.test(raw)) value = Number(raw);
    let at = out;
    for (const key of path.slice(0, -1)) at = (isPlain(at[key]) ? at[key] : (at[key] = {})) as Plain;
    at[last] = value;
  }
  if (problems.length) throw new ConfigError('invalid --map', problems);
  return out;
}

/**
 * The mapping to use, from (in order, later wins): a layout name, a mapping file's text (YAML
 * or JSON; `extends: <layout>` starts from a layout), and `--map key=value` pairs. Returns
 * undefined when nothing was given (the reader then sniffs the header).
 */
export function resolveCsvMapping(spec: { layout?: string; file?: { text: string; name: string }; map?: readonly string[] }): CsvMapping | undefined {
  let obj: Plain | undefined;
  if (spec.layout !== undefined) obj = layoutObject(spec.layout, '--layout');
  if (spec.file) {
    let doc: unknown;
    try {
      doc = parseYaml(spec.file.text, { prettyErrors: true });
    } catch (e) {
      const where = e instanceof YAMLParseError && e.linePos ? `${spec.file.name}:${e.linePos[0].line}:${e.linePos[0].col}` : spec.file.name;
      throw new ConfigError('invalid CSV mapping file', [`${where}: ${(e as Error).message.split('\n')[0]}`], { cause: e });
    }
    if (!isPlain(doc)) throw new ConfigError('invalid CSV mapping file', [`${spec.file.name}: expected a mapping object`]);
    const { extends: base, ...rest } = doc;
    if (base !== undefined && typeof base !== 'string') throw new ConfigError('invalid CSV mapping file', [`${spec.file.name}: extends: expected a layout name`]);
    const start = base !== undefined ? layoutObject(base, spec.file.name) : (obj ?? {});
    obj = merge(start, rest);
  }
  if (spec.map?.length) obj = merge(obj ?? {}, mapFlagsObject(spec.map));
  return obj === undefined ? undefined : parseCsvMapping(obj, spec.file?.name ?? (spec.layout ? `layout ${spec.layout}` : '--map'));
}

/** Header names lowercased, quotes and spaces trimmed. */
export const headerFields = (line: string, delimiter: string): string[] =>
  line.split(delimiter).map((f) => f.trim().replace(/^"(.*)"$/, '$1').trim());

const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x.toLowerCase() === b[i]!.toLowerCase());

/** The built-in layout whose header this is, if any. */
export function layoutOfHeader(line: string): CsvLayoutName | undefined {
  const f = headerFields(line, ',');
  if (same(f, ['timestamp', 'CAN_ID', 'DLC', 'PAYLOAD_HEX', 'PAYLOAD_BIN', 'ANOMALY'])) return 'daga';
  if (same(f, ['Time', 'Id', ...expandColumns('Byte1..Byte8'), 'Label'])) return 'road';
  return undefined;
}

const GUESS = {
  time: ['timestamp', 'time', 'ts', 'time_s', 'time_ms', 'datetime'],
  id: ['can_id', 'canid', 'id', 'arbitration_id', 'arb_id', 'identifier', 'msg_id'],
  dlc: ['dlc', 'len', 'length'],
  payload: ['payload_hex', 'payload', 'data', 'data_hex', 'hex', 'bytes'],
  label: ['label', 'anomaly', 'flag', 'attack', 'is_attack', 'class', 'y'],
  vehicle: ['vin', 'vehicle'],
  bus: ['bus', 'channel', 'interface', 'iface'],
};
const BYTE_COLUMNS = [/^byte_?(\d+)$/, /^data_?\[?(\d+)\]?$/, /^d(\d+)$/, /^b(\d+)$/];

/**
 * A mapping guessed from header names (`timestamp`/`time`, `id`/`can_id`, `dlc`, `data` or
 * `Byte1..N`/`DATA0..N`, `label`/`flag`, `vin`, `bus`), or undefined when time, id or data is
 * missing. Time unit and base are `auto`; ids hex.
 */
export function guessCsvMapping(headerLine: string): CsvMapping | undefined {
  const delimiter = [',', ';', '\t', '|'].find((d) => headerLine.includes(d)) ?? ',';
  const names = headerFields(headerLine, delimiter);
  const lower = names.map((n) => n.toLowerCase());
  const find = (cands: readonly string[]): string | undefined => {
    for (const c of cands) {
      const k = lower.indexOf(c);
      if (k >= 0) return names[k];
    }
    return undefined;
  };
  const time = find(GUESS.time);
  const id = find(GUESS.id);
  let bytes: string[] | undefined;
  for (const re of BYTE_COLUMNS) {
    const hits = lower.map((n, k) => [re.exec(n), k] as const).filter(([m]) => m !== null);
    if (hits.length > 0) {
      bytes = hits.sort((a, b) => Number(a[0]![1]) - Number(b[0]![1])).map(([, k]) => names[k]!);
      break;
    }
  }
  const payload = bytes ? undefined : find(GUESS.payload);
  if (!time || !id || (!payload && !bytes)) return undefined;
  const dlc = find(GUESS.dlc);
  const label = find(GUESS.label);
  const vehicle = find(GUESS.vehicle);
  const bus = find(GUESS.bus);
  return parseCsvMapping({
    delimiter,
    header: true,
    time: { column: time, unit: 'auto', base: 'auto' },
    id: { column: id, format: 'hex' },
    ...(dlc ? { dlc: { column: dlc } } : {}),
    ...(bytes ? { bytes: { columns: bytes } } : { payload: { column: payload } }),
    ...(label ? { label: { column: label } } : {}),
    ...(vehicle ? { vehicle: { column: vehicle } } : {}),
    ...(bus ? { bus: { column: bus } } : {}),
  });
}
