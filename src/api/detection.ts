/**
 * Config `detection` -> the rule pack the pipeline runs: files read, compiled once against
 * the catalog, every problem reported before anything starts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SignalCatalog } from '../core/catalog.js';
import { ConfigError } from '../core/errors.js';
import type { CompiledPack, RuleFile } from '../detect/rules/index.js';
import type { VigilConfig } from '../runtime/config.js';
import { compileRulePack, type RulePackSource } from '../runtime/detection.js';

/** The shipped pack, found from this module (src/api or dist/api), so any working directory works. */
export const SHIPPED_RULES_DIR = fileURLToPath(new URL('../../rules/detections', import.meta.url));

/** Rule files of the configured folders and files (or the shipped pack), in a stable order. */
export function readDetectionFiles(c: VigilConfig['detection']): RuleFile[] {
  const problems: string[] = [];
  const files: RuleFile[] = [];
  for (const path of c.rules ?? [SHIPPED_RULES_DIR]) {
    try {
      files.push(...readRuleFiles(path, process.cwd()));
    } catch (e) {
      problems.push(`detection.rules: ${(e as Error).message}`);
    }
  }
  if (problems.length) throw new ConfigError('cannot load the detection rules', problems);
  return files;
}

/**
 * The rule files under a folder (or one file), in a stable order, each named by its path
 * relative to `namesFrom` (default: the folder itself).
 */
export function readRuleFiles(path: string, namesFrom: string = path): RuleFile[] {
  if (statSync(path).isFile()) return [{ file: path, text: readFileSync(path, 'utf8') }];
  const out: RuleFile[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(name)) out.push({ file: relative(namesFrom, p) || p, text: readFileSync(p, 'utf8') });
    }
  };
  walk(path);
  return out;
}

/** Read and compile the configured pack; throws ConfigError with every problem of every rule. */
export function loadDetection(c: VigilConfig['detection'], catalog: SignalCatalog): { source: RulePackSource; pack: CompiledPack } {
  const source: RulePackSource = { files: readDetectionFiles(c), disabled: c.disabled };
  const pack = compileRulePack(source, catalog, 'disable');
  if (pack.problems.length) throw new ConfigError('invalid detection rules', pack.problems.map((p) => `detection: ${p}`));
  return { source, pack };
}
