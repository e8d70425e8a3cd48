/** Detection templates: exploit behaviours as parameterised rules, fitted to vulnerabilities (README.md). */
export { parseTemplates, templateSchema, COMPONENT_KINDS, type DetectionTemplate, type TemplateFile, type TemplateParam } from './schema.js';
export { suggestTemplates, attackVectors, componentKinds, type Suggestion } from './suggest.js';
export { renderDetection, checkDetection, resolveParams, detectionId, cveOf, type DetectionCheck, type FieldProblem, type ParamValue, type Rendered } from './render.js';
