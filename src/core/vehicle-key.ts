/**
 * A vehicle key is the pseudonym of a vehicle inside Vigil: 16 lowercase hex digits (the
 * first 64 bits of a keyed HMAC of the VIN). It fits a 64-bit integer column, so stores
 * keep it as a number and queries return it as hex.
 */
export const VEHICLE_KEY = /^[0-9a-f]{16}$/;

export function isVehicleKey(s: string): boolean {
  return VEHICLE_KEY.test(s);
}

/** The two 32-bit halves of a vehicle key (hi, lo), for writing into a 64-bit column. */
export function vehicleKeyHalves(key: string): [hi: number, lo: number] {
  return [parseInt(key.slice(0, 8), 16), parseInt(key.slice(8, 16), 16)];
}

/** The vehicle key from a 64-bit unsigned integer (as returned by a store). */
export function vehicleKeyFromBigInt(n: bigint): string {
  return n.toString(16).padStart(16, '0');
}
