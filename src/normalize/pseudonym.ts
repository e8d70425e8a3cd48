/**
 * VIN pseudonymization: a keyed HMAC-SHA256 per tenant, truncated to 64 bits (16 hex digits,
 * a vehicle key). Tenant keys are derived from one secret, so the same VIN gets different
 * keys in different tenants and nobody without the secret can reverse or link them.
 */
import { createHmac } from 'node:crypto';

/** Cache cap per pseudonymizer: beyond it the cache is cleared (bounded memory, one noisy source cannot grow it). */
export const PSEUDONYM_CACHE_MAX = 2_000_000;

export class Pseudonymizer {
  private readonly tenantKeys = new Map<string, Buffer>();
  private readonly cache = new Map<string, string>();

  constructor(private readonly secret: string) {
    if (secret.length < 16) throw new RangeError('pseudonymization secret must be at least 16 characters');
  }

  /** The vehicle key of a VIN (or other vehicle identifier) in a tenant. */
  key(tenant: string, vin: string): string {
    const cacheKey = `${tenant}\u0000${vin}`;
    let key = this.cache.get(cacheKey);
    if (key === undefined) {
      key = createHmac('sha256', this.tenantKey(tenant)).update(vin).digest('hex').slice(0, 16);
      if (this.cache.size >= PSEUDONYM_CACHE_MAX) this.cache.clear();
      this.cache.set(cacheKey, key);
    }
    return key;
  }

  private tenantKey(tenant: string): Buffer {
    let k = this.tenantKeys.get(tenant);
    if (!k) {
      k = createHmac('sha256', this.secret).update(`vigil/tenant/${tenant}`).digest();
      this.tenantKeys.set(tenant, k);
    }
    return k;
  }
}
