import { ESLint } from 'eslint';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: root });

async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return result!.messages.filter((m) => m.ruleId === 'vigil/layers').map((m) => m.message);
}

describe('layer lint rule', () => {
  it('fails an upward import from core into runtime', async () => {
    const errors = await layerErrors('src/core/example.ts', "import { Pipeline } from '../runtime/pipeline.js';\nexport const p = Pipeline;\n");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("Layer 'core' may not import layer 'runtime'");
  });

  it('fails a domain layer importing an adapter, and re-exports too', async () => {
    const errors = await layerErrors('src/detect/example.ts', "export * from '../adapters/http/server.js';\n");
    expect(errors[0]).toContain("Layer 'detect' may not import layer 'adapters'");
  });

  it('fails an I/O library imported outside adapters', async () => {
    const errors = await layerErrors('src/runtime/example.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n");
    expect(errors[0]).toContain("may not import the I/O library 'node:fs'");
  });

  it('allows downward imports', async () => {
    const errors = await layerErrors('src/runtime/example.ts', "import { SignalCatalog } from '../core/catalog.js';\nimport { SignalEngine } from '../detect/engine.js';\nexport const x = [SignalCatalog, SignalEngine];\n");
    expect(errors).toEqual([]);
  });

  it('lets adapters import I/O libraries', async () => {
    const errors = await layerErrors('src/adapters/example.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n");
    expect(errors).toEqual([]);
  });
});

describe('layer lint rule in tests', () => {
  it('lets a test read files but not import upward', async () => {
    expect(await layerErrors('src/core/thing.test.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n")).toEqual([]);
    const errors = await layerErrors('src/core/thing.test.ts', "import { Pipeline } from '../runtime/pipeline.js';\nexport const p = Pipeline;\n");
    expect(errors[0]).toContain("Layer 'core' may not import layer 'runtime'");
  });
});
