/**
 * Joins what the parser collected into a `DbcDatabase` and checks it: signals that do not fit
 * (errors when no decoder could read them, warnings when only the declared size is exceeded),
 * duplicate messages and signals, float signals of the wrong length, multiplexing that cannot
 * be resolved, and statements that refer to a message or signal the file does not define.
 */
import type { At, Drafts, MessageDraft, SignalDraft, Target } from './drafts.js';
import { bytesNeeded, MAX_SIGNAL_BITS } from './layout.js';
import { CAN_MAX_DATA } from '../../core/can.js';
import { formatCanId, INDEPENDENT_SIGNALS, type DbcAttributeValue, type DbcDatabase, type DbcMessage, type DbcMuxCondition, type DbcNode, type DbcParseResult, type DbcSignal, type DbcValueType } from './model.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Attrs = Record<string, DbcAttributeValue>;
type MessageBuild = Mutable<DbcMessage> & { signals: Mutable<DbcSignal>[]; attributes: Attrs };
const VALUE_TYPES: readonly DbcValueType[] = ['integer', 'float', 'double'];

export function link(d: Drafts, file: string): DbcParseResult {
  const report = (severity: 'error' | 'warning', at: At, message: string): void => {
    d.diagnostics.push({ severity, file, line: at.line, col: at.col, message });
  };

  // Messages and their signals.
  const messages = new Map<number, MessageBuild>();
  const byName = new Map<string, MessageDraft>();
  for (const m of d.messages) {
    const first = messages.get(m.id);
    if (first) {
      report('error', m, `message ${formatCanId(m.id)} ${m.name} is defined twice (first at line ${first.line} as ${first.name}); this one is ignored`);
      continue;
    }
    const twin = byName.get(m.name);
    if (twin) report('warning', m, `message name ${m.name} is used twice (also ${formatCanId(twin.id)} at line ${twin.line}): refer to these messages by id`);
    else byName.set(m.name, m);
    if (m.size > CAN_MAX_DATA) report('error', m, `message ${m.name} declares ${m.size} bytes; CAN FD frames carry at most ${CAN_MAX_DATA}`);
    const signals: Mutable<DbcSignal>[] = [];
    const seen = new Map<string, SignalDraft>();
    for (const s of m.signals) {
      const dup = seen.get(s.name);
      if (dup) {
        report('error', s, `signal ${s.name} is defined twice in message ${m.name} (first at line ${dup.line}); this one is ignored`);
        continue;
      }
      seen.set(s.name, s);
      if (!checkLayout(s, m, report)) continue;
      signals.push({
        name: s.name, startBit: s.startBit, length: s.length, byteOrder: s.byteOrder, signed: s.signed, valueType: 'integer',
        factor: s.factor, offset: s.offset, min: s.min, max: s.max, unit: s.unit, receivers: s.receivers,
        multiplexor: s.multiplexor, ...(s.muxValue !== undefined ? { muxValue: s.muxValue } : {}), attributes: {}, line: s.line,
      });
    }
    messages.set(m.id, {
      id: m.id, extended: m.id >>> 31 === 1, name: m.name, size: m.size, transmitter: m.transmitter, transmitters: [],
      signals, attributes: {}, line: m.line,
    });
  }

  const findMessage = (id: number, at: At, what: string): MessageBuild | undefined => {
    const m = messages.get(id);
    if (!m) report('warning', at, `${what} refers to message ${formatCanId(id)}, which this file does not define: ignored`);
    return m;
  };
  const findSignal = (id: number, name: string, at: At, what: string): Mutable<DbcSignal> | undefined => {
    const m = findMessage(id, at, what);
    const s = m?.signals.find((x) => x.name === name);
    if (m && !s) report('warning', at, `${what} refers to signal ${name}, which message ${m.name} (${formatCanId(id)}) does not have: ignored`);
    return s;
  };

  for (const v of d.valueTypes) {
    const s = findSignal(v.id, v.signal, v, 'SIG_VALTYPE_');
    if (!s) continue;
    const want = v.type === 1 ? 32 : v.type === 2 ? 64 : 0;
    if (want && s.length !== want) report('error', v, `${v.type === 1 ? 'float' : 'double'} signal ${s.name} must be ${want} bits long, not ${s.length}`);
    else s.valueType = VALUE_TYPES[v.type]!;
  }
  for (const v of d.values) {
    const s = findSignal(v.id, v.signal, v, 'VAL_');
    if (s) s.values = v.table;
  }
  for (const s of d.senders) {
    const m = findMessage(s.id, s, 'BO_TX_BU_');
    if (m) m.transmitters = [...m.transmitters, ...s.nodes];
  }
  resolveMultiplexing(d, messages, findSignal, report);

  // Comments and attributes.
  const nodes = new Map<string, Mutable<DbcNode> & { attributes: Attrs }>(d.nodes.map((name) => [name, { name, attributes: {} }]));
  const network: { comment?: string; attributes: Attrs } = { attributes: {} };
  const holder = (t: Target, at: At, what: string): { comment?: string; attributes: Attrs } | undefined => {
    switch (t.kind) {
      case 'network':
        return network;
      case 'node': {
        const n = nodes.get(t.name);
        if (!n) report('warning', at, `${what} refers to node ${t.name}, which BU_ does not list: ignored`);
        return n;
      }
      case 'message':
        return findMessage(t.id, at, what);
      case 'signal':
        return findSignal(t.id, t.signal, at, what) as { comment?: string; attributes: Attrs } | undefined;
      case 'envvar':
        return undefined; // environment variables are skipped (warned where declared)
    }
  };
  for (const c of d.comments) {
    const h = holder(c.target, c, 'CM_');
    if (h) h.comment = c.text;
  }
  const defs = new Map([...d.attributeDefs].map(([name, def]) => [name, { ...def } as Mutable<typeof def>]));
  for (const x of d.defaults) {
    const def = defs.get(x.name);
    if (!def) report('warning', x, `BA_DEF_DEF_ gives a default for attribute "${x.name}", which no BA_DEF_ defines: ignored`);
    else def.default = x.value;
  }
  for (const a of d.attributes) {
    if (!defs.has(a.name)) report('warning', a, `BA_ sets attribute "${a.name}", which no BA_DEF_ defines`);
    const h = holder(a.target, a, `BA_ "${a.name}"`);
    if (h) h.attributes[a.name] = a.value;
  }

  const db: DbcDatabase = {
    file,
    version: d.version,
    nodes: [...nodes.values()],
    messages: [...messages.values()],
    valueTables: d.valueTables,
    attributeDefs: new Map([...defs].map(([name, { line: _l, col: _c, ...def }]) => [name, def])),
    attributes: network.attributes,
    ...(network.comment !== undefined ? { comment: network.comment } : {}),
    imports: d.imports,
  };
  const byPlace = (a: At, b: At): number => a.line - b.line || a.col - b.col;
  return {
    db,
    errors: d.diagnostics.filter((x) => x.severity === 'error').sort(byPlace),
    warnings: d.diagnostics.filter((x) => x.severity === 'warning').sort(byPlace),
  };
}

/** False when no decoder could read the signal (it is then left out, with an error). */
function checkLayout(s: SignalDraft, m: MessageDraft, report: (s: 'error' | 'warning', at: At, m: string) => void): boolean {
  if (s.length < 1 || s.length > MAX_SIGNAL_BITS) {
    report('error', s, `signal ${s.name} is ${s.length} bits long; signals have 1 to ${MAX_SIGNAL_BITS} bits`);
    return false;
  }
  const need = bytesNeeded(s.startBit, s.length, s.byteOrder);
  if (need > CAN_MAX_DATA) {
    report('error', s, `signal ${s.name} (start bit ${s.startBit}, ${s.length} bits, ${s.byteOrder === 'big_endian' ? 'Motorola' : 'Intel'}) reaches byte ${need - 1}, past the ${CAN_MAX_DATA} bytes of any CAN frame`);
    return false;
  }
  if (need > m.size && m.name !== INDEPENDENT_SIGNALS) {
    report('warning', s, `signal ${s.name} (start bit ${s.startBit}, ${s.length} bits, ${s.byteOrder === 'big_endian' ? 'Motorola' : 'Intel'}) needs ${need} byte(s) but message ${m.name} declares ${m.size}: decoded only from frames long enough`);
  }
  return true;
}

type SignalFinder = (id: number, name: string, at: At, what: string) => Mutable<DbcSignal> | undefined;

/**
 * `mN` means "present when the message's switch (`M`) reads N"; SG_MUL_VAL_ (extended
 * multiplexing) names the switch and value ranges explicitly and wins over `mN`.
 */
function resolveMultiplexing(
  d: Drafts,
  messages: Map<number, { name: string; signals: Mutable<DbcSignal>[]; line: number }>,
  findSignal: SignalFinder,
  report: (s: 'error' | 'warning', at: At, m: string) => void,
): void {
  const explicit = new Set<Mutable<DbcSignal>>();
  for (const x of d.muxValues) {
    const s = findSignal(x.id, x.signal, x, 'SG_MUL_VAL_');
    if (!s) continue;
    const m = messages.get(x.id)!;
    const sw = m.signals.find((y) => y.name === x.switchName);
    if (!sw) report('error', x, `SG_MUL_VAL_ names ${x.switchName} as the switch of ${s.name}, but message ${m.name} has no such signal`);
    else if (!sw.multiplexor) report('error', x, `SG_MUL_VAL_ names ${x.switchName} as the switch of ${s.name}, but ${x.switchName} is not a multiplexor (M or mNM)`);
    else {
      const prior = explicit.has(s) ? s.mux : undefined;
      // Several SG_MUL_VAL_ lines for one signal (one per switch) are not chained here: the last wins.
      if (prior) report('warning', x, `signal ${s.name} has more than one SG_MUL_VAL_; only this one is used`);
      s.mux = { switchName: x.switchName, ranges: x.ranges };
      explicit.add(s);
    }
  }
  for (const m of messages.values()) {
    const switches = m.signals.filter((s) => s.multiplexor);
    for (const s of m.signals) {
      if (s.muxValue === undefined || explicit.has(s)) continue;
      // Without SG_MUL_VAL_, `mN` refers to the message's top-level switch (`M`, not itself multiplexed).
      const candidates = switches.filter((x) => x !== s && x.muxValue === undefined);
      if (candidates.length === 1) {
        s.mux = { switchName: candidates[0]!.name, ranges: [[s.muxValue, s.muxValue]] } satisfies DbcMuxCondition;
      } else {
        const why = candidates.length === 0 ? 'the message has no multiplexor (M) signal' : `the message has ${candidates.length} top-level multiplexors (${candidates.map((x) => x.name).join(', ')}) and no SG_MUL_VAL_ says which one applies`;
        report('error', { line: s.line, col: 1 }, `signal ${s.name} of message ${m.name} is multiplexed (m${s.muxValue}) but ${why}`);
      }
    }
    // A cycle of switches (a mNM chain that loops) could never be decoded.
    for (const s of switches) {
      const seen = new Set<string>([s.name]);
      for (let cur = s.mux; cur; ) {
        if (seen.has(cur.switchName)) {
          report('error', { line: s.line, col: 1 }, `multiplexor ${s.name} of message ${m.name} depends on itself through ${[...seen].join(' -> ')}`);
          delete s.mux;
          break;
        }
        seen.add(cur.switchName);
        cur = m.signals.find((x) => x.name === cur!.switchName)?.mux;
      }
    }
  }
}
