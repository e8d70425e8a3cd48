/**
 * Mapping files: shape problems and binding problems, all reported at once with their place;
 * and what a binding does to values on their way from frames to VSS rows.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SignalBatchBuilder } from '../../core/batch.js';
import { CanFrameBatchBuilder } from '../../core/can.js';
import { flattenVss, SignalCatalog, type SignalSpec } from '../../core/catalog.js';
import { dataset } from '../../../test/datasets.js';
import { compileCanBinding } from './bind.js';
import { parseCanMapping } from './mapping.js';

const DBC = `BO_ 16 Motion: 8 ECU
 SG_ SpeedMph : 0|16@1+ (0.01,0) [0|655.35] "mph" X
 SG_ Pedal : 16|10@1+ (0.1,0) [0|102.3] "%" X
 SG_ Gear : 26|3@1+ (1,0) [0|7] "" X
 SG_ Door : 29|1@1+ (1,0) [0|1] "" X
 SG_ Rpm : 32|16@1+ (1,0) [0|65535] "rpm" X
 SG_ Temp : 48|8@1+ (1,-40) [-40|215] "degC" X
VAL_ 16 Gear 0 "Park" 1 "Reverse" 2 "Neutral" 3 "Drive" 7 "Invalid" ;
`;

const SPECS: SignalSpec[] = [
  { path: 'Vehicle.Speed', datatype: 'float', kind: 'sensor', unit: 'km/h' },
  { path: 'Vehicle.Chassis.Accelerator.PedalPosition', datatype: 'uint8', kind: 'sensor', unit: 'percent', min: 0, max: 100 },
  { path: 'Vehicle.Powertrain.Transmission.SelectedGear', datatype: 'int8', kind: 'actuator' },
  { path: 'Vehicle.Body.Lights.Brake.IsActive', datatype: 'string', kind: 'actuator', allowed: ['INACTIVE', 'ACTIVE', 'ADAPTIVE'] },
  { path: 'Vehicle.Cabin.Door.Row1.DriverSide.IsOpen', datatype: 'boolean', kind: 'actuator' },
  { path: 'Vehicle.Powertrain.CombustionEngine.Speed', datatype: 'float', kind: 'sensor', unit: 'rpm', max: 8000 },
  { path: 'Vehicle.Exterior.AirTemperature', datatype: 'float', kind: 'sensor', unit: 'celsius' },
  { path: 'Vehicle.Cabin.Seat.Row1.DriverSide.Position', datatype: 'uint16[]', kind: 'actuator' },
];
const catalog = new SignalCatalog(SPECS);

const MAPPING = `version: 1
signals:
  - signal: Motion.SpeedMph
    path: Vehicle.Speed
  - signal: 16.Pedal
    path: Vehicle.Chassis.Accelerator.PedalPosition
  - signal: Motion.Gear
    path: Vehicle.Powertrain.Transmission.SelectedGear
    values: { Park: 126, Reverse: -1, Neutral: 0, Drive: 127 }
    ignore: [7]
  - signal: Motion.Gear
    path: Vehicle.Body.Lights.Brake.IsActive
    values: { 0: ACTIVE }
    default: INACTIVE
  - signal: Motion.Door
    path: Vehicle.Cabin.Door.Row1.DriverSide.IsOpen
  - signal: 0x10.Rpm
    path: Vehicle.Powertrain.CombustionEngine.Speed
  - signal: Motion.Temp
    path: Vehicle.Exterior.AirTemperature
    scale: 2
    offset: 1
`;

const source = (mappingText: string) => ({ dbcFile: 'dir/motion.dbc', dbcText: DBC, mappingFile: 'motion.vss.yaml', mappingText });

function frame(speedRaw: number, pedalRaw: number, gear: number, door: number, rpm: number, tempRaw: number): number[] {
  const w = speedRaw | (pedalRaw << 16) | (gear << 26) | (door << 29);
  return [w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, (w >>> 24) & 0xff, rpm & 0xff, rpm >>> 8, tempRaw, 0];
}

describe('mapping files', () => {
  it('reports every shape problem at once, with file, line, column and path', () => {
    const text = ['version: 2', 'signals:', '  - signal: Motion', '    path: vehicle.speed', '    scale: 0', '    colour: red', '  - signal: Motion.Gear', '    path: Vehicle.Speed', '    values: { 1: 2 }', '    unit: km/h', ''].join('\n');
    const shape = parseCanMapping(text, 'm.yaml');
    expect(shape.mapping).toBeUndefined();
    expect(shape.problems).toEqual([
      'm.yaml:1:10: version: expected 1',
      'm.yaml:3:13: signals.0.signal: expected Message.Signal, or <id>.Signal with a decimal or 0x id',
      'm.yaml:4:11: signals.0.path: expected a VSS path such as Vehicle.Speed',
      'm.yaml:5:12: signals.0.scale: a finite, non-zero number',
      'm.yaml:3:5: signals.0: Unrecognized key: "colour"',
    ]);
    // Checks across keys run once the shape is right.
    const fixed = text.replace('version: 2', 'version: 1').replace('Motion\n', 'Motion.Pedal\n').replace('vehicle.speed', 'Vehicle.Speed').replace('scale: 0', 'scale: 1').replace('    colour: red\n', '');
    expect(parseCanMapping(fixed, 'm.yaml').problems).toEqual(['m.yaml:8:13: signals.1.values: values give the VSS value itself; scale, offset and unit do not apply with them']);
    expect(parseCanMapping('signals: [1, 2', 'bad.yaml').problems[0]).toMatch(/^bad\.yaml:1:\d+: /);
  });

  it('reports every binding problem at once: DBC, catalog, types and units', () => {
    const text = [
      'version: 1', 'dbc: other.dbc', 'signals:',
      '  - { signal: Nope.Speed, path: Vehicle.Speed }',
      '  - { signal: Motion.Nope, path: Vehicle.Speed }',
      '  - { signal: 0x99.Pedal, path: Vehicle.Speed }',
      '  - { signal: Motion.Pedal, path: Vehicle.Nowhere }',
      '  - { signal: Motion.Gear, path: Vehicle.Body.Lights.Brake.IsActive }',
      '  - { signal: Motion.Gear, path: Vehicle.Body.Lights.Brake.IsActive, values: { Park: PARKED, Sport: ACTIVE } }',
      '  - { signal: Motion.Door, path: Vehicle.Cabin.Door.Row1.DriverSide.IsOpen, values: { 1: 1 } }',
      '  - { signal: Motion.Rpm, path: Vehicle.Speed }',
      '  - { signal: Motion.Pedal, path: Vehicle.Cabin.Seat.Row1.DriverSide.Position }',
      '',
    ].join('\n');
    expect(compileCanBinding(source(text), catalog).problems).toEqual([
      'motion.vss.yaml: dbc: the mapping is written for other.dbc, not motion.dbc',
      'motion.vss.yaml:4:5: signals.0.signal: Nope.Speed: the DBC has no message named Nope',
      'motion.vss.yaml:5:5: signals.1.signal: Motion.Nope: message Motion has no signal Nope',
      'motion.vss.yaml:6:5: signals.2.signal: 0x99.Pedal: the DBC has no message with id 0x99 (or it has no signals)',
      'motion.vss.yaml:7:5: signals.3.path: Vehicle.Nowhere is not in the signal catalog',
      'motion.vss.yaml:8:5: signals.4.path: Vehicle.Body.Lights.Brake.IsActive is a string; map the DBC values to its values with `values`',
      'motion.vss.yaml:9:5: signals.5.values.Park: Vehicle.Body.Lights.Brake.IsActive = "PARKED" is not one of INACTIVE, ACTIVE, ADAPTIVE',
      'motion.vss.yaml:9:5: signals.5.values.Sport: Sport is neither an integer nor a value label of Motion.Gear (labels: Park, Reverse, Neutral, Drive, Invalid)',
      'motion.vss.yaml:10:5: signals.6.values.1: Vehicle.Cabin.Door.Row1.DriverSide.IsOpen is boolean: expected true or false, got 1',
      "motion.vss.yaml:11:5: signals.7.signal: Motion.Rpm is in rpm, which does not convert to Vehicle.Speed's km/h; set `unit` (and `scale`/`offset`) to say what the value is",
      'motion.vss.yaml:12:5: signals.8.path: Vehicle.Cabin.Seat.Row1.DriverSide.Position is an array (uint16[]); a CAN signal cannot feed it',
    ]);
  });

  it('converts units, scales, rounds integers, maps value tables and booleans, and refuses what the catalog refuses', () => {
    const { binding, problems } = compileCanBinding(source(MAPPING), catalog);
    expect(problems).toEqual([]);
    const frames = new CanFrameBatchBuilder({ tenant: 't', vin: 'V', source: 'test' });
    const t0 = 1_700_000_000_000;
    frames.push(t0, 16, frame(6000, 255, 3, 1, 800, 60)); // 60 mph, 25.5 %, Drive, door open, 800 rpm, 20 °C
    frames.push(t0 + 10, 16, frame(0, 1023, 0, 0, 9000, 40)); // 102.3 % and 9000 rpm: out of range; Park
    frames.push(t0 + 20, 16, frame(0, 0, 7, 0, 0, 40)); // gear 7: "not available", ignored
    frames.push(t0 + 30, 16, frame(0, 0, 5, 0, 0, 40)); // gear 5: no mapping, no default
    frames.push(t0 + 40, 99, frame(0, 0, 0, 0, 0, 0)); // unknown id
    frames.push(t0 + 9e9, 16, frame(0, 0, 0, 0, 0, 40)); // far in the future
    const out = new SignalBatchBuilder('t');
    const r = binding!.map(frames.build(), out, out.vehicleIndex('v1'), t0 + 1000);
    const b = out.build();
    const rows = Array.from({ length: b.size }, (_, i) => [b.time[i]! - t0, catalog.byIdOf(b.signal[i]!)!.path, b.text?.[i] ?? b.value[i]]);
    expect(rows).toEqual([
      [0, 'Vehicle.Speed', expect.closeTo(96.56064, 6)],
      [0, 'Vehicle.Chassis.Accelerator.PedalPosition', 26],
      [0, 'Vehicle.Powertrain.Transmission.SelectedGear', 127],
      [0, 'Vehicle.Body.Lights.Brake.IsActive', 'INACTIVE'],
      [0, 'Vehicle.Cabin.Door.Row1.DriverSide.IsOpen', 1],
      [0, 'Vehicle.Powertrain.CombustionEngine.Speed', 800],
      [0, 'Vehicle.Exterior.AirTemperature', 41],
      [10, 'Vehicle.Speed', 0],
      [10, 'Vehicle.Powertrain.Transmission.SelectedGear', 126],
      [10, 'Vehicle.Body.Lights.Brake.IsActive', 'ACTIVE'],
      [10, 'Vehicle.Cabin.Door.Row1.DriverSide.IsOpen', 0],
      [10, 'Vehicle.Exterior.AirTemperature', 1],
      [20, 'Vehicle.Speed', 0],
      [20, 'Vehicle.Chassis.Accelerator.PedalPosition', 0],
      [20, 'Vehicle.Body.Lights.Brake.IsActive', 'INACTIVE'],
      [20, 'Vehicle.Cabin.Door.Row1.DriverSide.IsOpen', 0],
      [20, 'Vehicle.Powertrain.CombustionEngine.Speed', 0],
      [20, 'Vehicle.Exterior.AirTemperature', 1],
      [30, 'Vehicle.Speed', 0],
      [30, 'Vehicle.Chassis.Accelerator.PedalPosition', 0],
      [30, 'Vehicle.Body.Lights.Brake.IsActive', 'INACTIVE'],
      [30, 'Vehicle.Cabin.Door.Row1.DriverSide.IsOpen', 0],
      [30, 'Vehicle.Powertrain.CombustionEngine.Speed', 0],
      [30, 'Vehicle.Exterior.AirTemperature', 1],
    ]);
    expect(r).toMatchObject({ rows: 24, unknownFrames: 1, shortFrames: 0, ignored: 1 });
    expect(r.refused.map((g) => [g.code, g.count, g.frames, g.reason])).toEqual([
      ['value.out_of_range', 1, [1], 'Vehicle.Chassis.Accelerator.PedalPosition = 102 is outside [0, 100] percent (from Motion.Pedal)'],
      ['value.out_of_range', 1, [1], 'Vehicle.Powertrain.CombustionEngine.Speed = 9000 is outside [-inf, 8000] rpm (from Motion.Rpm)'],
      ['value.unmapped', 1, [3], 'Motion.Gear -> Vehicle.Powertrain.Transmission.SelectedGear: raw value 5 is not in the mapping\'s values and there is no default'],
      ['time.future', 7, [5], `event time ${t0 + 9e9} of frame 5 is more than the allowed skew ahead of the clock (${t0 + 1000}) (and 6 more like it in this batch)`],
    ]);
  });

  const dbc = dataset('dbc/opendbc/volvo_v40_2017_pt.dbc', 'dbc/mapping.test.ts');
  const vss = dataset('vss/vss_release_6.0.json', 'dbc/mapping.test.ts');
  it.skipIf(dbc.skip || vss.skip)('binds the shipped Volvo V40 mapping to opendbc\'s DBC and the VSS 6.0 catalog', () => {
    const file = new URL('../../../rules/can/volvo_v40_2017_pt.vss.yaml', import.meta.url);
    const r = compileCanBinding(
      { dbcFile: dbc.path, dbcText: readFileSync(dbc.path, 'utf8'), mappingFile: 'volvo_v40_2017_pt.vss.yaml', mappingText: readFileSync(file, 'utf8') },
      new SignalCatalog(flattenVss(JSON.parse(readFileSync(vss.path, 'utf8')))),
    );
    expect(r.problems).toEqual([]);
    expect(r.binding!.mappedSignals).toBeGreaterThanOrEqual(15);
  });
});
