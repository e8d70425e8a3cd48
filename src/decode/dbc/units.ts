/**
 * Linear unit conversions between the units DBC files write (`km/h`, `kph`, `%`, `degC`, ...)
 * and the units VSS uses (`km/h`, `percent`, `celsius`, ...). Each unit is a quantity and the
 * factor and offset that take it to that quantity's base unit; two units convert when their
 * quantities match. A unit not listed here is unknown: the mapping then takes the DBC value
 * as it is, unless it says otherwise (`scale`, `offset`, `unit`).
 */

interface UnitDef {
  readonly quantity: string;
  /** base = value * factor + offset */
  readonly factor: number;
  readonly offset: number;
}

const u = (quantity: string, factor = 1, offset = 0): UnitDef => ({ quantity, factor, offset });

const UNITS: Record<string, UnitDef> = {
  'm/s': u('speed'), 'km/h': u('speed', 1 / 3.6), kph: u('speed', 1 / 3.6), kmh: u('speed', 1 / 3.6), mph: u('speed', 0.44704),
  m: u('length'), km: u('length', 1000), cm: u('length', 0.01), mm: u('length', 0.001), mi: u('length', 1609.344), ft: u('length', 0.3048),
  degrees: u('angle'), deg: u('angle'), '°': u('angle'), rad: u('angle', 180 / Math.PI),
  'degrees/s': u('angular speed'), 'deg/s': u('angular speed'), 'rad/s': u('angular speed', 180 / Math.PI),
  rpm: u('rotation'), '1/min': u('rotation'),
  celsius: u('temperature'), degc: u('temperature'), '°c': u('temperature'),
  fahrenheit: u('temperature', 5 / 9, -32 * (5 / 9)), degf: u('temperature', 5 / 9, -32 * (5 / 9)), k: u('temperature', 1, -273.15),
  percent: u('ratio'), '%': u('ratio'), pct: u('ratio'),
  pa: u('pressure'), kpa: u('pressure', 1000), hpa: u('pressure', 100), bar: u('pressure', 100_000), mbar: u('pressure', 100), psi: u('pressure', 6894.757293168),
  'm/s^2': u('acceleration'), 'm/s2': u('acceleration'),
  v: u('voltage'), mv: u('voltage', 0.001), a: u('current'), ma: u('current', 0.001),
  w: u('power'), kw: u('power', 1000), nm: u('torque'),
  s: u('time'), ms: u('time', 0.001), min: u('time', 60), h: u('time', 3600),
  l: u('volume'), ml: u('volume', 0.001),
};

const lookup = (unit: string): UnitDef | undefined => UNITS[unit.trim().toLowerCase()];

/** Whether the unit is one this table knows. */
export const knownUnit = (unit: string): boolean => lookup(unit) !== undefined;

/**
 * `to = from * factor + offset`, or undefined when either unit is unknown or they measure
 * different things. Identical units give factor 1, offset 0.
 */
export function unitConversion(from: string, to: string): { factor: number; offset: number } | undefined {
  const a = lookup(from);
  const b = lookup(to);
  if (!a || !b || a.quantity !== b.quantity) return undefined;
  if (a === b || (a.factor === b.factor && a.offset === b.offset)) return { factor: 1, offset: 0 };
  return { factor: a.factor / b.factor, offset: (a.offset - b.offset) / b.factor };
}
