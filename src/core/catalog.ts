/**
 * The signal catalog: every signal Vigil knows, keyed by its VSS path, with a dense numeric
 * id used on the hot path (batches, twins, detectors). Ids are stable across restarts when
 * the catalog is built with the dictionary the store persisted (`existingIds`).
 */
export type VssDatatype =
  | 'boolean' | 'string'
  | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'int8' | 'int16' | 'int32' | 'int64'
  | 'float' | 'double'
  | `${string}[]`;

export type SignalKind = 'sensor' | 'actuator' | 'attribute';

export interface SignalSpec {
  readonly path: string;
  readonly datatype: VssDatatype;
  readonly kind: SignalKind;
  readonly unit?: string;
  readonly min?: number;
  readonly max?: number;
  readonly allowed?: readonly (string | number)[];
  readonly description?: string;
}

export interface SignalDef extends SignalSpec {
  readonly id: number;
  /** Stored in the numeric value column (numbers, booleans as 0/1); else in the text column. */
  readonly numeric: boolean;
  /** Integer datatypes reject fractional values. */
  readonly integer: boolean;
}

const NUMERIC = new Set(['uint8', 'uint16', 'uint32', 'uint64', 'int8', 'int16', 'int32', 'int64', 'float', 'double', 'boolean']);
const INTEGER = new Set(['uint8', 'uint16', 'uint32', 'uint64', 'int8', 'int16', 'int32', 'int64']);
const TYPE_RANGE: Record<string, [number, number]> = {
  uint8: [0, 255], uint16: [0, 65535], uint32: [0, 4294967295], uint64: [0, Number.MAX_SAFE_INTEGER],
  int8: [-128, 127], int16: [-32768, 32767], int32: [-2147483648, 2147483647],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

export class SignalCatalog {
  private readonly byPath = new Map<string, SignalDef>();
  private readonly byId: SignalDef[] = [];

  /** Build from specs; `existingIds` (path -> id) keeps ids stable, new paths get the next free id. */
  constructor(
    specs: Iterable<SignalSpec>,
    existingIds: ReadonlyMap<string, number> = new Map(),
    readonly version = 'custom',
  ) {
    let next = 0;
    for (const id of existingIds.values()) next = Math.max(next, id + 1);
    for (const spec of specs) {
      if (this.byPath.has(spec.path)) continue;
      const id = existingIds.get(spec.path) ?? next++;
      const range = TYPE_RANGE[spec.datatype];
      const def: SignalDef = {
        ...spec,
        min: spec.min ?? range?.[0],
        max: spec.max ?? range?.[1],
        id,
        numeric: NUMERIC.has(spec.datatype),
        integer: INTEGER.has(spec.datatype),
      };
      this.byPath.set(spec.path, def);
      this.byId[id] = def;
    }
  }

  get size(): number {
    return this.byPath.size;
  }
  /** One past the largest id: the length of a dense per-signal array. */
  get idLimit(): number {
    return this.byId.length;
  }
  get(path: string): SignalDef | undefined {
    return this.byPath.get(path);
  }
  byIdOf(id: number): SignalDef | undefined {
    return this.byId[id];
  }
  has(path: string): boolean {
    return this.byPath.has(path);
  }
  *[Symbol.iterator](): IterableIterator<SignalDef> {
    yield* this.byPath.values();
  }
  /** The id dictionary a store persists to keep ids stable. */
  dictionary(): { id: number; path: string }[] {
    return [...this.byPath.values()].map((d) => ({ id: d.id, path: d.path }));
  }
  /** Plain specs, for handing the catalog to a worker thread. */
  specs(): SignalSpec[] {
    return [...this.byPath.values()].map(({ id: _id, numeric: _n, integer: _i, ...spec }) => spec);
  }
  idMap(): Map<string, number> {
    return new Map([...this.byPath.values()].map((d) => [d.path, d.id]));
  }
}

interface VssNode {
  type?: string;
  datatype?: string;
  unit?: string;
  min?: number;
  max?: number;
  allowed?: (string | number)[];
  description?: string;
  children?: Record<string, VssNode>;
}

/**
 * Flatten a VSS JSON export (the tree that vss-tools' JSON exporter writes) into leaf specs.
 * Branches and structs are walked; every sensor, actuator and attribute with a datatype is a leaf.
 */
export function flattenVss(tree: unknown): SignalSpec[] {
  if (!tree || typeof tree !== 'object') throw new TypeError('VSS export must be a JSON object');
  const out: SignalSpec[] = [];
  const walk = (node: VssNode, path: string): void => {
    if (node.children && (node.type === 'branch' || node.type === undefined)) {
      for (const [name, child] of Object.entries(node.children)) walk(child, `${path}.${name}`);
      return;
    }
    if ((node.type === 'sensor' || node.type === 'actuator' || node.type === 'attribute') && node.datatype) {
      const spec: { -readonly [K in keyof SignalSpec]: SignalSpec[K] } = {
        path,
        datatype: node.datatype as VssDatatype,
        kind: node.type,
      };
      if (node.unit !== undefined) spec.unit = node.unit;
      if (typeof node.min === 'number') spec.min = node.min;
      if (typeof node.max === 'number') spec.max = node.max;
      if (Array.isArray(node.allowed)) spec.allowed = node.allowed;
      if (node.description !== undefined) spec.description = node.description;
      out.push(spec);
    }
  };
  for (const [name, root] of Object.entries(tree as Record<string, VssNode>)) walk(root, name);
  return out;
}
