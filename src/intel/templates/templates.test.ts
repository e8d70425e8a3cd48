import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SignalCatalog } from '../../core/catalog.js';
import { newVulnerability } from '../model.js';
import { checkDetection, parseTemplates, renderDetection } from './index.js';

const DIR = join(import.meta.dirname, '../../../rules/templates');
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).map((f) => ({ file: f, text: readFileSync(join(DIR, f), 'utf8') }));
const { templates, problems } = parseTemplates(files);
// The templates read events, not signals; a catalog with the speed (intel may not import the simulator's catalog).
const catalog = new SignalCatalog([{ path: 'Vehicle.Speed', datatype: 'double', kind: 'sensor' }]);
const vuln = { ...newVulnerability('CVE-2099-0001', []), description: 'A test vulnerability. More text.' };

describe('shipped detection templates', () => {
  it('parse without problems', () => {
    expect(problems).toEqual([]);
    expect(templates.length).toBe(files.length);
  });
  it.each(templates.map((t) => [t.id, t] as const))('%s renders with its defaults into a rule that compiles and passes its tests', (_id, t) => {
    const r = renderDetection(t, {}, vuln);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    const check = checkDetection(r.yaml, catalog);
    expect(check.problems).toEqual([]);
    expect(new Set(check.tests.map((x) => x.expect))).toEqual(new Set(['alert', 'none']));
    expect(check.ok).toBe(true);
  });

  it('the CAN template watches the ids the analyst names, and its tests follow them', () => {
    const t = templates.find((x) => x.id === 'can-injection-gateway')!;
    const r = renderDetection(t, { can_ids: '0x2A0,0x2A1', anomalies: 3 }, vuln);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.yaml).toMatch(/named:\n\s+context.canId:\n\s+- "?0x2A0"?\n\s+- "?0x2A1"?/);
    expect(r.yaml).toMatch(/canId: "?0x2A0"?/);
    expect(checkDetection(r.yaml, catalog).ok).toBe(true);
    const bad = renderDetection(t, { can_ids: ['0x2a0'] }, vuln);
    expect(bad.ok === false && bad.problems[0]).toMatchObject({ field: 'params.can_ids' });
  });

  it('an advisory id with a CVE alias: intel is the advisory, cve and the tag the alias; without a CVE no cve at all', () => {
    const t = templates.find((x) => x.id === 'ota-signature-bypass')!;
    const ghsa = renderDetection(t, {}, { ...newVulnerability('GHSA-abcd-1234-wxyz', [], ['CVE-2099-0042']) });
    if (!ghsa.ok) throw new Error(JSON.stringify(ghsa.problems));
    expect(ghsa.id).toBe('custom.ota-signature-bypass.ghsa-abcd-1234-wxyz');
    expect(ghsa.yaml).toMatch(/details:\n {2}intel: GHSA-abcd-1234-wxyz\n {2}cve: CVE-2099-0042\n/);
    expect(ghsa.yaml).toContain('- cve:CVE-2099-0042');
    const bare = renderDetection(t, {}, newVulnerability('VIGIL-DEMO-2026-0001', []));
    expect(bare.ok && bare.yaml).not.toMatch(/cve/i);
    expect(bare.ok && checkDetection(bare.yaml, catalog).ok).toBe(true);
  });
});

