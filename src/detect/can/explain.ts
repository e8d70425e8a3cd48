/**
 * The words of an alert: why a model fired on a frame, with the observed value and what the
 * profile expected. Called only when an alert is raised, never per frame.
 */
import type { CanFrameBatch } from '../../core/can.js';
import { NO_BYTE, stepDistance, type CompiledProfile } from './compiled.js';
import { MODEL_BYTES } from './learn.js';
import type { ModelName } from './profile.js';
import type { SignalRanges } from './signals.js';

/** The detector state an explanation reads (before the frame is applied). */
export interface ExplainState {
  readonly lastT: Float64Array;
  readonly lastSeen: Float64Array;
  readonly prev: Uint8Array;
  readonly history: Int32Array;
  readonly historyLen: number;
}

export interface Explanation {
  readonly reason: string;
  readonly observed: number | string;
  readonly expected: string;
}

/** CAN id as candump prints it; extended ids as 8 hex digits and `x`. */
export const hexId = (id: number): string => ((id & 0x80000000) !== 0 ? (id & 0x1fffffff).toString(16).padStart(8, '0') + 'x' : id.toString(16).padStart(3, '0'));
const hex8 = (v: number): string => `0x${v.toString(16).padStart(2, '0')}`;

/** Why `model` fired on frame `frame` (id slot `s`) of batch `b`; `pred` is when the frame was due. */
export function explainFinding(c: CompiledProfile, st: ExplainState, signals: SignalRanges | undefined, s: number, model: ModelName, t: number, frame: number, pred: number, b: CanFrameBatch): Explanation {
  const id = hexId(c.ids[s]!);
  const ms = (x: number): string => `${x.toFixed(3)} ms`;
  const at = frame * b.stride;
  const byte = (k: number): number => b.data[at + k]!;
  switch (model) {
    case 'timing':
      return c.periodic[s]
        ? { reason: `${id} came ${ms(pred - t)} before it was due`, observed: +(t - st.lastT[s]!).toFixed(3), expected: `period ${ms(c.period[s]!)}, at most ${ms(c.earlyTol[s]!)} early` }
        : { reason: `${id} came ${ms(t - st.lastT[s]!)} after the previous one`, observed: +(t - st.lastT[s]!).toFixed(3), expected: `gap >= ${ms(c.minGap[s]!)}` };
    case 'suspension':
      return { reason: `${id} was silent for ${ms(t - st.lastSeen[s]!)}`, observed: +(t - st.lastSeen[s]!).toFixed(3), expected: `gap <= ${ms(c.suspendAfter[s]!)}` };
    case 'dlc':
      return { reason: `${id} with ${b.dlc[frame]} data bytes`, observed: b.dlc[frame]!, expected: `one of ${c.profile.ids[s]!.dlcs.join(', ')}` };
    case 'payload': {
      const ms8 = s * MODEL_BYTES;
      for (let k = 0; k < Math.min(c.bytes[s]!, b.dlc[frame]!); k++) {
        const v = byte(k);
        if ((v & c.constMask[ms8 + k]!) !== c.constValue[ms8 + k]!)
          return { reason: `${id} byte ${k}: bits ${hex8(c.constMask[ms8 + k]!)} were always ${hex8(c.constValue[ms8 + k]!)}`, observed: hex8(v), expected: `${hex8(v & ~c.constMask[ms8 + k]! | c.constValue[ms8 + k]!)} under mask ${hex8(c.constMask[ms8 + k]!)}` };
        if (v < c.lo[ms8 + k]! || v > c.hi[ms8 + k]!)
          return { reason: `${id} byte ${k} out of its learnt range`, observed: v, expected: `${c.lo[ms8 + k]}..${c.hi[ms8 + k]}` };
      }
      return { reason: `${id} payload`, observed: '', expected: '' };
    }
    case 'step': {
      const ms8 = s * MODEL_BYTES;
      const periods = c.periodic[s] && st.lastT[s] === st.lastT[s] ? Math.max(1, Math.round((t - st.lastT[s]!) / c.period[s]!)) : 1;
      for (let k = 0; k < Math.min(c.bytes[s]!, b.dlc[frame]!); k++) {
        const lim = c.stepLimit[ms8 + k]!;
        const mean = c.stepMean[ms8 + k]!;
        const dist = stepDistance(byte(k), st.prev[ms8 + k]!, mean * periods);
        if (lim !== NO_BYTE && dist > lim * periods) {
          const over = periods > 1 ? ` over ${periods} periods` : '';
          return { reason: `${id} byte ${k} went from ${st.prev[ms8 + k]} to ${byte(k)}${over}`, observed: byte(k) - st.prev[ms8 + k]!, expected: `a change within ${lim * periods} of ${+(mean * periods).toFixed(2)}` };
        }
      }
      return { reason: `${id} payload step`, observed: '', expected: '' };
    }
    case 'ngram': {
      const seq = [...st.history.subarray(0, st.historyLen)].map((x) => hexId(c.ids[x]!));
      return { reason: `id sequence ${[...seq, id].join(' ')} never seen in training`, observed: [...seq, id].join(' '), expected: `one of ${c.grams?.size ?? 0} learnt ${c.n}-grams` };
    }
    case 'signal':
      return { reason: `${id}: ${signals?.describe(c.ids[s]!, b.data, at, b.dlc[frame]!) ?? 'signal out of range'}`, observed: '', expected: 'learnt signal ranges' };
    default:
      return { reason: `${id} unknown`, observed: id, expected: 'a learnt id' };
  }
}
