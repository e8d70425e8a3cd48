/**
 * Priority: one 0..100 number to rank vulnerabilities by, with every point explained.
 *
 *   CVSS           0..40   4 x the highest computed base score (ae-cvss-calculator, feeds/cvss.ts)
 *   EPSS           0..25   25 x sqrt(EPSS probability): 0.01 -> 2.5, 0.1 -> 7.9, 0.5 -> 17.7
 *   KEV            0..20   15 when CISA lists it as exploited, +5 when used in ransomware
 *   attack surface 0..15   how the exposed ECU can be reached, by the best surface both sides allow
 *
 * The attack surface joins what the vulnerability needs (CVSS attack vector; description words:
 * Bluetooth, Wi-Fi, cellular, USB/OBD...) with what the exposed ECU offers by its kind (TCU:
 * cellular, Wi-Fi; IVI: Bluetooth, Wi-Fi, USB; gateway: OBD, in-vehicle network; powertrain,
 * battery, ADAS ECUs: in-vehicle network only). A network-vector flaw on an ECU with no radio
 * counts as in-vehicle network. A withdrawn vulnerability scores 0.
 */
import type { CvssScore, Vulnerability } from './model.js';

export type Surface = 'cellular' | 'wifi' | 'bluetooth' | 'network' | 'in-vehicle' | 'local' | 'physical';

/** Points of each surface (the most reachable one counts). */
export const SURFACE_POINTS: Readonly<Record<Surface, number>> = {
  cellular: 15, network: 13, wifi: 12, bluetooth: 12, 'in-vehicle': 6, local: 5, physical: 3,
};

export interface PriorityFactor {
  readonly factor: 'cvss' | 'epss' | 'kev' | 'surface' | 'withdrawn';
  readonly points: number;
  readonly max: number;
  readonly why: string;
}

export interface Priority {
  readonly score: number;
  readonly surface: Surface | null;
  readonly factors: readonly PriorityFactor[];
}

/** What priority reads of a vulnerability. */
export type PriorityInput = Pick<Vulnerability, 'cvss' | 'epss' | 'kev' | 'withdrawn' | 'description' | 'title'>;

/** Surfaces an ECU offers, by its name (TCU, IVI, GW...). Unknown kinds: undefined (no limit). */
export function ecuSurfaces(ecu: string): Surface[] | undefined {
  const e = ecu.trim().toLowerCase();
  if (/\b(tcu|tcam|tbox|t-box|tmu|dcm|ocu\d?|telematic|modem|tcb)/.test(e)) return ['cellular', 'network', 'wifi', 'bluetooth', 'in-vehicle', 'local', 'physical'];
  if (/\b(ivi|hu|head ?unit|infotainment|cockpit|multimedia)/.test(e)) return ['wifi', 'bluetooth', 'in-vehicle', 'local', 'physical'];
  if (/\b(gw|gateway|cgw|cem|bdc|obd)/.test(e)) return ['in-vehicle', 'local', 'physical'];
  if (/\b(ecm|pcm|bms|becm|adas|ecu|vcu|bcm)\b/.test(e)) return ['in-vehicle', 'physical'];
  return undefined;
}

const WORDS: readonly [Surface, RegExp][] = [
  ['bluetooth', /\b(bluetooth|bluez|ble|l2cap|a2dp|rfcomm|bnep|blueborne)\b/i],
  ['wifi', /\b(wi-?fi|wlan|802\.11|wpa2?|hostapd|wireless lan)\b/i],
  ['cellular', /\b(cellular|lte|4g|5g|3g|gsm|umts|baseband|modem|sms|cellular network|telematics)\b/i],
  ['physical', /\b(usb|obd|obd-?ii|jtag|uart|physical access|can bus|diagnostic port)\b/i],
];

/** The surfaces a vulnerability needs: from the CVSS attack vectors and the description. */
export function vulnerabilitySurfaces(v: PriorityInput): Surface[] {
  const out = new Set<Surface>();
  const text = `${v.title ?? ''} ${v.description ?? ''}`;
  for (const [s, re] of WORDS) if (re.test(text)) out.add(s);
  for (const c of v.cvss) {
    const av = /AV:([NALP])/.exec(c.vector)?.[1];
    if (av === 'N') out.add('network');
    if (av === 'A') {
      if (!out.has('bluetooth') && !out.has('wifi')) out.add('in-vehicle');
    }
    if (av === 'L') out.add('local');
    if (av === 'P') out.add('physical');
  }
  return [...out];
}

/** The best surface reachable on one of the exposed ECUs (all of them unknown: the vulnerability's own best). */
export function attackSurface(v: PriorityInput, ecus: readonly string[]): { surface: Surface | null; why: string } {
  const needs = vulnerabilitySurfaces(v);
  if (!needs.length) return { surface: null, why: 'no attack vector or surface words known' };
  const offered = ecus.map((e) => [e, ecuSurfaces(e)] as const);
  let best: { surface: Surface; why: string } | undefined;
  const consider = (s: Surface, why: string): void => {
    if (!best || SURFACE_POINTS[s] > SURFACE_POINTS[best.surface]) best = { surface: s, why };
  };
  for (const need of needs) {
    if (!offered.length || offered.every(([, o]) => o === undefined)) {
      consider(need, `the vulnerability is reachable over ${need}`);
      continue;
    }
    for (const [ecu, o] of offered) {
      if (!o) continue;
      if (o.includes(need)) consider(need, `${need} on ${ecu}`);
      else if (need === 'network') {
        // A network-vector flaw: the ECU's own external link, else the in-vehicle network.
        const link = (['cellular', 'wifi', 'bluetooth'] as const).find((s) => o.includes(s));
        consider(link ?? 'in-vehicle', link ? `network attack vector, ${ecu} has ${link}` : `network attack vector, ${ecu} is reached over the in-vehicle network`);
      }
    }
  }
  return best ?? { surface: null, why: `none of ${needs.join(', ')} is offered by ${ecus.join(', ')}` };
}

/** The highest computed base score and its statement. */
export function topCvss(scores: readonly CvssScore[]): CvssScore | undefined {
  let top: CvssScore | undefined;
  for (const c of scores) if (c.baseScore !== null && (!top || c.baseScore > top.baseScore!)) top = c;
  return top;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** The priority of a vulnerability exposed on these ECUs (names as vehicles report them). */
export function priority(v: PriorityInput, ecus: readonly string[] = []): Priority {
  if (v.withdrawn) return { score: 0, surface: null, factors: [{ factor: 'withdrawn', points: 0, max: 100, why: 'withdrawn' }] };
  const factors: PriorityFactor[] = [];
  const top = topCvss(v.cvss);
  factors.push(top
    ? { factor: 'cvss', points: round1(4 * top.baseScore!), max: 40, why: `CVSS ${top.version} ${top.baseScore} (${top.vector})` }
    : { factor: 'cvss', points: 0, max: 40, why: 'no CVSS vector could be scored' });
  factors.push(v.epss
    ? { factor: 'epss', points: round1(25 * Math.sqrt(v.epss.score)), max: 25, why: `EPSS ${v.epss.score} (percentile ${v.epss.percentile})` }
    : { factor: 'epss', points: 0, max: 25, why: 'no EPSS score' });
  factors.push(v.kev
    ? { factor: 'kev', points: v.kev.knownRansomware ? 20 : 15, max: 20, why: `in CISA KEV since ${v.kev.dateAdded}${v.kev.knownRansomware ? ', used in ransomware' : ''}` }
    : { factor: 'kev', points: 0, max: 20, why: 'not in CISA KEV' });
  const s = attackSurface(v, ecus);
  factors.push({ factor: 'surface', points: s.surface ? SURFACE_POINTS[s.surface] : 0, max: 15, why: s.why });
  const score = Math.min(100, Math.round(factors.reduce((a, f) => a + f.points, 0)));
  return { score, surface: s.surface, factors };
}
