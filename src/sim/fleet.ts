/**
 * The simulated fleet's identity. A vehicle is an index; what it is (make, model, year,
 * trim, region, software, VIN, owner account) is derived from `hash(seed, index)` on
 * demand, so a million vehicles cost three bytes each here, and the same seed always
 * yields the same fleet.
 */
import { makeVin } from '../normalize/vin.js';
import { hash32, hashUnit, mix32 } from './prng.js';
import { MODELS, REGIONS, SOFTWARE, hasBattery, hasEngine, type ModelDef, type Powertrain } from './models.js';

/** Largest fleet: VIN serials are unique per block of a million, blocks get distinct plant codes. */
export const MAX_VEHICLES = 10_000_000;

/** Who a vehicle is: what the runtime registers (after pseudonymizing the VIN). */
export interface VehicleIdentity {
  readonly index: number;
  readonly vin: string;
  readonly tenant: string;
  readonly make: string;
  readonly model: string;
  readonly year: number;
  readonly trim: string;
  readonly region: string;
  readonly powertrain: Powertrain;
  /** ECU name (TCU, IVI, GW, BMS or ECM, ADAS) -> software version. */
  readonly software: Readonly<Record<string, string>>;
  /** The owner's account in the back end (mobile app, telematics API). */
  readonly account: string;
}

const SALT = { model: 1, region: 2, city: 3, year: 4, trim: 5, tenant: 6, software: 16 } as const;
const BLOCK = 1_000_000;
/** Multiplier of the serial permutation: coprime with 10^6, so serials are unique per block. */
const SERIAL_STEP = 387_419;
const PLANT_ALPHABET = '0123456789ABCDEFGHJKLMNPRSTUVWXYZ';

/** Per model, plant codes it does not use: VINs of vehicles past the first million take these. */
const SPARE_PLANTS = MODELS.map((m) => [...PLANT_ALPHABET].filter((c) => !m.plants.includes(c)).join(''));
const MODEL_CUMULATIVE = cumulative(MODELS.map((m) => m.share));
const MODEL_REGIONS = MODELS.map((m) => {
  const entries = Object.entries(m.regions).map(([id, w]) => [REGIONS.findIndex((r) => r.id === id), w] as const);
  if (entries.some(([i]) => i < 0)) throw new Error(`model ${m.model} names an unknown region`);
  return { ids: entries.map(([i]) => i), cum: cumulative(entries.map(([, w]) => w)) };
});

export class Fleet {
  /** Per vehicle: index into MODELS. */
  readonly model: Uint8Array;
  /** Per vehicle: index into REGIONS. */
  readonly region: Uint8Array;
  /** Per vehicle: index into its region's home cities. */
  readonly city: Uint8Array;

  constructor(
    readonly seed: number,
    readonly size: number,
    readonly tenants: readonly string[],
  ) {
    if (!Number.isInteger(size) || size < 1 || size > MAX_VEHICLES) {
      throw new RangeError(`fleet size must be an integer 1..${MAX_VEHICLES}, got ${size}`);
    }
    if (tenants.length === 0) throw new RangeError('a fleet needs at least one tenant');
    this.model = new Uint8Array(size);
    this.region = new Uint8Array(size);
    this.city = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      const m = pick(MODEL_CUMULATIVE, hashUnit(seed, i, SALT.model));
      const mr = MODEL_REGIONS[m]!;
      const r = mr.ids[pick(mr.cum, hashUnit(seed, i, SALT.region))]!;
      this.model[i] = m;
      this.region[i] = r;
      this.city[i] = hash32(seed, i, SALT.city) % REGIONS[r]!.cities.length;
    }
  }

  modelOf(i: number): ModelDef {
    return MODELS[this.model[i]!]!;
  }

  /** Model year: newer years are more common (the fleet grows). */
  year(i: number): number {
    const [from, to] = this.modelOf(i).years;
    return from + Math.floor((to - from + 1) * Math.sqrt(hashUnit(this.seed, i, SALT.year)));
  }

  tenant(i: number): string {
    return this.tenants.length === 1 ? this.tenants[0]! : this.tenants[hash32(this.seed, i, SALT.tenant) % this.tenants.length]!;
  }

  /** The VIN: valid ISO 3779 with a check digit, unique within the fleet. */
  vin(i: number): string {
    const m = this.modelOf(i);
    const block = Math.floor(i / BLOCK);
    const serial = ((i % BLOCK) * SERIAL_STEP + (this.seed % BLOCK)) % BLOCK;
    let plant: string;
    if (block === 0) plant = m.plants[hash32(this.seed, i, SALT.city) % m.plants.length]!;
    else plant = SPARE_PLANTS[this.model[i]!]![block - 1]!;
    return makeVin({ wmi: m.wmi, vds: m.vds, year: this.year(i), plant }, serial);
  }

  /** The owner's account id: a bijection of the index, so accounts are unique. */
  account(i: number): string {
    return `acct-${mix32((i ^ this.seed) >>> 0).toString(16).padStart(8, '0')}`;
  }

  identity(i: number): VehicleIdentity {
    if (!Number.isInteger(i) || i < 0 || i >= this.size) throw new RangeError(`no vehicle ${i} in a fleet of ${this.size}`);
    const m = this.modelOf(i);
    const year = this.year(i);
    const lineup = SOFTWARE[m.software]!;
    const software: Record<string, string> = {};
    let k = 0;
    for (const [ecu, versions] of Object.entries(lineup)) {
      k++;
      if ((ecu === 'BMS' && !hasBattery(m.powertrain)) || (ecu === 'ECM' && !hasEngine(m.powertrain))) continue;
      // Newer versions are more common; older model years lag behind.
      const u = hashUnit(this.seed, i, SALT.software + k);
      const lag = year <= m.years[1] - 4 ? 0.25 : 0;
      software[ecu] = versions[u < 0.55 - lag ? 0 : u < 0.85 - lag / 2 ? 1 : 2] ?? versions[0]!;
    }
    return {
      index: i,
      vin: this.vin(i),
      tenant: this.tenant(i),
      make: m.make,
      model: m.model,
      year,
      trim: m.trims[hash32(this.seed, i, SALT.trim) % m.trims.length]!,
      region: REGIONS[this.region[i]!]!.id,
      powertrain: m.powertrain,
      software,
      account: this.account(i),
    };
  }

  /** Every identity, lazily (a million vehicles are not held at once). */
  *identities(): IterableIterator<VehicleIdentity> {
    for (let i = 0; i < this.size; i++) yield this.identity(i);
  }
}

function cumulative(weights: readonly number[]): Float64Array {
  const total = weights.reduce((a, b) => a + b, 0);
  const out = new Float64Array(weights.length);
  let acc = 0;
  weights.forEach((w, i) => (out[i] = acc += w / total));
  return out;
}

function pick(cum: Float64Array, u: number): number {
  for (let i = 0; i < cum.length; i++) if (u < cum[i]!) return i;
  return cum.length - 1;
}
