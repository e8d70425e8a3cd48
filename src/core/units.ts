/**
 * Units of measure by their VSS unit id (COVESA VSS `spec/units.yaml`): each unit is a
 * quantity and the linear map to that quantity's base unit (`base = value * factor + offset`),
 * so any two units of one quantity convert with one multiply-add. Quantity names are VSS's.
 *
 * A few units that vehicles and back ends send but VSS does not list are added (`mph`, `mi`,
 * `ft`, `K`, `bar`, `hPa`, `gal`, `Wh`, ...); they are marked below. Ids are case-sensitive
 * (`PS` is horsepower, `Pa` pascal): the only alias is `Celsius`, which VSS 6.0 exports use
 * for `celsius`. Units without a fixed linear relation to the others of their VSS quantity
 * (dB, dBm, months, years, mpge) get a quantity of their own: they pass unchanged when
 * sender and catalog agree, and refuse to convert otherwise.
 */

export interface UnitDef {
  readonly id: string;
  /** VSS quantity (`velocity`, `temperature`, ...); only units of one quantity convert. */
  readonly quantity: string;
  /** `base = value * factor + offset`. */
  readonly factor: number;
  readonly offset: number;
}

/** `to = from * scale + offset`: a precomputed conversion between two units. */
export interface Linear {
  readonly scale: number;
  readonly offset: number;
}

const MILE_M = 1609.344;
const US_GALLON_L = 3.785411784;
const UK_GALLON_L = 4.54609;

/** quantity -> unit id -> [factor, offset] to the quantity's base (the unit with factor 1). */
const TABLE: Readonly<Record<string, Readonly<Record<string, readonly [number, number?]>>>> = {
  length: { mm: [0.001], cm: [0.01], m: [1], km: [1000], inch: [0.0254], /* not VSS: */ ft: [0.3048], yd: [0.9144], mi: [MILE_M] },
  velocity: { 'km/h': [1000 / 3600], 'm/s': [1], /* not VSS: */ mph: [MILE_M / 3600], kn: [1852 / 3600] },
  acceleration: { 'm/s^2': [1], 'cm/s^2': [0.01] },
  volume: { ml: [0.001], l: [1], 'cm^3': [0.001], /* not VSS: */ gal: [US_GALLON_L], 'gal-uk': [UK_GALLON_L] },
  temperature: { celsius: [1], fahrenheit: [5 / 9, -160 / 9], /* not VSS: */ K: [1, -273.15] },
  angle: { degrees: [1], /* not VSS: */ rad: [180 / Math.PI] },
  'angular-speed': { 'degrees/s': [1], 'rad/s': [180 / Math.PI] },
  power: { W: [1], kW: [1000], PS: [735.49875] },
  work: { kWh: [1000], /* not VSS: */ Wh: [1], J: [1 / 3600], kJ: [1000 / 3600], MJ: [1e6 / 3600] },
  mass: { g: [0.001], kg: [1], lbs: [0.45359237] },
  voltage: { V: [1], /* not VSS: */ mV: [0.001] },
  'electric-current': { A: [1], /* not VSS: */ mA: [0.001] },
  'electric-charge': { Ah: [1], /* not VSS: */ mAh: [0.001] },
  duration: { ms: [0.001], s: [1], min: [60], h: [3600], day: [86_400], weeks: [604_800] },
  months: { months: [1] },
  years: { years: [1] },
  datetime: { 'unix-time': [1] },
  'datetime-text': { iso8601: [1] },
  pressure: { mbar: [100], Pa: [1], kPa: [1000], psi: [6894.757293168361], /* not VSS: */ hPa: [100], bar: [100_000] },
  rating: { stars: [1] },
  'mass-per-time': { 'g/s': [1], /* not VSS: */ 'kg/h': [1000 / 3600] },
  'mass-per-distance': { 'g/km': [1] },
  'energy-consumption-per-distance': { 'kWh/100km': [10], 'Wh/km': [1] },
  'volume-per-distance': { 'ml/100km': [0.001], 'l/100km': [1] },
  'volume-flow-rate': { 'l/h': [1] },
  // mpg-us, mpg-uk and mpg (VSS: deprecated alias of mpg-us) are distance per volume; mpge
  // is distance per energy (33.7 kWh) although VSS files it there, so it converts to nothing.
  'distance-per-volume': { 'km/l': [1], 'mpg-us': [MILE_M / 1000 / US_GALLON_L], mpg: [MILE_M / 1000 / US_GALLON_L], 'mpg-uk': [MILE_M / 1000 / UK_GALLON_L] },
  'distance-per-energy': { mpge: [1] },
  force: { N: [1], kN: [1000] },
  torque: { Nm: [1] },
  'rotational-speed': { rpm: [1] },
  frequency: { Hz: [1], cpm: [1 / 60], bpm: [1 / 60] },
  relation: { ratio: [1], percent: [0.01], 'nm/km': [1e-12] },
  'level-dBm': { dBm: [1] },
  'level-dB': { dB: [1] },
  resistance: { Ohm: [1] },
  illuminance: { lx: [1] },
};

const ALIASES: Readonly<Record<string, string>> = { Celsius: 'celsius' };

const UNITS: ReadonlyMap<string, UnitDef> = (() => {
  const m = new Map<string, UnitDef>();
  for (const [quantity, units] of Object.entries(TABLE)) {
    for (const [id, [factor, offset = 0]] of Object.entries(units)) m.set(id, { id, quantity, factor, offset });
  }
  for (const [alias, id] of Object.entries(ALIASES)) m.set(alias, m.get(id)!);
  return m;
})();

/** The unit with this VSS id (or alias), or undefined. */
export function unitOf(id: string): UnitDef | undefined {
  return UNITS.get(id);
}

/** Every unit id this table knows, aliases included. */
export function unitIds(): string[] {
  return [...UNITS.keys()];
}

/** The identity conversion. */
export const IDENTITY: Linear = { scale: 1, offset: 0 };

/** `to = from * scale + offset`, or undefined when either id is unknown or they measure different quantities. */
export function linear(from: UnitDef, to: UnitDef): Linear | undefined {
  if (from.quantity !== to.quantity) return undefined;
  if (from === to || (from.factor === to.factor && from.offset === to.offset)) return IDENTITY;
  return { scale: from.factor / to.factor, offset: (from.offset - to.offset) / to.factor };
}
