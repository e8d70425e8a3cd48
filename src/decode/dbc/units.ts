/**
 * The units DBC files write (`km/h`, `kph`, `%`, `degC`, `Nm`, `KW`, ...) read as VSS unit ids,
 * so a DBC signal converts to its VSS signal with the one unit table Vigil has
 * (src/core/units.ts). A DBC unit is its VSS id as written, else one of the spellings below,
 * else a VSS id that matches ignoring case (`kpa`, `V`/`v`). A unit none of these name is
 * unknown: the mapping then takes the DBC value as it is, unless it says otherwise (`scale`,
 * `offset`, `unit`).
 */
import { linear, unitIds, unitOf, type UnitDef } from '../../core/units.js';

/** Spellings seen in DBC files (lower case) -> VSS unit id. */
const DBC_SPELLINGS: Readonly<Record<string, string>> = {
  kph: 'km/h', kmh: 'km/h', 'km/hr': 'km/h',
  deg: 'degrees', '°': 'degrees', 'deg/s': 'degrees/s', '°/s': 'degrees/s',
  degc: 'celsius', '°c': 'celsius', 'deg c': 'celsius', degf: 'fahrenheit', '°f': 'fahrenheit',
  '%': 'percent', pct: 'percent',
  '1/min': 'rpm', 'u/min': 'rpm',
  'm/s2': 'm/s^2', 'm/s²': 'm/s^2',
  sec: 's',
  ltr: 'l',
};

/** VSS unit ids by their lower-case spelling (the first id of each spelling wins; none collide today). */
const BY_LOWER: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>();
  for (const id of unitIds()) if (!m.has(id.toLowerCase())) m.set(id.toLowerCase(), id);
  return m;
})();

/** The VSS unit a DBC unit string names, or undefined. */
export function dbcUnit(unit: string): UnitDef | undefined {
  const t = unit.trim();
  const exact = unitOf(t);
  if (exact) return exact;
  const lower = t.toLowerCase();
  const id = DBC_SPELLINGS[lower] ?? BY_LOWER.get(lower);
  return id === undefined ? undefined : unitOf(id);
}

/** Whether the unit is one Vigil knows. */
export const knownUnit = (unit: string): boolean => dbcUnit(unit) !== undefined;

/**
 * `to = from * factor + offset`, or undefined when either unit is unknown or they measure
 * different things. Identical units give factor 1, offset 0.
 */
export function unitConversion(from: string, to: string): { factor: number; offset: number } | undefined {
  const a = dbcUnit(from);
  const b = dbcUnit(to);
  const c = a && b ? linear(a, b) : undefined;
  return c && { factor: c.scale, offset: c.offset };
}
