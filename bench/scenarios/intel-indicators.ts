/**
 * Scenario `intel-indicators` (run by bench/run.ts; alone: `node --import tsx
 * bench/scenarios/intel-indicators.ts [--json] [--seconds N] [--indicators N] [--hit-rate R]`):
 * the STIX indicator matcher a lane runs (src/intel/indicators) on one thread. `--indicators`
 * indicators (default 100,000: 55 % IPv4 addresses, 10 % IPv4 CIDR blocks of /20../30, 5 %
 * IPv6 addresses and /40../64 blocks, 20 % domains (a tenth of them `LIKE '%.x'`), 5 % URLs,
 * 5 % SHA-256 hashes) are compiled; then back-end log events (caller address, host, URL)
 * and connection events (remote domain) are matched in batches of 512, as a lane does,
 * `--hit-rate` of them (default 1 %) from a listed address.
 *
 *   compile_ms             compiling the set (each lane does it when the set changes)
 *   records_per_s          events matched per wall second (facts, lookups, alerts, dedup)
 *   records_per_cpu_s      the same per CPU-second of this process (steadier on a loaded machine)
 *   lookups_per_s          record fields looked up per second
 *   heap_mb                heap held by the compiled set (with `node --expose-gc`, else null)
 */
import { parseArgs } from 'node:util';
import type { ApiEvent, SecurityEvent } from '../../src/core/records.js';
import { parseStixPattern } from '../../src/intel/feeds/stix-pattern.js';
import { compileIndicators } from '../../src/intel/indicators/compile.js';
import { IndicatorDetector } from '../../src/intel/indicators/detector.js';
import type { Indicator } from '../../src/intel/model.js';
import { Sfc32 } from '../../src/sim/prng.js';
import { peakRssMb } from '../harness.js';

const { values: args } = parseArgs({
  strict: false,
  options: {
    json: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '3' },
    indicators: { type: 'string', default: '100000' },
    'hit-rate': { type: 'string', default: '0.01' },
  },
});

const say = (s: string): void => {
  if (!args.json) process.stderr.write(`${s}\n`);
};

const rng = new Sfc32(0x57c5);
const ipv4 = (): string => `${1 + rng.int(223)}.${rng.int(256)}.${rng.int(256)}.${rng.int(256)}`;
const hex = (n: number): string => Array.from({ length: n }, () => rng.int(16).toString(16)).join('');
const word = (): string => Array.from({ length: 5 + rng.int(8) }, () => String.fromCharCode(97 + rng.int(26))).join('');

function makeIndicators(n: number): { indicators: Indicator[]; listedIps: string[]; listedDomains: string[] } {
  const indicators: Indicator[] = [];
  const listedIps: string[] = [];
  const listedDomains: string[] = [];
  for (let i = 0; i < n; i++) {
    const u = i / n;
    let pattern: string;
    if (u < 0.55) {
      const ip = ipv4();
      listedIps.push(ip);
      pattern = `[ipv4-addr:value = '${ip}']`;
    } else if (u < 0.65) pattern = `[ipv4-addr:value = '${ipv4()}/${20 + rng.int(11)}']`;
    else if (u < 0.7) pattern = rng.next() < 0.5 ? `[ipv6-addr:value = '2001:db8:${hex(4)}:${hex(4)}::${hex(4)}']` : `[ipv6-addr:value = '2001:${hex(4)}:${hex(4)}::/${40 + rng.int(25)}']`;
    else if (u < 0.9) {
      const d = `${word()}.${word()}.example`;
      listedDomains.push(d);
      pattern = rng.next() < 0.1 ? `[domain-name:value LIKE '%.${d}']` : `[domain-name:value = '${d}']`;
    } else if (u < 0.95) pattern = `[url:value = 'https://${word()}.example.com/${word()}/${word()}.bin']`;
    else pattern = `[file:hashes.'SHA-256' = '${hex(64)}']`;
    indicators.push({
      id: `indicator--${hex(8)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${hex(12)}`, pattern, patternType: 'stix', parsed: parseStixPattern(pattern),
      labels: [], indicatorTypes: ['malicious-activity'], killChain: [], indicates: [], vulnerabilities: [], source: { kind: 'stix', document: 'bench' },
    });
  }
  return { indicators, listedIps, listedDomains };
}

function makeRecords(count: number, hitRate: number, listedIps: readonly string[], listedDomains: readonly string[]): { logs: ApiEvent[]; security: SecurityEvent[] } {
  const logs: ApiEvent[] = [];
  const security: SecurityEvent[] = [];
  const t = Date.parse('2026-12-01T00:00:00Z');
  for (let i = 0; i < count; i++) {
    const hit = rng.next() < hitRate;
    if (i % 4 === 3) {
      const domain = hit ? `upd.${listedDomains[rng.int(listedDomains.length)]!}` : `${word()}.${word()}.example.org`;
      security.push({ id: `s${i}`, tenant: 'bench', vehicle: hex(16), time: t + i, eventId: 0x8901, name: 'NET_UNKNOWN_DESTINATION', sensor: 'IviIds', count: 1, severity: 'medium', context: { bytesOut: 900, domain }, source: 'bench' });
    } else {
      const sourceIp = hit ? listedIps[rng.int(listedIps.length)]! : rng.next() < 0.5 ? ipv4() : `2001:db8:${hex(4)}::${hex(4)}`;
      logs.push({
        id: `l${i}`, tenant: 'bench', time: t + i, service: 'api.telematics.example.com', actor: `acct-${rng.int(50_000)}`, method: 'GET',
        endpoint: '/v1/vehicles/{vin}/status', status: 200, sourceIp, userAgent: 'VigilApp/4.2.1', source: 'bench',
        ...(i % 8 === 0 ? { detail: { url: `https://cdn.example.com/${word()}.json` } } : {}),
      });
    }
  }
  return { logs, security };
}

function main(): void {
  const n = Number(args.indicators);
  const hitRate = Number(args['hit-rate']);
  const seconds = Number(args.seconds);
  const { indicators, listedIps, listedDomains } = makeIndicators(n);
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const c0 = performance.now();
  const cc0 = process.cpuUsage();
  const set = compileIndicators(indicators);
  const compileMs = performance.now() - c0;
  const compileCpu = process.cpuUsage(cc0);
  global.gc?.();
  const heapMb = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
  const { logs, security } = makeRecords(200_000, hitRate, listedIps, listedDomains);
  const fields = logs.reduce((s, e) => s + 3 + (e.detail ? 2 : 0), 0) + security.length;
  const det = new IndicatorDetector(indicators);
  const BATCH = 512;
  const pass = (): number => {
    let alerts = 0;
    for (let i = 0; i < logs.length; i += BATCH) alerts += det.process(logs.slice(i, i + BATCH), security.slice(i / 3, (i + BATCH) / 3), 0).alerts.length;
    return alerts;
  };
  pass();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let passes = 0;
  let alerts = 0;
  do {
    alerts = pass();
    passes++;
  } while (performance.now() - t0 < seconds * 1000);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const records = logs.length + security.length;
  say(`intel-indicators: ${n.toLocaleString('en')} indicators (${set.report.compiled.toLocaleString('en')} compiled, ${set.report.scanned} scanned) in ${Math.round(compileMs)} ms${global.gc ? `, ~${Math.round(heapMb)} MiB` : ''}`);
  say(`  ${Math.round((passes * records) / wall).toLocaleString('en')} records/s (${Math.round((passes * fields) / wall).toLocaleString('en')} field lookups/s), ${alerts} alerts in the last pass of ${records.toLocaleString('en')} records`);
  const result = {
    name: 'intel-indicators',
    indicators: n,
    compiled: set.report.compiled,
    compile_ms: Math.round(compileMs),
    compile_cpu_ms: Math.round((compileCpu.user + compileCpu.system) / 1000),
    heap_mb: global.gc ? Math.round(heapMb) : null,
    records_per_s: Math.round((passes * records) / wall),
    records_per_cpu_s: Math.round((passes * records) / cpuS),
    lookups_per_s: Math.round((passes * fields) / wall),
    peak_rss_mb: peakRssMb(),
  };
  if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else say(JSON.stringify(result));
}

main();
