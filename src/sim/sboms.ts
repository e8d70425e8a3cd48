/**
 * SBOMs of the demo fleet: one CycloneDX 1.6 document per (make, ECU, software version) of the
 * SOFTWARE line-ups (models.ts), deterministic (same input, same bytes), with components a real
 * ECU of that kind carries — Linux kernel, BusyBox, OpenSSL, BlueZ, wpa_supplicant, QNX,
 * Android, AUTOSAR Classic stacks, modem firmware — each with a purl and a CPE 2.3 name, so the
 * matcher has real identities to compare. Older software versions (later in a line-up) carry
 * older components. The subject carries `vigil:ecu` and `vigil:software-version`, which bind
 * the SBOM to the vehicles whose twin reports that ECU at that version (no vehicle model:
 * versions are per make).
 *
 *   const docs = demoSboms();             // [{ name: 'sbom/ford/TCU/TCU4G 25.03.2.cdx.json', make, ecu, version, doc }]
 */
import { hash32 } from './prng.js';
import { SOFTWARE } from './models.js';

export interface DemoSbom {
  readonly name: string;
  readonly make: string;
  readonly ecu: string;
  readonly version: string;
  /** The CycloneDX 1.6 JSON document. */
  readonly doc: Record<string, unknown>;
}

interface Part {
  readonly name: string;
  readonly supplier: string;
  /** CPE vendor and product. */
  readonly cpe: readonly [part: 'a' | 'o' | 'h', vendor: string, product: string];
  readonly type: 'library' | 'operating-system' | 'firmware' | 'application';
  /** Newest first: software version i of a line-up takes versions[min(i, length - 1)]. */
  readonly versions: readonly string[];
}

const P = {
  linux: { name: 'linux', supplier: 'The Linux Foundation', cpe: ['o', 'linux', 'linux_kernel'], type: 'operating-system', versions: ['6.1.90', '5.15.148', '5.10.120', '4.9.118'] },
  busybox: { name: 'busybox', supplier: 'BusyBox', cpe: ['a', 'busybox', 'busybox'], type: 'application', versions: ['1.36.1', '1.35.0', '1.31.1'] },
  openssl: { name: 'openssl', supplier: 'OpenSSL Software Foundation', cpe: ['a', 'openssl', 'openssl'], type: 'library', versions: ['3.0.14', '3.0.8', '1.1.1w'] },
  bluez: { name: 'bluez', supplier: 'BlueZ Project', cpe: ['a', 'bluez', 'bluez'], type: 'application', versions: ['5.72', '5.65', '5.55'] },
  wpa: { name: 'wpa_supplicant', supplier: 'w1.fi', cpe: ['a', 'w1.fi', 'wpa_supplicant'], type: 'application', versions: ['2.10', '2.10', '2.9'] },
  curl: { name: 'curl', supplier: 'curl project', cpe: ['a', 'haxx', 'curl'], type: 'application', versions: ['8.7.1', '8.4.0', '7.88.1'] },
  dnsmasq: { name: 'dnsmasq', supplier: 'Thekelleys', cpe: ['a', 'thekelleys', 'dnsmasq'], type: 'application', versions: ['2.90', '2.89', '2.85'] },
  zlib: { name: 'zlib', supplier: 'zlib', cpe: ['a', 'zlib', 'zlib'], type: 'library', versions: ['1.3.1', '1.2.13', '1.2.11'] },
  sqlite: { name: 'sqlite', supplier: 'SQLite', cpe: ['a', 'sqlite', 'sqlite'], type: 'library', versions: ['3.45.1', '3.40.1', '3.31.1'] },
  mdm: { name: 'qualcomm-mdm9607-modem-firmware', supplier: 'Qualcomm', cpe: ['o', 'qualcomm', 'mdm9607_firmware'], type: 'firmware', versions: ['MPSS.JO.3.1.2', 'MPSS.JO.3.1', 'MPSS.JO.2.0'] },
  sdx: { name: 'qualcomm-sdx55-modem-firmware', supplier: 'Qualcomm', cpe: ['o', 'qualcomm', 'sdx55_firmware'], type: 'firmware', versions: ['MPSS.HI.4.3.2', 'MPSS.HI.4.3', 'MPSS.HI.3.1'] },
  qnx: { name: 'qnx-neutrino-rtos', supplier: 'BlackBerry', cpe: ['o', 'blackberry', 'qnx_neutrino_rtos'], type: 'operating-system', versions: ['7.1.0', '7.0.0', '6.6.0'] },
  android: { name: 'android', supplier: 'Google', cpe: ['o', 'google', 'android'], type: 'operating-system', versions: ['13.0', '12.0', '11.0'] },
  autosar: { name: 'autosar-classic-bsw', supplier: 'Vector Informatik', cpe: ['a', 'vector', 'microsar_classic'], type: 'library', versions: ['4.7.0', '4.4.0', '4.3.1'] },
  mbedtls: { name: 'mbedtls', supplier: 'Arm', cpe: ['a', 'arm', 'mbed_tls'], type: 'library', versions: ['3.6.0', '3.4.1', '2.28.3'] },
  lwip: { name: 'lwip', supplier: 'lwIP', cpe: ['a', 'lwip_project', 'lwip'], type: 'library', versions: ['2.2.0', '2.1.3', '2.1.2'] },
  hsm: { name: 'hsm-firmware', supplier: 'Infineon', cpe: ['o', 'infineon', 'aurix_hsm_firmware'], type: 'firmware', versions: ['3.2.0', '3.1.4', '2.9.1'] },
} as const satisfies Record<string, Part>;

/** What an ECU of each kind carries, by make where platforms differ (QNX or Android head units, modems). */
function partsOf(make: string, ecu: string): Part[] {
  switch (ecu) {
    case 'TCU':
      return [P.linux, P.busybox, P.openssl, P.curl, P.dnsmasq, P.wpa, P.zlib, ['tesla', 'bmw', 'hyundai'].includes(make) ? P.sdx : P.mdm];
    case 'IVI':
      if (['ford', 'vw', 'toyota'].includes(make)) return [P.qnx, P.openssl, P.sqlite, P.zlib];
      if (['volvo', 'byd'].includes(make)) return [P.android, P.bluez, P.openssl, P.sqlite];
      return [P.linux, P.bluez, P.wpa, P.openssl, P.sqlite, P.zlib, P.busybox];
    case 'GW':
      return [P.autosar, P.lwip, P.mbedtls, P.hsm];
    case 'ADAS':
      return [P.linux, P.openssl, P.zlib, P.autosar];
    default:
      return [P.autosar, P.hsm];
  }
}

/** The SBOM of one ECU software version (`index`: its place in the make's line-up, newest 0). */
export function ecuSbom(make: string, ecu: string, version: string, index: number): DemoSbom {
  const parts = partsOf(make, ecu);
  const serial = uuid(hash32(1, index, 0), `${make}/${ecu}/${version}`);
  const components = parts.map((p) => {
    const v = p.versions[Math.min(index, p.versions.length - 1)]!;
    const [part, vendor, product] = p.cpe;
    return {
      type: p.type, 'bom-ref': `${p.name}@${v}`, supplier: { name: p.supplier }, name: p.name, version: v,
      purl: `pkg:generic/${p.name}@${encodeURIComponent(v)}`,
      cpe: `cpe:2.3:${part}:${vendor}:${product}:${v.replace(/([:*?!])/g, '\\$1')}:*:*:*:*:*:*:*`,
    };
  });
  const subjectRef = `${make}-${ecu}-${version}`.replace(/\s+/g, '-');
  const doc = {
    bomFormat: 'CycloneDX', specVersion: '1.6', serialNumber: serial, version: 1,
    metadata: {
      timestamp: '2026-01-15T00:00:00Z',
      tools: { components: [{ type: 'application', name: 'vigil-sim', version: '0.1.0' }] },
      component: {
        type: 'firmware', 'bom-ref': subjectRef, name: `${make} ${ecu}`, version,
        properties: [{ name: 'vigil:ecu', value: ecu }, { name: 'vigil:software-version', value: version }],
      },
    },
    components,
    dependencies: [{ ref: subjectRef, dependsOn: components.map((c) => c['bom-ref']) }],
  };
  return { name: `sbom/${make}/${ecu}/${version}.cdx.json`, make, ecu, version, doc };
}

/** Every (make, ECU, version) of the SOFTWARE line-ups, in a stable order. */
export function demoSboms(): DemoSbom[] {
  const out: DemoSbom[] = [];
  for (const [make, lineup] of Object.entries(SOFTWARE)) {
    for (const [ecu, versions] of Object.entries(lineup)) versions.forEach((v, i) => out.push(ecuSbom(make, ecu, v, i)));
  }
  return out;
}

/** A UUID-shaped serial number from a seed and text, stable across runs. */
function uuid(seed: number, text: string): string {
  let h = seed >>> 0;
  const hex: string[] = [];
  for (let i = 0; i < 4; i++) {
    for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    hex.push(h.toString(16).padStart(8, '0'));
  }
  const s = hex.join('');
  return `urn:uuid:${s.slice(0, 8)}-${s.slice(8, 12)}-4${s.slice(13, 16)}-8${s.slice(17, 20)}-${s.slice(20, 32)}`;
}
