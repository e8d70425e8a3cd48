/**
 * The cohort-baseline parameters the lanes run with: rules/models/cohort-baseline.yaml of the
 * package, read and checked once at start-up (and by `vigil config check`), every problem listed.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../core/errors.js';
import { parseBaselineParams, type BaselineParams } from '../detect/baseline.js';

export const SHIPPED_BASELINE_FILE = fileURLToPath(new URL('../../rules/models/cohort-baseline.yaml', import.meta.url));

export function loadBaselineParams(file = SHIPPED_BASELINE_FILE): BaselineParams {
  let json: unknown;
  try {
    json = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError('cannot load the cohort baseline parameters', [`${file}: ${(e as Error).message}`], { cause: e });
  }
  try {
    return parseBaselineParams(json, file);
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError('invalid cohort baseline parameters', e.problems.map((p) => `${file}: ${p}`));
    throw e;
  }
}
