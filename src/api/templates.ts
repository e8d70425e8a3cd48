/** The shipped detection templates (rules/templates), read once at start; a problem is a configuration error. */
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../core/errors.js';
import { parseTemplates, type DetectionTemplate } from '../intel/templates/index.js';
import { readRuleFiles } from './detection.js';

/** Found from this module (src/api or dist/api), so any working directory works. */
export const SHIPPED_TEMPLATES_DIR = fileURLToPath(new URL('../../rules/templates', import.meta.url));

export function loadTemplates(dir: string = SHIPPED_TEMPLATES_DIR): DetectionTemplate[] {
  const { templates, problems } = parseTemplates(readRuleFiles(dir));
  if (problems.length) throw new ConfigError('invalid detection templates', problems.map((p) => `templates: ${p}`));
  return templates;
}
