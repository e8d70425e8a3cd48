/**
 * The demo fleet's vehicle lines, regions and ECU software: the data the fleet generator
 * draws from. WMIs are the manufacturers' real world manufacturer identifiers; descriptor
 * codes, plants and version strings are plausible, not copied from any VIN decoder.
 */

export type Powertrain = 'ICE' | 'HEV' | 'PHEV' | 'BEV';

export interface RegionDef {
  readonly id: string;
  /** Home cities: [latitude, longitude, altitude (m), name]. Vehicles live within ~25 km of one. */
  readonly cities: readonly (readonly [number, number, number, string])[];
  /** Mean air temperature (°C) and relative humidity (%) of the simulated season. */
  readonly tempC: number;
  readonly humidity: number;
  /** Typical motorway speed (km/h). */
  readonly motorwayKmh: number;
}

export const REGIONS: readonly RegionDef[] = [
  { id: 'us-west', tempC: 15, humidity: 62, motorwayKmh: 110,
    cities: [[37.7749, -122.4194, 16, 'San Francisco'], [34.0522, -118.2437, 89, 'Los Angeles'], [47.6062, -122.3321, 56, 'Seattle']] },
  { id: 'us-east', tempC: 8, humidity: 68, motorwayKmh: 105,
    cities: [[42.3314, -83.0458, 190, 'Detroit'], [40.7128, -74.006, 10, 'New York'], [33.749, -84.388, 320, 'Atlanta']] },
  { id: 'eu-central', tempC: 7, humidity: 78, motorwayKmh: 125,
    cities: [[48.1351, 11.582, 519, 'Munich'], [52.52, 13.405, 34, 'Berlin'], [50.1109, 8.6821, 112, 'Frankfurt']] },
  { id: 'eu-north', tempC: 3, humidity: 84, motorwayKmh: 110,
    cities: [[57.7089, 11.9746, 12, 'Gothenburg'], [59.3293, 18.0686, 28, 'Stockholm']] },
  { id: 'cn-east', tempC: 16, humidity: 72, motorwayKmh: 110,
    cities: [[31.2304, 121.4737, 4, 'Shanghai'], [22.5431, 114.0579, 10, 'Shenzhen']] },
];

export interface ModelDef {
  readonly make: string;
  readonly model: string;
  readonly wmi: string;
  readonly vds: string;
  readonly plants: string;
  readonly years: readonly [number, number];
  readonly powertrain: Powertrain;
  readonly trims: readonly string[];
  /** Relative share of the fleet. */
  readonly share: number;
  /** Region id -> relative share of this model's vehicles. */
  readonly regions: Readonly<Record<string, number>>;
  /** Usable traction battery (kWh); 0 without one. */
  readonly batteryKWh: number;
  /** Nominal traction battery voltage (V). */
  readonly packVolts: number;
  /** Fuel tank (l); 0 without one. */
  readonly tankL: number;
  /** Gears of the transmission (1 for a single-speed EV). */
  readonly gears: number;
  /** Tire pressure set point (kPa). */
  readonly tireKPa: number;
  /** The make's ECU software line-up. */
  readonly software: string;
}

export const MODELS: readonly ModelDef[] = [
  { make: 'Ford', model: 'F-150', wmi: '1FT', vds: 'FW1E5', plants: 'FK', years: [2018, 2025], powertrain: 'ICE',
    trims: ['XL', 'XLT', 'Lariat', 'King Ranch', 'Platinum'], share: 13, regions: { 'us-east': 6, 'us-west': 4 },
    batteryKWh: 0, packVolts: 0, tankL: 98, gears: 10, tireKPa: 240, software: 'ford' },
  { make: 'Ford', model: 'Mustang Mach-E', wmi: '3FM', vds: 'TK3SU', plants: 'M', years: [2021, 2025], powertrain: 'BEV',
    trims: ['Select', 'Premium', 'GT'], share: 6, regions: { 'us-east': 4, 'us-west': 4, 'eu-central': 2 },
    batteryKWh: 88, packVolts: 350, tankL: 0, gears: 1, tireKPa: 250, software: 'ford' },
  { make: 'Tesla', model: 'Model 3', wmi: '5YJ', vds: '3E1EA', plants: 'F', years: [2018, 2025], powertrain: 'BEV',
    trims: ['Standard Range', 'Long Range', 'Performance'], share: 13, regions: { 'us-west': 5, 'us-east': 2, 'eu-central': 2, 'eu-north': 1 },
    batteryKWh: 75, packVolts: 350, tankL: 0, gears: 1, tireKPa: 290, software: 'tesla' },
  { make: 'Tesla', model: 'Model Y', wmi: '7SA', vds: 'YGDEE', plants: 'A', years: [2020, 2025], powertrain: 'BEV',
    trims: ['Standard', 'Long Range', 'Performance'], share: 13, regions: { 'us-west': 5, 'us-east': 3, 'eu-central': 2 },
    batteryKWh: 75, packVolts: 350, tankL: 0, gears: 1, tireKPa: 290, software: 'tesla' },
  { make: 'Toyota', model: 'RAV4 Hybrid', wmi: '2T3', vds: 'RWRFV', plants: 'CW', years: [2019, 2025], powertrain: 'HEV',
    trims: ['LE', 'XLE', 'XSE', 'Limited'], share: 11, regions: { 'us-east': 4, 'us-west': 3, 'eu-central': 2, 'eu-north': 1 },
    batteryKWh: 1.6, packVolts: 245, tankL: 55, gears: 1, tireKPa: 240, software: 'toyota' },
  { make: 'Toyota', model: 'Corolla', wmi: 'JTD', vds: 'EPMAE', plants: 'J', years: [2019, 2025], powertrain: 'ICE',
    trims: ['L', 'LE', 'SE', 'XSE'], share: 9, regions: { 'us-west': 3, 'us-east': 3, 'eu-central': 2, 'cn-east': 2 },
    batteryKWh: 0, packVolts: 0, tankL: 50, gears: 1, tireKPa: 230, software: 'toyota' },
  { make: 'Volkswagen', model: 'ID.4', wmi: 'WVG', vds: 'ZZZE2', plants: 'PC', years: [2021, 2025], powertrain: 'BEV',
    trims: ['Pure', 'Pro', 'Pro S', 'GTX'], share: 8, regions: { 'eu-central': 7, 'eu-north': 2, 'us-east': 1 },
    batteryKWh: 77, packVolts: 400, tankL: 0, gears: 1, tireKPa: 260, software: 'vw' },
  { make: 'Volkswagen', model: 'Golf', wmi: 'WVW', vds: 'ZZZCD', plants: 'W', years: [2020, 2025], powertrain: 'ICE',
    trims: ['Life', 'Style', 'R-Line', 'GTI'], share: 8, regions: { 'eu-central': 8, 'eu-north': 2 },
    batteryKWh: 0, packVolts: 0, tankL: 50, gears: 7, tireKPa: 250, software: 'vw' },
  { make: 'BMW', model: 'i4', wmi: 'WBY', vds: '71AW0', plants: 'N', years: [2022, 2025], powertrain: 'BEV',
    trims: ['eDrive35', 'eDrive40', 'M50'], share: 4, regions: { 'eu-central': 6, 'us-east': 2, 'us-west': 2 },
    batteryKWh: 81, packVolts: 400, tankL: 0, gears: 1, tireKPa: 270, software: 'bmw' },
  { make: 'Volvo', model: 'XC60 Recharge', wmi: 'YV4', vds: 'H60DL', plants: '1', years: [2019, 2025], powertrain: 'PHEV',
    trims: ['Core', 'Plus', 'Ultimate'], share: 5, regions: { 'eu-north': 5, 'eu-central': 2, 'us-east': 3 },
    batteryKWh: 18.8, packVolts: 400, tankL: 71, gears: 8, tireKPa: 250, software: 'volvo' },
  { make: 'Hyundai', model: 'IONIQ 5', wmi: 'KM8', vds: 'KRDAF', plants: 'U', years: [2022, 2025], powertrain: 'BEV',
    trims: ['SE', 'SEL', 'Limited'], share: 5, regions: { 'us-east': 3, 'us-west': 2, 'eu-central': 3 },
    batteryKWh: 77.4, packVolts: 697, tankL: 0, gears: 1, tireKPa: 250, software: 'hyundai' },
  { make: 'BYD', model: 'Atto 3', wmi: 'LGX', vds: 'CE4CB', plants: 'S', years: [2022, 2025], powertrain: 'BEV',
    trims: ['Standard Range', 'Extended Range'], share: 5, regions: { 'cn-east': 8, 'eu-central': 2 },
    batteryKWh: 60.5, packVolts: 403, tankL: 0, gears: 1, tireKPa: 250, software: 'byd' },
];

/**
 * ECU software line-ups per make: ECU name -> versions, newest first. A vehicle runs one
 * version per ECU; newer versions are more common, and electrified drivetrains carry a BMS
 * where combustion ones carry an engine controller (ECM).
 */
export const SOFTWARE: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  ford: {
    TCU: ['TCU4G 25.03.2', 'TCU4G 24.11.0', 'TCU4G 23.09.4'],
    IVI: ['SYNC 4 3.9.24192', 'SYNC 4 3.7.23219', 'SYNC 4 3.4.22251'],
    GW: ['GWM 2.1.0', 'GWM 2.0.6', 'GWM 1.9.3'],
    ECM: ['PCM 21.4.1', 'PCM 21.2.0', 'PCM 20.9.7'],
    BMS: ['BECM 8.2.1', 'BECM 8.1.4', 'BECM 7.9.0'],
    ADAS: ['BlueCruise 1.4.2', 'BlueCruise 1.3.1', 'Co-Pilot360 2.0.5'],
  },
  tesla: {
    TCU: ['LTE-MDM 2025.20', 'LTE-MDM 2025.14', 'LTE-MDM 2024.45'],
    IVI: ['2025.20.6', '2025.14.3', '2024.45.32.12'],
    GW: ['GTW 2025.20.6', 'GTW 2025.14.3', 'GTW 2024.45.32'],
    BMS: ['BMS 2025.20', 'BMS 2025.14', 'BMS 2024.45'],
    ADAS: ['FSD 13.2.9', 'FSD 12.6.4', 'AP 11.4.9'],
  },
  toyota: {
    TCU: ['DCM 7.1.3', 'DCM 7.0.8', 'DCM 6.4.2'],
    IVI: ['Audio Multimedia 1.6.2', 'Audio Multimedia 1.5.1', 'Entune 3.0.4'],
    GW: ['CGW 4.2.0', 'CGW 4.1.3', 'CGW 3.8.1'],
    ECM: ['ECM 89663-42A10', 'ECM 89663-42990', 'ECM 89663-42980'],
    BMS: ['HV-BMS 3.3.0', 'HV-BMS 3.2.1', 'HV-BMS 3.0.5'],
    ADAS: ['TSS 3.0.2', 'TSS 2.5.7', 'TSS 2.0.4'],
  },
  vw: {
    TCU: ['OCU3 0718', 'OCU3 0612', 'OCU3 0455'],
    IVI: ['ICAS3 ME3.5.1', 'ICAS3 ME3.2.0', 'MIB3 4.1.8'],
    GW: ['ICAS1 3.5.1', 'ICAS1 3.2.0', 'GW 0591'],
    ECM: ['EA211 0013', 'EA211 0011', 'EA888 0874'],
    BMS: ['BMCe 3.5.1', 'BMCe 3.2.0', 'BMCe 2.4.3'],
    ADAS: ['Travel Assist 3.0', 'Travel Assist 2.5', 'Travel Assist 2.0'],
  },
  bmw: {
    TCU: ['TCB 25-07-540', 'TCB 25-03-530', 'TCB 24-11-520'],
    IVI: ['iDrive 8.5 25-07-540', 'iDrive 8.5 25-03-530', 'iDrive 8 24-11-520'],
    GW: ['BDC 25-07-540', 'BDC 25-03-530', 'BDC 24-11-520'],
    BMS: ['SME 25-07-540', 'SME 25-03-530', 'SME 24-11-520'],
    ADAS: ['SAS 25-07-540', 'SAS 25-03-530', 'SAS 24-11-520'],
  },
  volvo: {
    TCU: ['TCAM 3.4.1', 'TCAM 3.3.0', 'TCAM 3.1.2'],
    IVI: ['AAOS 3.2.4', 'AAOS 3.1.0', 'Sensus 4.12'],
    GW: ['CEM 2.40.1', 'CEM 2.38.0', 'CEM 2.31.4'],
    ECM: ['ECM 32.17.3', 'ECM 32.15.0', 'ECM 31.9.2'],
    BMS: ['BECM 5.6.0', 'BECM 5.4.2', 'BECM 5.1.1'],
    ADAS: ['Pilot Assist 4.2', 'Pilot Assist 4.0', 'Pilot Assist 3.5'],
  },
  hyundai: {
    TCU: ['ccNC-TMU 2.4.0', 'ccNC-TMU 2.3.1', 'TMU 1.9.8'],
    IVI: ['ccNC 2.4.0.117', 'ccNC 2.3.1.098', 'Gen5W 1.9.8.052'],
    GW: ['IGM 1.7.2', 'IGM 1.6.0', 'IGM 1.4.9'],
    BMS: ['BMS E-GMP 3.1', 'BMS E-GMP 2.8', 'BMS E-GMP 2.5'],
    ADAS: ['HDA2 2.1.4', 'HDA2 2.0.9', 'HDA 1.8.3'],
  },
  byd: {
    TCU: ['T-BOX 5.1.8', 'T-BOX 5.0.2', 'T-BOX 4.6.3'],
    IVI: ['DiLink 5.0.1', 'DiLink 4.0.8', 'DiLink 3.0.12'],
    GW: ['GW 2.3.0', 'GW 2.2.4', 'GW 2.0.7'],
    BMS: ['BMS Blade 3.1.2', 'BMS Blade 3.0.6', 'BMS Blade 2.8.1'],
    ADAS: ['DiPilot 3.2', 'DiPilot 3.0', 'DiPilot 2.4'],
  },
};

/** Whether a drivetrain has a traction battery / an engine / a charging port. */
export const hasBattery = (p: Powertrain): boolean => p !== 'ICE';
export const hasEngine = (p: Powertrain): boolean => p !== 'BEV';
export const canPlugIn = (p: Powertrain): boolean => p === 'BEV' || p === 'PHEV';
