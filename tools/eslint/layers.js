// ESLint rule `vigil/layers`: imports point down only (see ARCHITECTURE.md).
// Each file under src/ belongs to a layer named by its first folder; a relative import
// that lands in a layer the importer may not use fails the lint, and so does an I/O
// library imported outside the layers allowed to do I/O.
import path from 'node:path';

const DOMAIN = ['twin', 'detect', 'intel', 'alerts', 'ask', 'report', 'sim'];

/** Which layers each layer may import (besides itself). Domain folders import each other downward, in DOMAIN order. */
export const ALLOWED = {
  core: [],
  decode: ['core'],
  normalize: ['core', 'decode'],
  ...Object.fromEntries(
    DOMAIN.map((name, rank) => [name, ['core', 'decode', 'normalize', ...DOMAIN.slice(0, rank)]]),
  ),
  runtime: ['core', 'decode', 'normalize', ...DOMAIN],
  adapters: ['core', 'decode', 'normalize', ...DOMAIN, 'runtime'],
  api: ['core', 'decode', 'normalize', ...DOMAIN, 'runtime', 'adapters'],
  cli: ['core', 'decode', 'normalize', ...DOMAIN, 'runtime', 'adapters', 'api'],
};

/** Libraries that do I/O: only adapters and composition roots may import them. */
const IO_LIBRARIES = [
  /^@duckdb\//, /^pg$/, /^mqtt$/, /^aedes/, /^@nats-io\//, /^fastify/, /^@fastify\//,
  /^(node:)?(fs|fs\/promises|net|http|https|http2|dgram|tls|child_process)$/,
];
const IO_LAYERS = new Set(['adapters', 'api', 'cli']);

function layerOf(file, srcRoot) {
  const rel = path.relative(srcRoot, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const first = rel.split(path.sep)[0];
  return first in ALLOWED ? first : undefined;
}

export const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Imports point down the layers of ARCHITECTURE.md' },
    schema: [],
    messages: {
      upward: "Layer '{{from}}' may not import layer '{{to}}' ({{source}}): imports point down only.",
      io: "Layer '{{from}}' may not import the I/O library '{{source}}': only adapters, api and cli do I/O.",
    },
  },
  create(context) {
    const file = context.filename;
    const srcRoot = path.join(context.cwd, 'src');
    const from = layerOf(file, srcRoot);
    if (!from) return {};
    // Tests may read fixtures and datasets; they still may not import upward.
    const isTest = /\.test\.[cm]?[jt]s$/.test(file);
    const check = (node, source) => {
      if (typeof source !== 'string') return;
      if (source.startsWith('.')) {
        const to = layerOf(path.resolve(path.dirname(file), source), srcRoot);
        if (to && to !== from && !ALLOWED[from].includes(to)) {
          context.report({ node, messageId: 'upward', data: { from, to, source } });
        }
      } else if (!isTest && !IO_LAYERS.has(from) && IO_LIBRARIES.some((re) => re.test(source))) {
        context.report({ node, messageId: 'io', data: { from, source } });
      }
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};

export default { rules: { layers: layersRule } };
