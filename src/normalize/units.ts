/**
 * Unit conversion for normalization: the VSS unit table (src/core/units.ts) with the reason a
 * value cannot be converted, as a reject (`unit.unknown`, `unit.incompatible`).
 */
import { linear, unitOf, type Linear } from '../core/units.js';
import { reject, type Reject } from '../decode/reject.js';

export { IDENTITY, unitIds, unitOf, type Linear, type UnitDef } from '../core/units.js';

/**
 * The conversion from `from` to `to`, or a reject: `unit.unknown` when either id is not a
 * unit, `unit.incompatible` when they measure different quantities. `what` names the value
 * in the reason (a signal path).
 *
 * @example convert('mph', 'km/h') // { scale: 1.609344, offset: 0 }
 */
export function convert(from: string, to: string, what = 'value'): Linear | Reject {
  const a = unitOf(from);
  if (a === undefined) return reject('unit.unknown', `unknown unit ${JSON.stringify(from.slice(0, 32))} for ${what} (VSS unit ids such as km/h, m/s, mph, celsius, kPa, km, l)`);
  const b = unitOf(to);
  if (b === undefined) return reject('unit.unknown', `${what} has catalog unit ${JSON.stringify(to)}, which is not a known unit`);
  return linear(a, b) ?? reject('unit.incompatible', `${what} is in ${b.id} (${b.quantity}); ${a.id} measures ${a.quantity}`);
}

export const isLinear = (c: Linear | Reject): c is Linear => 'scale' in c;
