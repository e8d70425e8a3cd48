import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CAN_IDS_RULES } from '../detect/can/vehicles.js';
import { ASSET_RULES, assetOf, CATEGORY_TAGS, threatGroupOf } from './taxonomy.js';

const RULES_DIR = join(import.meta.dirname, '..', '..', 'rules', 'detections');
const pack = readdirSync(RULES_DIR).filter((f) => f.endsWith('.yaml')).flatMap((f) =>
  parseAllDocuments(readFileSync(join(RULES_DIR, f), 'utf8')).map((d) => d.toJS() as { id: string; tags?: string[] }));

describe('asset placement', () => {
  it('places every rule of the shipped pack and of the code detectors on an asset', () => {
    const code = [...Object.values(CAN_IDS_RULES).map((r) => r.rule), 'api.stuffing', 'odometer.rollback', 'vigil.ids_event'];
    const unplaced = [...pack.map((r) => r.id), ...code].filter((id) => assetOf(id) === 'other');
    expect(pack.length).toBeGreaterThan(100);
    expect(unplaced).toEqual([]);
  });

  it('takes the longest prefix and matches whole domains only', () => {
    expect(assetOf('charging.meter-rollback')).toBe('charging');
    expect(assetOf('fleet.ota-tampering-campaign')).toBe('software-update');
    expect(assetOf('fleet.campaign-any-rule')).toBe('fleet');
    expect(assetOf('apis.something')).toBe('other');
    expect(assetOf('api')).toBe('other');
    expect(new Set(ASSET_RULES.map((r) => r.prefix)).size).toBe(ASSET_RULES.length);
  });
});

describe('R155 threat groups', () => {
  it('places Annex 5 references by their threat number, and groups as themselves', () => {
    expect(threatGroupOf('R155-A5:1.2')).toBe('4.3.1');
    expect(threatGroupOf('R155-A5:3.5')).toBe('4.3.1');
    expect(threatGroupOf('R155-A5:4.1')).toBe('4.3.2');
    expect(threatGroupOf('R155-A5:4.3.2')).toBe('4.3.2');
    expect(threatGroupOf('R155-A5:4.3.6')).toBe('4.3.6');
    expect(threatGroupOf('R155-A5:11.3')).toBe('4.3.2');
    expect(threatGroupOf('R155-A5:13.1')).toBe('4.3.3');
    expect(threatGroupOf('R155-A5:15.2')).toBe('4.3.4');
    expect(threatGroupOf('R155-A5:18.3')).toBe('4.3.5');
    expect(threatGroupOf('R155-A5:20.4')).toBe('4.3.6');
    expect(threatGroupOf('R155-A5:32.1')).toBe('4.3.7');
    // Not references: no Table A1 threat 14, examples past the table, other tags.
    expect(threatGroupOf('R155-A5:14.1')).toBeUndefined();
    expect(threatGroupOf('R155-A5:4.3')).toBeUndefined();
    expect(threatGroupOf('R155-A5:1.9')).toBeUndefined();
    expect(threatGroupOf('ATM-T0070')).toBeUndefined();
  });

  it('every R155 tag of the shipped pack is in the table the store joins with', () => {
    const tags = new Set(pack.flatMap((r) => r.tags ?? []).filter((t) => t.startsWith('R155-')));
    const table = new Set(CATEGORY_TAGS.map((c) => c.tag));
    expect(tags.size).toBeGreaterThan(20);
    expect([...tags].filter((t) => !table.has(t))).toEqual([]);
  });
});
