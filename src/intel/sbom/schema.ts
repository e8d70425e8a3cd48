/**
 * CycloneDX JSON schema validation with ajv, against the schemas the CycloneDX library ships
 * (`@cyclonedx/cyclonedx-library/res/schema`). The schemas are handed in as objects: reading
 * them is the caller's I/O (an adapter, or a test), this module only compiles and checks.
 *
 * The library's own validator needs `ajv-formats-draft2019`, which is not a dependency here;
 * its two formats the schemas use are defined below: `idn-email` (something@something) and
 * `iri-reference` (no whitespace or control characters) — looser than the RFCs, stated so.
 */
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS: under NodeNext the default import is module.exports, whose `default` is the plugin
const addFormats = addFormatsModule.default;

export interface CycloneDxSchemas {
  /** specVersion (`1.5`, `1.6`...) -> the bom-<v>.SNAPSHOT.schema.json object. */
  bom: Record<string, object>;
  /** spdx.SNAPSHOT.schema.json */
  spdx: object;
  /** jsf-0.82.SNAPSHOT.schema.json */
  jsf: object;
}

/** Returns a validator: the schema problems of a parsed CycloneDX document (empty when valid). */
export function cycloneDxValidator(schemas: CycloneDxSchemas): (doc: unknown) => string[] {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addFormat('idn-email', /^[^\s@]+@[^\s@]+$/u);
  ajv.addFormat('iri-reference', /^[^\s\p{Cc}]*$/u);
  // the bom schemas refer to these by their SNAPSHOT file names
  ajv.addSchema({ ...schemas.spdx, $id: 'http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json' });
  ajv.addSchema({ ...schemas.jsf, $id: 'http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json' });
  const compiled = new Map<string, ReturnType<Ajv['compile']>>();
  return (doc: unknown): string[] => {
    const version = typeof doc === 'object' && doc !== null ? (doc as { specVersion?: unknown }).specVersion : undefined;
    if (typeof version !== 'string') return ['specVersion is missing: cannot pick a schema'];
    const schema = schemas.bom[version];
    if (!schema) return [`no schema supplied for CycloneDX ${version}`];
    let validate = compiled.get(version);
    if (!validate) {
      validate = ajv.compile(schema);
      compiled.set(version, validate);
    }
    if (validate(doc)) return [];
    return (validate.errors ?? []).slice(0, 50).map(describe);
  };
}

function describe(e: ErrorObject): string {
  return `schema: ${e.instancePath || '/'} ${e.message ?? e.keyword}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`;
}
