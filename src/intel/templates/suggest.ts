/**
 * Which templates fit a vulnerability, best first, with the reasons. Evidence and weights:
 *
 * | evidence                                                     | points |
 * |--------------------------------------------------------------|--------|
 * | a CWE of the vulnerability is one the template lists         | 3      |
 * | a CVSS vector's attack vector (AV:N/A/L/P) is one it lists   | 2      |
 * | each of its keywords in the descriptions, title or products  | 2 (at most 3 keywords count) |
 * | a component kind found in the vulnerability that it lists    | 2 each (at most 2) |
 *
 * A template needs a keyword or a component kind to be suggested at all: a CWE and an attack
 * vector alone (a buffer overflow over the network) fit half the templates equally.
 */
import type { Vulnerability } from '../model.js';
import { COMPONENT_KINDS, type AttackVector, type ComponentKind, type DetectionTemplate } from './schema.js';

export interface Suggestion {
  readonly template: string;
  readonly title: string;
  readonly score: number;
  /** Each piece of evidence: `CWE-787`, `AV:A`, `'L2CAP' in the description`, `component bluetooth`. */
  readonly reasons: readonly string[];
  /** `CWE-787 and AV:A and 'L2CAP' in the description -> bluetooth-stack-rce` */
  readonly summary: string;
}

/** Words that place a vulnerability in a component kind (whole words, case-insensitive). */
const KIND_WORDS: Readonly<Record<ComponentKind, readonly string[]>> = {
  bluetooth: ['bluetooth', 'l2cap', 'bluez', 'bluesdk', 'blueborne', 'bnep', 'rfcomm', 'a2dp', 'avrcp', 'hfp'],
  cellular: ['baseband', 'cellular', 'gsm', 'lte', '3g', '2g', 'modem', 'at command', 'qmi'],
  telematics: ['telematics', 'tcu', 'telematic control unit', 'telematics control unit', 's-gold', 'connectivity module'],
  infotainment: ['infotainment', 'head unit', 'headunit', 'ivi', 'mbux', 'ntg', 'mib3', 'hu_nbt', 'cockpit'],
  browser: ['browser', 'webkit', 'chromium', 'javascript', 'webview', 'html'],
  diagnostics: ['uds', 'diagnostic', 'diagnostics', 'securityaccess', 'security access', 'obd', 'obd-ii', 'seed', 'doip'],
  gateway: ['gateway', 'central gateway'],
  can: ['can bus', 'can-bus', 'canbus', 'can frame', 'can message', 'can messages', 'ecus'],
  ota: ['ota', 'over-the-air', 'firmware update', 'software update', 'update', 'signature validation', 'code-signing', 'code signing', 'redbend'],
  // Not 'server': CPE product names (enterprise_linux_server) would place every OS CVE here.
  backend: ['api', 'backend', 'back-end', 'telematics server', 'portal', 'idor', 'authorization', 'cloud', 'mobile app'],
  charging: ['ocpp', 'charge point', 'charging station', 'charger', 'evse', 'chargepoint', 'wallbox'],
};

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const wordRe = (w: string): RegExp => new RegExp(`(^|[^a-z0-9])${escape(w.toLowerCase())}($|[^a-z0-9])`);

/** The texts of a vulnerability, by where they come from. */
function texts(v: Vulnerability): { where: string; text: string }[] {
  const out: { where: string; text: string }[] = [];
  if (v.title) out.push({ where: 'the title', text: v.title });
  if (v.description) out.push({ where: 'the description', text: v.description });
  for (const d of v.descriptions ?? []) out.push({ where: 'the description', text: d.text });
  for (const a of v.affected) {
    const product = [a.vendor, a.product, a.packageName, a.cpe].filter((x) => x && x !== 'n/a').join(' ');
    if (product) out.push({ where: 'the products', text: product.replace(/[_:]/g, ' ') });
  }
  return out.map((t) => ({ ...t, text: t.text.toLowerCase() }));
}

/** CVSS attack vectors (`AV:A` in v2, v3 and v4 vectors). */
export function attackVectors(v: Vulnerability): AttackVector[] {
  const out = new Set<AttackVector>();
  for (const c of v.cvss) {
    const m = /(?:^|\/)AV:([NALP])(?:\/|$)/.exec(c.vector);
    if (m) out.add(m[1] as AttackVector);
  }
  return [...out];
}

/** Component kinds a vulnerability's texts and products name. */
export function componentKinds(v: Vulnerability): ComponentKind[] {
  const all = texts(v);
  return COMPONENT_KINDS.filter((k) => KIND_WORDS[k].some((w) => all.some((t) => wordRe(w).test(t.text))));
}

/** Score one template against a vulnerability; undefined when it does not fit. */
export function fitOf(t: DetectionTemplate, v: Vulnerability, facts = factsOf(v)): Suggestion | undefined {
  const reasons: string[] = [];
  let score = 0;
  const cwe = t.fits.cwes.filter((c) => facts.cwes.includes(c));
  if (cwe.length) {
    score += 3;
    reasons.push(cwe.join('/'));
  }
  const av = t.fits.attackVectors.filter((a) => facts.vectors.includes(a));
  if (av.length) {
    score += 2;
    reasons.push(av.map((a) => `AV:${a}`).join('/'));
  }
  let words = 0;
  for (const k of t.fits.keywords) {
    const hit = facts.texts.find((x) => wordRe(k).test(x.text));
    if (!hit) continue;
    if (words++ < 3) score += 2;
    reasons.push(`'${k}' in ${hit.where}`);
  }
  const kinds = t.fits.components.filter((k) => facts.kinds.includes(k));
  score += 2 * Math.min(2, kinds.length);
  for (const k of kinds) reasons.push(`component ${k}`);
  if (!words && !kinds.length) return undefined;
  return { template: t.id, title: t.title, score, reasons, summary: `${reasons.join(' and ')} -> ${t.id}` };
}

function factsOf(v: Vulnerability) {
  return { cwes: [...new Set(v.cwes.map((c) => c.cwe))], vectors: attackVectors(v), texts: texts(v), kinds: componentKinds(v) };
}

/** The templates that fit `v`, best first (ties by template id). */
export function suggestTemplates(templates: readonly DetectionTemplate[], v: Vulnerability): Suggestion[] {
  const facts = factsOf(v);
  return templates
    .map((t) => fitOf(t, v, facts))
    .filter((s): s is Suggestion => s !== undefined)
    .sort((a, b) => b.score - a.score || a.template.localeCompare(b.template));
}
