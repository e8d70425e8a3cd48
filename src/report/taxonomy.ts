/**
 * What the bulletin counts incidents by, and how an incident is placed:
 *
 * - **Category**: the UN R155 Annex 5 Part A threat group (4.3.1 .. 4.3.7) of the `R155-A5:`
 *   tags the detections put on their alerts. A tag naming a group counts for that group; a tag
 *   naming a Table A1 threat example (`R155-A5:11.3`) counts for the group the threat sits in.
 *   An incident counts once in every group one of its alerts' tags falls in; one whose alerts
 *   carry no R155 tag is "not mapped". (The Auto-ISAC ATM matrix would give tactics, but it is
 *   third-party data Vigil may not ship, so ATM techniques are listed by id only.)
 * - **Asset**: what the rule watches, from the rule id by the longest prefix in ASSET_RULES
 *   (the rule's domain, `charging` of `charging.meter-rollback`, or a finer prefix such as
 *   `fleet.ota`). An incident counts once in every asset one of its rules maps to; rules no
 *   prefix matches count as `other`.
 */
import { R155_REFS } from '../detect/rules/tags.js';

export const ASSETS = [
  'telematics-server', 'charging', 'cockpit', 'sensitive-data', 'connectivity', 'in-vehicle-network',
  'software-update', 'keys-access', 'vehicle-functions', 'fleet', 'other',
] as const;
export type Asset = (typeof ASSETS)[number];

export const ASSET_LABELS: Readonly<Record<Asset, string>> = {
  'telematics-server': 'Telematics server and back-end APIs',
  charging: 'Charging (stations, sessions, id tokens)',
  cockpit: 'Cockpit and infotainment (IVI, Bluetooth, Wi-Fi)',
  'sensitive-data': 'Sensitive data (exfiltration, bulk downloads)',
  connectivity: 'Connectivity and positioning (TCU, cellular, V2X, GNSS)',
  'in-vehicle-network': 'In-vehicle network and ECUs (CAN, UDS, IDS)',
  'software-update': 'Software, updates and PKI (OTA, secure boot, certificates)',
  'keys-access': 'Keys and vehicle access (keyless, immobilizer, doors)',
  'vehicle-functions': 'Driving and safety functions (ADAS, chassis, battery)',
  fleet: 'Fleet-wide campaigns (several assets)',
  other: 'Other (rule not mapped)',
};

/**
 * Rule-id prefix -> asset. A prefix is a whole domain (`api`) or a domain and the start of the
 * rest (`fleet.ota`); the longest matching prefix wins. Covers every domain of the shipped pack
 * (rules/detections) and of the code detectors (`can.*`, `api.stuffing`, `odometer.rollback`,
 * `vigil.ids_event`); `report/taxonomy.test.ts` keeps it so.
 */
export const ASSET_RULES: readonly { readonly prefix: string; readonly asset: Asset }[] = [
  ...['api', 'admin', 'remote', 'diag'].map((d) => ({ prefix: `${d}.`, asset: 'telematics-server' as const })),
  { prefix: 'charging.', asset: 'charging' },
  ...['ivi', 'infotainment', 'bluetooth', 'wifi'].map((d) => ({ prefix: `${d}.`, asset: 'cockpit' as const })),
  { prefix: 'exfil.', asset: 'sensitive-data' },
  ...['tcu', 'connectivity', 'v2x', 'gnss'].map((d) => ({ prefix: `${d}.`, asset: 'connectivity' as const })),
  ...['can', 'signals', 'uds', 'debug', 'dtc', 'ids', 'vigil'].map((d) => ({ prefix: `${d}.`, asset: 'in-vehicle-network' as const })),
  ...['ota', 'boot', 'pki'].map((d) => ({ prefix: `${d}.`, asset: 'software-update' as const })),
  ...['keyless', 'immo', 'theft', 'body', 'tow'].map((d) => ({ prefix: `${d}.`, asset: 'keys-access' as const })),
  ...['adas', 'chassis', 'speed', 'gear', 'airbag', 'bms', 'power', 'tpms', 'odometer'].map((d) => ({ prefix: `${d}.`, asset: 'vehicle-functions' as const })),
  { prefix: 'fleet.', asset: 'fleet' },
  { prefix: 'fleet.ota', asset: 'software-update' },
  { prefix: 'fleet.gnss', asset: 'connectivity' },
  { prefix: 'fleet.ids', asset: 'in-vehicle-network' },
];

/** The asset of one rule id (the same longest-prefix rule the store applies in SQL). */
export function assetOf(rule: string): Asset {
  let best: { prefix: string; asset: Asset } | undefined;
  for (const r of ASSET_RULES) if (rule.startsWith(r.prefix) && (!best || r.prefix.length > best.prefix.length)) best = r;
  return best?.asset ?? 'other';
}

/** UN R155 Annex 5 Part A threat groups, with the Table A1 threats (numbers) each holds. */
export const THREAT_GROUPS = [
  { id: '4.3.1', short: 'Back-end servers', label: 'Back-end servers related to vehicles in the field', threats: [1, 2, 3] },
  { id: '4.3.2', short: 'Communication channels', label: 'Vehicle communication channels', threats: [4, 5, 6, 7, 8, 9, 10, 11] },
  { id: '4.3.3', short: 'Update procedures', label: 'Vehicle update procedures', threats: [12, 13] },
  { id: '4.3.4', short: 'Unintended human actions', label: 'Unintended human actions facilitating an attack', threats: [15] },
  { id: '4.3.5', short: 'External connectivity', label: 'External connectivity and connections', threats: [16, 17, 18] },
  { id: '4.3.6', short: 'Vehicle data and code', label: 'Vehicle data and code', threats: [19, 20, 21, 22, 23, 24, 25] },
  { id: '4.3.7', short: 'Weaknesses if not hardened', label: 'Vulnerabilities exploitable if not hardened', threats: [26, 27, 28, 29, 30, 31, 32] },
] as const;
export type ThreatGroup = (typeof THREAT_GROUPS)[number]['id'];
/** The category of incidents whose alerts carry no R155 tag. */
export const UNMAPPED = 'unmapped';
export type Category = ThreatGroup | typeof UNMAPPED;

export const CATEGORY_LABELS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(THREAT_GROUPS.map((g) => [g.id, g.label])),
  [UNMAPPED]: 'No R155 threat reference',
};

/** The threat group of an `R155-A5:` tag, or undefined for another tag. */
export function threatGroupOf(tag: string): ThreatGroup | undefined {
  if (!tag.startsWith('R155-A5:')) return undefined;
  const ref = tag.slice('R155-A5:'.length);
  if (!R155_REFS.has(ref)) return undefined;
  const group = THREAT_GROUPS.find((g) => g.id === ref);
  if (group) return group.id;
  const threat = Number(ref.split('.')[0]);
  return THREAT_GROUPS.find((g) => (g.threats as readonly number[]).includes(threat))?.id;
}

/** Every valid R155 tag with its group: the exact-match table the store joins alert tags with. */
export const CATEGORY_TAGS: readonly { readonly tag: string; readonly category: ThreatGroup }[] = [...R155_REFS]
  .map((ref) => ({ tag: `R155-A5:${ref}`, category: threatGroupOf(`R155-A5:${ref}`) }))
  .filter((x): x is { tag: string; category: ThreatGroup } => x.category !== undefined);

/** An Auto-ISAC ATM technique tag (`ATM-T0070`; tactics `ATM-TA....` are not techniques). */
export const ATM_TECHNIQUE = /^ATM-T\d{4}$/;
