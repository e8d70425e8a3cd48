/**
 * Scenario `ask-understand` (run by bench/run.ts; alone: `node --import tsx
 * bench/scenarios/ask-understand.ts [--json] [--rounds N] [--cves N]`): the embedded language
 * engine alone (question text to a validated typed query; no store). The vocabulary is what a
 * fleet of any size gives — the simulator's makes, models, trims, regions, years and every ECU
 * software version, the shipped rule pack's ids and titles — plus `--cves` vulnerability ids
 * (default 20,000: a large feed). The vocabulary is value sets, not rows, so a 1,000,000-vehicle
 * fleet gives the same one. Every question of eval/ask (development and held-out sets) is read
 * `--rounds` times. Target (issue 7 task): < 5 ms per question.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { understand } from '../../src/ask/understand.js';
import { buildVocabulary } from '../../src/ask/vocabulary.js';
import { ManualClock } from '../../src/core/clock.js';
import { MODELS, REGIONS, SOFTWARE } from '../../src/sim/models.js';

const { values: args } = parseArgs({
  strict: false,
  options: { json: { type: 'boolean', default: false }, rounds: { type: 'string', default: '20' }, cves: { type: 'string', default: '20000' } },
});
const rounds = Number(args.rounds);
const cves = Number(args.cves);

const fields: Record<string, (string | number)[]> = {
  make: [...new Set(MODELS.map((m) => m.make))],
  model: MODELS.map((m) => m.model),
  trim: [...new Set(MODELS.flatMap((m) => m.trims))],
  region: REGIONS.map((r) => r.id),
  year: [...new Set(MODELS.flatMap((m) => Array.from({ length: m.years[1] - m.years[0] + 1 }, (_, k) => m.years[0] + k)))],
  vulnerability: Array.from({ length: cves }, (_, i) => `CVE-${2015 + (i % 11)}-${String(10000 + i).padStart(5, '0')}`),
};
for (const lineup of Object.values(SOFTWARE)) for (const [ecu, versions] of Object.entries(lineup)) (fields[`software.${ecu}`] ??= []).push(...versions);
const ruleTitles: Record<string, string> = {};
const ruleDir = new URL('../../rules/detections/', import.meta.url);
for (const f of readdirSync(ruleDir).filter((n) => n.endsWith('.yaml'))) {
  const text = readFileSync(new URL(f, ruleDir), 'utf8');
  for (const doc of text.split(/^---$/m)) {
    const id = /^id:\s*(\S+)/m.exec(doc)?.[1];
    const title = /^title:\s*(.+)$/m.exec(doc)?.[1];
    if (id) {
      (fields['rule'] ??= []).push(id);
      if (title) ruleTitles[id] = title.trim();
    }
  }
}

const t0 = performance.now();
const vocabulary = buildVocabulary({ fields, ruleTitles });
const buildMs = performance.now() - t0;
const questions: string[] = [];
for (const file of ['questions.yaml', 'holdout.yaml']) {
  const doc = parse(readFileSync(new URL(`../../eval/ask/${file}`, import.meta.url), 'utf8')) as { items: { questions: string[] }[] };
  for (const i of doc.items) questions.push(...i.questions);
}
const clock = new ManualClock(Date.UTC(2026, 10, 20, 12));
for (const q of questions) understand(q, vocabulary, clock); // warm-up
const times: number[] = [];
for (let r = 0; r < rounds; r++) {
  for (const q of questions) {
    const s = performance.now();
    understand(q, vocabulary, clock);
    times.push(performance.now() - s);
  }
}
times.sort((a, b) => a - b);
const at = (p: number): number => Math.round(times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)]! * 1000) / 1000;
const result = {
  name: 'ask-understand', questions: questions.length, rounds, phrases: vocabulary.phrases.size, cves,
  vocabulary_build_ms: Math.round(buildMs), p50_ms: at(0.5), p95_ms: at(0.95), p99_ms: at(0.99), max_ms: at(1),
};
if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else process.stderr.write(`${JSON.stringify(result, null, 2)}\n`);
