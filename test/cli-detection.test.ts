/** `vigil detection` as a user runs it: templates, suggestions from a CVE file, a dry run, a bad parameter, and creating one on a server. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startVigil } from '../src/api/vigil.js';
import { parseConfig } from '../src/runtime/config.js';
import { dataset } from './datasets.js';
import { apiToken } from './http-helpers.js';

const run = promisify(execFile);
const vigil = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, ['bin/vigil.js', ...args], { env: { ...process.env, VIGIL_FROM_SOURCE: '1', ...env }, timeout: 120_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
const intel = dataset('intel', 'cli-detection.test.ts');

describe('vigil detection', () => {
  it('lists the templates with their parameters', async () => {
    const r = await vigil(['detection', 'templates']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^bluetooth-stack-rce {2}Bluetooth faults/m);
    expect(r.stdout).toMatch(/^ {4}faults: integer = 3 \(2\.\.50\)/m);
  });

  it.skipIf(intel.skip)('ranks the templates for a CVE record and prints a dry run with its test results', async () => {
    const file = join(intel.path, 'cve5/CVE-2017-9633.json');
    const ranked = await vigil(['detection', 'templates', '--cve', 'CVE-2017-9633', '--vuln', file]);
    expect(ranked.stdout.split('\n')[0]).toMatch(/-> cellular-tcu-rce$/);
    const dry = await vigil(['detection', 'from-template', 'cellular-tcu-rce', '--cve', 'CVE-2017-9633', '--vuln', file, '--param', 'connections=3', '--param', 'sensors=TcuIds,TelematicsIds', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('id: custom.cellular-tcu-rce.cve-2017-9633');
    expect(dry.stdout).toMatch(/count: 3/);
    expect(dry.stdout).toMatch(/# ok {3}must alert/);
    expect(dry.stdout).toMatch(/# ok {3}must not alert/);
  });

  it('names the bad parameter and exits 1', async () => {
    const r = await vigil(['detection', 'from-template', 'uds-auth-bypass', '--cve', 'CVE-2099-0001', '--param', 'window=1w', '--dry-run']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^params\.window: must be a duration/m);
  });

  it('creates the detection on a running server', async () => {
    const server = await startVigil(parseConfig({ tenant: 'acme', store: { path: ':memory:' }, http: { port: 0, auth: { adminTokenEnv: 'VIGIL_TEST_UNSET_ADMIN_TOKEN' } }, runtime: { workers: 1 } }), { inline: true });
    try {
      const token = await apiToken(server, 'analyst', 'acme', 'cli');
      const r = await vigil(['detection', 'from-template', 'ota-signature-bypass', '--cve', 'CVE-2023-32156', '--url', server.url!], { VIGIL_TOKEN: token });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`# created custom.ota-signature-bypass.cve-2023-32156 on ${server.url}`);
      expect(server.pipeline.customDetections).toEqual(['acme/custom.ota-signature-bypass.cve-2023-32156']);
    } finally {
      await server.stop();
    }
  });
});
