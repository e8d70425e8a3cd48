/**
 * Priority: the README's worked examples, recomputed from the demo advisories as the feed
 * importer reads them, and the rules of the attack surface.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importFeedDocuments } from './feeds/index.js';
import type { Vulnerability } from './model.js';
import { attackSurface, ecuSurfaces, priority } from './priority.js';

const EXAMPLES = join(import.meta.dirname, '../../examples/intel');
const imp = importFeedDocuments(['VIGIL-DEMO-2026-0001.osv.json', 'vigil-demo-2026-0002.csaf.json', 'VIGIL-DEMO-2026-0003.osv.json'].map((f) => ({ name: f, text: readFileSync(join(EXAMPLES, f), 'utf8') })));
const vuln = (id: string): Vulnerability => imp.vulnerabilities.find((v) => v.id === id)!;
const points = (p: ReturnType<typeof priority>): Record<string, number> => Object.fromEntries(p.factors.map((f) => [f.factor, f.points]));

describe('priority', () => {
  it('the worked examples of the README', () => {
    expect(priority(vuln('VIGIL-DEMO-2026-0002'), ['TCU'])).toMatchObject({ score: 54, surface: 'cellular' });
    expect(points(priority(vuln('VIGIL-DEMO-2026-0002'), ['TCU']))).toEqual({ cvss: 39.2, epss: 0, kev: 0, surface: 15 });
    expect(priority(vuln('VIGIL-DEMO-2026-0001'), ['IVI'])).toMatchObject({ score: 47, surface: 'bluetooth' });
    expect(priority(vuln('VIGIL-DEMO-2026-0003'), ['TCU', 'IVI', 'ADAS'])).toMatchObject({ score: 37, surface: 'network' });
    expect(priority(vuln('VIGIL-DEMO-2026-0003'), ['ADAS'])).toMatchObject({ score: 30, surface: 'in-vehicle' });
    const hot: Vulnerability = {
      ...vuln('VIGIL-DEMO-2026-0003'),
      epss: { score: 0.2, percentile: 0.9, source: { kind: 'epss', document: 'x' } },
      kev: { dateAdded: '2026-02-01', dueDate: '2026-02-22', knownRansomware: false, requiredAction: 'patch', vendorProject: 'x', product: 'y', vulnerabilityName: 'z', source: { kind: 'kev', document: 'x' } },
    };
    expect(points(priority(hot, ['TCU']))).toEqual({ cvss: 23.6, epss: 11.2, kev: 15, surface: 13 });
    expect(priority(hot, ['TCU']).score).toBe(63);
  });

  it('a Bluetooth flaw on an ECU without Bluetooth counts only what that ECU offers; withdrawn is 0', () => {
    // AV:A with Bluetooth words: a gateway has neither Bluetooth nor a radio
    expect(attackSurface(vuln('VIGIL-DEMO-2026-0001'), ['GW']).surface).toBeNull();
    expect(priority(vuln('VIGIL-DEMO-2026-0001'), ['GW']).score).toBe(35);
    expect(priority({ ...vuln('VIGIL-DEMO-2026-0002'), withdrawn: { source: { kind: 'osv', document: 'x' } } }, ['TCU']).score).toBe(0);
  });

  it('ECU kinds by name, unknown names limit nothing', () => {
    expect(ecuSurfaces('TCU')).toContain('cellular');
    expect(ecuSurfaces('Head Unit')).toEqual(['wifi', 'bluetooth', 'in-vehicle', 'local', 'physical']);
    expect(ecuSurfaces('BMS')).toEqual(['in-vehicle', 'physical']);
    expect(ecuSurfaces('XYZ')).toBeUndefined();
    expect(attackSurface(vuln('VIGIL-DEMO-2026-0002'), ['XYZ']).surface).toBe('cellular');
  });
});
