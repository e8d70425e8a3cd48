/**
 * `vigil detection templates` lists the detection templates (rules/templates);
 * `vigil detection from-template <template> --cve ID [--vuln FILE] --param k=v ... [--dry-run]`
 * renders a detection for a vulnerability, compiles it and runs its generated tests, and prints
 * the YAML and the results. Without --dry-run it is created on a running server
 * (`POST /v1/detections`, which checks it again against the running pack and stores it).
 * The vulnerability is read from `--vuln` (a CVE 5, NVD, OSV or CSAF file, through the feed
 * importer), else only its id is known (then nothing but the id reaches the rule's description).
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { loadTemplates } from '../api/templates.js';
import { importFeedDocuments } from '../intel/feeds/index.js';
import { newVulnerability, type Vulnerability } from '../intel/model.js';
import { checkDetection, renderDetection, suggestTemplates, type DetectionCheck } from '../intel/templates/index.js';
import { defaultCatalog } from '../sim/default-catalog.js';
import { authHeaders } from './api-token.js';

function collectParam(v: string, prev: Record<string, string>): Record<string, string> {
  const i = v.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError(`expected name=value, got ${v}`);
  return { ...prev, [v.slice(0, i)]: v.slice(i + 1) };
}

/** The vulnerability `id` from a feed file, or a bare one. */
function readVulnerability(id: string, file?: string): Vulnerability {
  if (!file) return newVulnerability(id, []);
  const r = importFeedDocuments([{ name: file, text: readFileSync(file, 'utf8') }]);
  const v = r.vulnerabilities.find((x) => x.id === id || x.aliases.includes(id));
  if (!v) throw new Error(`${file} has no vulnerability ${id} (it has ${r.vulnerabilities.map((x) => x.id).join(', ') || 'none'})`);
  return v;
}

function printTests(tests: DetectionCheck['tests']): void {
  for (const t of tests) process.stdout.write(`# ${t.ok ? 'ok  ' : 'FAIL'} ${t.expect === 'alert' ? 'must alert   ' : 'must not alert'} "${t.name}" (${t.alerts} alert${t.alerts === 1 ? '' : 's'})${t.reason ? `: ${t.reason}` : ''}\n`);
}

export function detectionCommand(): Command {
  const cmd = new Command('detection').description('detections made from templates for a vulnerability');
  cmd
    .command('templates')
    .description('list the detection templates, or those that fit a vulnerability (--cve with --vuln)')
    .option('--cve <id>', 'rank the templates for this vulnerability')
    .option('--vuln <file>', 'feed file holding the vulnerability (CVE 5, NVD, OSV, CSAF)')
    .action((o: { cve?: string; vuln?: string }) => {
      const templates = loadTemplates();
      if (o.cve) {
        const s = suggestTemplates(templates, readVulnerability(o.cve, o.vuln));
        if (!s.length) process.stdout.write(`no template fits ${o.cve}\n`);
        for (const x of s) process.stdout.write(`${String(x.score).padStart(3)}  ${x.summary}\n`);
        return;
      }
      for (const t of templates) {
        process.stdout.write(`${t.id}  ${t.title}\n`);
        for (const [name, p] of Object.entries(t.params)) {
          const bounds = 'min' in p ? ` (${p.min}..${p.max})` : p.type === 'enum' ? ` (${p.values.join('|')})` : '';
          process.stdout.write(`    ${name}: ${p.type} = ${Array.isArray(p.default) ? p.default.join(',') : p.default}${bounds}  ${p.description}\n`);
        }
      }
    });
  cmd
    .command('from-template <template>')
    .description('render a detection for a vulnerability, test it, and (without --dry-run) create it on the server')
    .requiredOption('--cve <id>', 'the vulnerability (CVE or advisory id)')
    .option('--vuln <file>', 'feed file holding the vulnerability (CVE 5, NVD, OSV, CSAF)')
    .option('--param <name=value>', 'a template parameter (repeatable; lists comma-separated)', collectParam, {})
    .option('--id <id>', 'the rule id (default custom.<template>.<vulnerability>)')
    .option('--dry-run', 'only print the YAML and the test results')
    .option('--url <url>', 'server URL', 'http://127.0.0.1:8080')
    .option('--tenant <tenant>', 'the tenant (operator tokens)')
    .action(async (name: string, o: { cve: string; vuln?: string; param: Record<string, string>; id?: string; dryRun?: boolean; url: string; tenant?: string }) => {
      const template = loadTemplates().find((t) => t.id === name);
      if (!template) throw new Error(`no template ${name} (vigil detection templates lists them)`);
      const v = readVulnerability(o.cve, o.vuln);
      const r = renderDetection(template, o.param, v, o.id ? { id: o.id } : {});
      if (!r.ok) {
        for (const p of r.problems) process.stderr.write(`${p.field}: ${p.message}\n`);
        process.exitCode = 1;
        return;
      }
      const check = checkDetection(r.yaml, defaultCatalog());
      process.stdout.write(r.yaml);
      printTests(check.tests);
      for (const p of check.problems) process.stderr.write(`${p}\n`);
      if (!check.ok) {
        process.exitCode = 1;
        return;
      }
      if (o.dryRun) return;
      const res = await fetch(`${o.url}/v1/detections${o.tenant ? `?tenant=${encodeURIComponent(o.tenant)}` : ''}`, {
        method: 'POST', headers: { 'content-type': 'application/json', ...authHeaders() },
        body: JSON.stringify({ template: template.id, params: r.params, vulnerability: v, ...(o.id ? { id: o.id } : {}) }),
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await res.json()) as { id?: string; message?: string };
      if (!res.ok) throw new Error(`${o.url} answered ${res.status}: ${body.message ?? JSON.stringify(body)}`);
      process.stdout.write(`# created ${body.id} on ${o.url}\n`);
    });
  return cmd;
}
