/** The intel store's exposure summary, as the bulletin reads it (the port is src/intel/ports.ts). */
export type { ExposedVulnerability, ExposureSummary } from '../intel/ports.js';
