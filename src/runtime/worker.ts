/**
 * Worker thread entry: owns one Lane (twins and detector state of its partitions). It
 * receives hand-overs of raw messages (packed, see handover.ts) and answers each with the
 * lane's output; signal batches are transferred, not copied. Twin summaries ride along at
 * most every 5 s.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { transferables } from '../core/batch.js';
import { canTransferables, type CanFrameBatch } from '../core/can.js';
import { systemClock } from '../core/clock.js';
import { answerTwinRequest, type TwinAnswer, type TwinRequest } from '../twin/requests.js';
import { unpackItems, type PackedItems } from './handover.js';
import type { Indicator } from '../intel/model.js';
import { Lane, type CustomRuleChange, type LaneOptions, type RuleTuningEntry } from './lane.js';

export type ToWorker =
  | { readonly type: 'items'; readonly id: number; readonly packed: PackedItems }
  | { readonly type: 'frames'; readonly id: number; readonly batch: CanFrameBatch }
  | { readonly type: 'flush-vehicles'; readonly id: number }
  /** Judge absence rules against the clock (answered with an `out`). */
  | { readonly type: 'tick'; readonly id: number }
  | { readonly type: 'twin'; readonly id: number; readonly request: TwinRequest }
  /** A tenant's own rule added or removed (checked by the pipeline); not answered. */
  | { readonly type: 'custom'; readonly id: number; readonly change: CustomRuleChange }
  /** Per-tenant rule tuning (checked by the pipeline); not answered. */
  | { readonly type: 'tune'; readonly id: number; readonly tuning: RuleTuningEntry }
  /** Replace the STIX indicator set (checked by the pipeline); not answered. */
  | { readonly type: 'indicators'; readonly id: number; readonly indicators: readonly Indicator[] };

export type FromWorker =
  | { readonly type: 'out'; readonly id: number; readonly out: ReturnType<Lane['process']>; readonly vehicles: ReturnType<Lane['takeVehicleUpdates']> }
  | { readonly type: 'vehicles'; readonly id: number; readonly vehicles: ReturnType<Lane['takeVehicleUpdates']> }
  | { readonly type: 'twin'; readonly id: number; readonly answer: TwinAnswer }
  | { readonly type: 'error'; readonly id: number; readonly message: string };

/** How often twin summaries are sent for the vehicles table. */
export const VEHICLE_SUMMARY_INTERVAL_MS = 5000;

if (parentPort) {
  const port = parentPort;
  const lane = new Lane(workerData as LaneOptions, systemClock);
  let lastSummary = 0;
  /** A dead letter keeps its own copy of the raw bytes, not a view pinning the whole hand-over. */
  const processPacked = (packed: PackedItems): ReturnType<Lane['process']> => {
    const out = lane.process(unpackItems(packed));
    const shared = packed.bytes.buffer;
    for (let i = 0; i < out.deadLetters.length; i++) {
      const d = out.deadLetters[i]!;
      if (d.raw.buffer === shared) out.deadLetters[i] = { ...d, raw: d.raw.slice() };
    }
    return out;
  };
  port.on('message', (msg: ToWorker) => {
    try {
      if (msg.type === 'items' || msg.type === 'frames' || msg.type === 'tick') {
        const out = msg.type === 'items' ? processPacked(msg.packed) : msg.type === 'frames' ? lane.processFrames(msg.batch) : lane.tick();
        const now = Date.now();
        const vehicles = now - lastSummary >= VEHICLE_SUMMARY_INTERVAL_MS ? lane.takeVehicleUpdates() : [];
        if (vehicles.length) lastSummary = now;
        const reply: FromWorker = { type: 'out', id: msg.id, out, vehicles };
        port.postMessage(reply, [...out.batches.flatMap(transferables), ...(out.frames ?? []).flatMap((f) => canTransferables(f.batch))]);
      } else if (msg.type === 'tune') {
        const problems = lane.tune(msg.tuning.tenant, msg.tuning.rule, msg.tuning.params);
        if (problems.length) throw new Error(`rule tuning of ${msg.tuning.rule} for ${msg.tuning.tenant} not applied: ${problems.join('; ')}`);
      } else if (msg.type === 'indicators') {
        lane.setIndicators(msg.indicators);
      } else if (msg.type === 'custom') {
        const problems = lane.custom(msg.change);
        if (problems.length) throw new Error(`custom detection ${msg.change.op === 'add' ? msg.change.rule.id : msg.change.id} not applied: ${problems.join('; ')}`);
      } else if (msg.type === 'twin') {
        const { answer, transfer } = answerTwinRequest(lane.twins, msg.request);
        port.postMessage({ type: 'twin', id: msg.id, answer } satisfies FromWorker, transfer);
      } else {
        const reply: FromWorker = { type: 'vehicles', id: msg.id, vehicles: lane.takeVehicleUpdates() };
        port.postMessage(reply);
      }
    } catch (e) {
      // A bug in a lane must not lose the hand-over silently: the pipeline dead-letters it.
      port.postMessage({ type: 'error', id: msg.id, message: (e as Error).stack ?? String(e) } satisfies FromWorker);
    }
  });
}
