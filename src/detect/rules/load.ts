/**
 * Rule files to validated rule specs. A file is a YAML stream, one rule per document (`---`
 * between them). Every problem of every rule in every file is collected, each with its file,
 * line and rule id, so one `vigil rules check` run shows them all. Reading files is the
 * caller's job (CLI, composition root); this is pure.
 */
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import { ruleSchema, type RuleSpec } from './schema.js';
import { tagProblem } from './tags.js';

export interface RuleFile {
  /** Shown in problems; usually the path relative to the pack folder. */
  readonly file: string;
  readonly text: string;
}

export interface ParsedRule {
  readonly spec: RuleSpec;
  readonly file: string;
  readonly line: number;
}

export interface ParsedRules {
  readonly rules: readonly ParsedRule[];
  /** `file:line: rule <id>: <where>: <what>`; rules failing the schema are not listed. */
  readonly problems: readonly string[];
}

export function parseRuleFiles(files: readonly RuleFile[]): ParsedRules {
  const rules: ParsedRule[] = [];
  const problems: string[] = [];
  const firstAt = new Map<string, string>();
  for (const { file, text } of files) {
    const lines = new LineCounter();
    const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
    const list = Array.isArray(docs) ? docs : [];
    if (!Array.isArray(docs)) problems.push(`${file}: not a YAML stream`);
    const lineOf = (offset: number | undefined): number => (offset === undefined ? 1 : lines.linePos(offset).line);
    list.forEach((doc, i) => {
      const line = lineOf(doc.contents?.range?.[0]);
      if (doc.errors.length) {
        for (const e of doc.errors) problems.push(`${file}:${lineOf(e.pos[0])}: ${e.message.split('\n')[0]}`);
        return;
      }
      const raw: unknown = doc.toJS();
      if (raw === null || raw === undefined) return; // an empty document (a trailing ---)
      const id = typeof (raw as { id?: unknown }).id === 'string' ? (raw as { id: string }).id : `#${i + 1}`;
      const at = (path: readonly PropertyKey[]): string => `${file}:${nodeLine(doc, path, lineOf) ?? line}: rule ${id}`;
      const parsed = ruleSchema.safeParse(raw);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          const where = issue.path.length ? `${issue.path.map(String).join('.')}: ` : '';
          // An unknown key is best shown on its own line.
          const key = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
          problems.push(`${at(key)}: ${where}${issue.message}`);
        }
        return;
      }
      const spec = parsed.data;
      // Tag and id problems do not stop compilation: its problems are reported too.
      spec.tags.forEach((t, j) => {
        const p = tagProblem(t);
        if (p) problems.push(`${at(['tags', j])}: tags.${j}: ${p}`);
      });
      const prior = firstAt.get(spec.id);
      if (prior) problems.push(`${at(['id'])}: id: already used at ${prior}`);
      else firstAt.set(spec.id, `${file}:${line}`);
      rules.push({ spec, file, line });
    });
  }
  return { rules, problems };
}

function nodeLine(doc: Document, path: readonly PropertyKey[], lineOf: (o: number | undefined) => number): number | undefined {
  for (let n = path.length; n > 0; n--) {
    const node = doc.getIn(path.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
    if (node?.range) return lineOf(node.range[0]);
  }
  return undefined;
}
