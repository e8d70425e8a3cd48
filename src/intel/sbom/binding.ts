/**
 * Which vehicles run an SBOM: a twin knows, per vehicle, ECU name -> software version
 * (VehicleRecord.software). An SBOM whose subject names an ECU and a software version applies
 * to every vehicle whose software map has exactly that pair, and — when the subject names a
 * vehicle model — whose model is that model. ECU names compare case-insensitively; software
 * versions exactly (a version string is an identity here, not something to order).
 */
import type { VehicleRecord } from '../../core/records.js';
import type { Sbom, SbomSubject } from './types.js';

/** The fields of a vehicle the binding reads. */
export type VehicleSoftware = Pick<VehicleRecord, 'model' | 'software'>;

const key = (ecu: string, version: string): string => `${ecu.trim().toLowerCase()}\u0000${version.trim()}`;

/** Why an SBOM cannot be bound to vehicles, or undefined when it can (its subject names an ECU and a software version). */
export function unboundReason(subject: SbomSubject | undefined): string | undefined {
  if (!subject) return 'the SBOM has no subject';
  if (!subject.ecu) return `subject ${subject.name} names no ECU (bind one)`;
  if (!subject.softwareVersion) return `subject ${subject.name} (ECU ${subject.ecu}) names no software version (bind one)`;
  return undefined;
}

/** SBOMs indexed by (ECU, software version), for looking up what a vehicle runs. */
export class SbomIndex {
  private readonly byKey = new Map<string, Sbom[]>();
  /** SBOMs that could not be indexed, with the reason. */
  readonly unbound: { sbom: Sbom; reason: string }[] = [];

  constructor(sboms: readonly Sbom[]) {
    for (const s of sboms) {
      const why = unboundReason(s.subject);
      if (why) {
        this.unbound.push({ sbom: s, reason: why });
        continue;
      }
      const k = key(s.subject!.ecu!, s.subject!.softwareVersion!);
      this.byKey.set(k, [...(this.byKey.get(k) ?? []), s]);
    }
  }

  /** The SBOMs of the software this vehicle runs now, one or more per ECU. */
  forVehicle(v: VehicleSoftware): Sbom[] {
    const out: Sbom[] = [];
    for (const [ecu, version] of Object.entries(v.software ?? {})) {
      for (const s of this.byKey.get(key(ecu, version)) ?? []) if (modelFits(s.subject!, v)) out.push(s);
    }
    return out;
  }
}

/** True when the SBOM describes software this vehicle runs. */
export function runsOn(sbom: Sbom, v: VehicleSoftware): boolean {
  const s = sbom.subject;
  if (unboundReason(s) !== undefined) return false;
  const ecu = s!.ecu!.trim().toLowerCase();
  const entry = Object.entries(v.software ?? {}).find(([e]) => e.trim().toLowerCase() === ecu);
  return !!entry && entry[1].trim() === s!.softwareVersion!.trim() && modelFits(s!, v);
}

function modelFits(s: SbomSubject, v: VehicleSoftware): boolean {
  return !s.vehicleModel || (!!v.model && v.model.trim().toLowerCase() === s.vehicleModel.trim().toLowerCase());
}
