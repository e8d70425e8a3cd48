/**
 * What the pipeline may ask of a worker's twins, and the answers: one request/response pair
 * that rides the worker's message port (or is answered in place for inline lanes). Bulk
 * bytes (checkpoints) are listed as transferables so they move, not copy.
 */
import { decodeTwins, encodeTwins } from './checkpoint.js';
import type { VehicleIdentity } from './cohorts.js';
import type { TwinRegistry, TwinView } from './twins.js';

export type TwinRequest =
  | { readonly op: 'view'; readonly tenant: string; readonly vehicle: string }
  | { readonly op: 'checkpoint' }
  | { readonly op: 'restore'; readonly bytes: Uint8Array }
  | { readonly op: 'identify'; readonly tenant: string; readonly time: number; readonly vehicles: readonly { readonly id: string; readonly identity: VehicleIdentity }[] };

export type TwinAnswer =
  | { readonly op: 'view'; readonly view: TwinView | undefined }
  | { readonly op: 'checkpoint'; readonly bytes: Uint8Array; readonly twins: number }
  | { readonly op: 'restore'; readonly twins: number }
  | { readonly op: 'identify'; readonly count: number };

/** Answer a request against `twins`; `transfer` lists the buffers the answer may hand over. */
export function answerTwinRequest(twins: TwinRegistry, req: TwinRequest): { answer: TwinAnswer; transfer: ArrayBuffer[] } {
  switch (req.op) {
    case 'view':
      return { answer: { op: 'view', view: twins.view(req.tenant, req.vehicle) }, transfer: [] };
    case 'checkpoint': {
      const bytes = encodeTwins(twins);
      return { answer: { op: 'checkpoint', bytes, twins: twins.size }, transfer: [bytes.buffer as ArrayBuffer] };
    }
    case 'restore':
      return { answer: { op: 'restore', twins: decodeTwins(twins, req.bytes) }, transfer: [] };
    case 'identify':
      for (const v of req.vehicles) twins.identify(req.tenant, v.id, v.identity, req.time);
      return { answer: { op: 'identify', count: req.vehicles.length }, transfer: [] };
  }
}
