/** The `vigil` command as a user runs it. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startVigil } from '../src/api/vigil.js';
import { parseConfig } from '../src/runtime/config.js';

const run = promisify(execFile);
const vigil = (args: string[]) =>
  run(process.execPath, ['bin/vigil.js', ...args], { env: { ...process.env, VIGIL_FROM_SOURCE: '1' }, timeout: 120_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

describe('vigil CLI', () => {
  it('config check reports every problem of every file at once and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
    writeFileSync(join(dir, 'good.yaml'), 'tenant: acme\nsources:\n  - { type: simulator, name: fleet, vehicles: 10 }\n');
    writeFileSync(join(dir, 'bad.yaml'), 'tenant: acme\nruntim: {}\nhttp: { port: 99999 }\nsources:\n  - { type: simulator, name: fleet, vehicles: 0 }\n');
    const r = await vigil(['config', 'check', join(dir, 'good.yaml'), join(dir, 'bad.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('good.yaml: ok (1 source(s)');
    expect(r.stdout).toContain('bad.yaml: 3 problem(s)');
    expect(r.stdout).toMatch(/runtim/);
    expect(r.stdout).toMatch(/http\.port/);
    expect(r.stdout).toMatch(/sources\.0\.vehicles/);
  });

  it('config check loads the files a config names: VSS catalogs, security extract, DBC and mapping', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
    const mapping = join(dir, 'map.yaml');
    writeFileSync(mapping, 'signals:\n  - { dbc: NoSuch.Signal, vss: Vehicle.Speed }\n');
    writeFileSync(join(dir, 'refs.yaml'), [
      `catalog: { vss: [${join(dir, 'missing-vss.json')}] }`,
      `security: { extract: ${join(dir, 'missing-extract.yaml')} }`,
      'can:',
      '  dbc:',
      `    - { file: ${join(dir, 'missing.dbc')}, mapping: ${mapping} }`,
      '',
    ].join('\n'));
    const r = await vigil(['config', 'check', join(dir, 'refs.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('refs.yaml: 3 problem(s)');
    expect(r.stdout).toMatch(/catalog\.vss: .*missing-vss\.json/);
    expect(r.stdout).toMatch(/security\.extract: .*missing-extract\.yaml/);
    expect(r.stdout).toMatch(/can\.dbc\.0\.file: .*missing\.dbc/);
  });

  it('simulate writes JSONL, labels and candump files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-sim-'));
    const r = await vigil(['simulate', '-o', dir, '--vehicles', '20', '--duration', '120', '--seed', '3']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/20 vehicles, 120 s simulated/);
    const lines = readFileSync(join(dir, 'signals.jsonl'), 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(20 * 100);
    expect(JSON.parse(lines[0]!)).toHaveProperty('signals');
    expect(readFileSync(join(dir, 'labels.jsonl'), 'utf8').length).toBeGreaterThan(0);
  });

  it('status says clearly when no server runs', async () => {
    const r = await vigil(['status', '--url', 'http://127.0.0.1:59999']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no server answers at http://127.0.0.1:59999 (ECONNREFUSED)');
  });

  it('dlq list reads the store file when no server runs', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-dlq-'));
    // One lane: this Vigil only makes the dead letters the CLI then reads.
    const v = await startVigil(parseConfig({ dataDir, http: { enabled: false }, runtime: { workers: 1 }, sources: [{ type: 'simulator', name: 'f', vehicles: 50, speed: 20, malformedRate: 0.05 }] }));
    for (let i = 0; i < 100 && (await v.store.counts()).deadLetters < 5; i++) await new Promise((r) => setTimeout(r, 100));
    await v.stop();
    const r = await vigil(['dlq', 'list', '--url', 'http://127.0.0.1:59999', '--data-dir', dataDir, '--limit', '5', '--json']);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { code: string; source: string; raw: string });
    expect(rows).toHaveLength(5);
    expect(rows.every((d) => d.source === 'sim:f' && d.code.includes('.') && d.raw.length > 0)).toBe(true);
  });
});
