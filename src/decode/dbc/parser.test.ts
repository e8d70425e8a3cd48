import { describe, expect, it } from 'vitest';
import { formatDiagnostic, parseDbc } from './index.js';

const SAMPLE = `VERSION "1.2"

NS_ :
\tNS_DESC_
\tCM_
\tBA_DEF_
\tSG_MUL_VAL_

BS_:

BU_: ECU GW Dash

VAL_TABLE_ OnOff 1 "On" 0 "Off" ;

BO_ 100 Engine: 8 ECU
 SG_ Rpm : 7|16@0+ (0.25,0) [0|16383.75] "rpm" GW,Dash
 SG_ Temp : 16|8@1- (1,-40) [-40|215] "degC" Dash
 SG_ Mode M : 24|2@1+ (1,0) [0|3] "" GW
 SG_ Sub m1M : 26|2@1+ (1,0) [0|3] "" GW
 SG_ A m0 : 32|8@1+ (1,0) [0|255] "" GW
 SG_ B m2 : 32|8@1+ (1,0) [0|255] "" GW

BO_ 2566844672 J1939Msg: 8 GW
 SG_ Ratio : 0|32@1- (1,0) [0|0] "" Vector__XXX
 SG_ Big : 32|32@1+ (1,0) [0|0] "" Vector__XXX

BO_TX_BU_ 100 : GW,Dash;

CM_ "Network comment
spanning two lines";
CM_ BU_ ECU "Engine control";
CM_ BO_ 100 "Engine status";
CM_ SG_ 100 Rpm "Engine speed, say \\"rpm\\"";
CM_ "IMPORT _common.dbc";
BA_DEF_ BO_ "GenMsgCycleTime" INT 0 65535;
BA_DEF_ SG_ "GenSigStartValue" FLOAT 0 1e9;
BA_DEF_ "BusType" STRING ;
BA_DEF_ BO_ "VFrameFormat" ENUM "StandardCAN","ExtendedCAN";
BA_DEF_DEF_ "GenMsgCycleTime" 100;
BA_DEF_DEF_ "BusType" "CAN";
BA_ "BusType" "CAN FD";
BA_ "GenMsgCycleTime" BO_ 100 20;
BA_ "VFrameFormat" BO_ 2566844672 1;
BA_ "GenSigStartValue" SG_ 100 Temp 40;
VAL_ 100 Mode 0 "Idle" 1 "Run" 2 "Crank" 3 "Off" ;
VAL_ 100 Temp -40 "Cold" 215 "Hot";
SIG_VALTYPE_ 2566844672 Ratio : 1;
SG_MUL_VAL_ 100 B Sub 2-3, 5-5;
`;

describe('parseDbc', () => {
  const { db, errors, warnings } = parseDbc(SAMPLE, 'sample.dbc');

  it('reads a complete file without errors or warnings', () => {
    expect(errors.map(formatDiagnostic)).toEqual([]);
    expect(warnings.map(formatDiagnostic)).toEqual([]);
    expect(db.version).toBe('1.2');
    expect(db.nodes.map((n) => n.name)).toEqual(['ECU', 'GW', 'Dash']);
    expect(db.valueTables.get('OnOff')).toEqual(new Map([[1, 'On'], [0, 'Off']]));
    expect(db.imports).toEqual(['_common.dbc']);
  });

  it('reads messages and signals: byte order, sign, scale, range, unit, receivers', () => {
    const engine = db.messages.find((m) => m.name === 'Engine')!;
    expect(engine).toMatchObject({ id: 100, extended: false, size: 8, transmitter: 'ECU', transmitters: ['GW', 'Dash'], comment: 'Engine status', line: 15 });
    const [rpm, temp] = engine.signals;
    expect(rpm).toMatchObject({ name: 'Rpm', startBit: 7, length: 16, byteOrder: 'big_endian', signed: false, factor: 0.25, offset: 0, min: 0, max: 16383.75, unit: 'rpm', receivers: ['GW', 'Dash'], comment: 'Engine speed, say "rpm"' });
    expect(temp).toMatchObject({ byteOrder: 'little_endian', signed: true, offset: -40, min: -40, values: new Map([[-40, 'Cold'], [215, 'Hot']]) });
    expect(temp!.attributes).toEqual({ GenSigStartValue: 40 });
  });

  it('resolves simple and extended multiplexing', () => {
    const sig = (n: string) => db.messages[0]!.signals.find((s) => s.name === n)!;
    expect(sig('Mode')).toMatchObject({ multiplexor: true });
    expect(sig('Mode').mux).toBeUndefined();
    expect(sig('Sub')).toMatchObject({ multiplexor: true, muxValue: 1, mux: { switchName: 'Mode', ranges: [[1, 1]] } });
    expect(sig('A').mux).toEqual({ switchName: 'Mode', ranges: [[0, 0]] });
    // SG_MUL_VAL_ wins over m2: B hangs off Sub, values 2-3 and 5.
    expect(sig('B').mux).toEqual({ switchName: 'Sub', ranges: [[2, 3], [5, 5]] });
  });

  it('keeps extended ids with bit 31, SIG_VALTYPE_ floats, comments and attributes', () => {
    const j = db.messages[1]!;
    expect(j).toMatchObject({ id: 0x98fef100, extended: true, attributes: { VFrameFormat: 1 } });
    expect(j.signals[0]).toMatchObject({ name: 'Ratio', valueType: 'float' });
    expect(j.signals[1]).toMatchObject({ name: 'Big', valueType: 'integer', length: 32 });
    expect(db.comment).toBe('Network comment\nspanning two lines');
    expect(db.nodes[0]!.comment).toBe('Engine control');
    expect(db.attributes).toEqual({ BusType: 'CAN FD' });
    expect(db.messages[0]!.attributes).toEqual({ GenMsgCycleTime: 20 });
    expect(db.attributeDefs.get('GenMsgCycleTime')).toEqual({ name: 'GenMsgCycleTime', objectType: 'message', type: 'INT', min: 0, max: 65535, default: 100 });
    expect(db.attributeDefs.get('VFrameFormat')).toMatchObject({ type: 'ENUM', values: ['StandardCAN', 'ExtendedCAN'] });
  });

  it('reports errors with file, line and column, and goes on with the next statement', () => {
    const text = ['BO_ 1 A: 8 X', ' SG_ S1 : 0|8@2+ (1,0) [0|1] "" X', ' SG_ S2 : 8|8@1+ (1,0) [0|1] "" X', 'BO_ 2 B 8 X', ' SG_ S3 : 0|8@1+ (1,0) [0|1] "" X', 'BO_ 3 C: 8 X', ' SG_ S4 : 0|8@1* (1,0) [0|1] "" X', ''].join('\n');
    const r = parseDbc(text, 'bad.dbc');
    expect(r.errors.map(formatDiagnostic)).toEqual([
      'bad.dbc:2:15: error: SG_: byte order must be 0 (Motorola) or 1 (Intel), found 2',
      "bad.dbc:4:9: error: BO_: expected ':' after the message name, found number 8",
      'bad.dbc:7:16: error: unexpected character "*"',
      "bad.dbc:7:18: error: SG_: expected '+' (unsigned) or '-' (signed) after the byte order, found '('",
    ]);
    // S2 still parsed; B's signals are skipped quietly with it.
    expect(r.db.messages.map((m) => [m.name, m.signals.map((s) => s.name)])).toEqual([['A', ['S2']], ['C', []]]);
  });

  it('rejects impossible layouts and ambiguous multiplexing, with precise messages', () => {
    const text = [
      'BO_ 1 A: 8 X',
      ' SG_ Zero : 0|0@1+ (1,0) [0|1] "" X',
      ' SG_ Long : 0|65@1+ (1,0) [0|1] "" X',
      ' SG_ Far : 600|8@1+ (1,0) [0|1] "" X',
      ' SG_ Past : 60|8@1+ (1,0) [0|1] "" X',
      ' SG_ Orphan m1 : 8|8@1+ (1,0) [0|1] "" X',
      ' SG_ Dup : 16|8@1+ (1,0) [0|1] "" X',
      ' SG_ Dup : 24|8@1+ (1,0) [0|1] "" X',
      ' SG_ F : 32|16@1+ (1,0) [0|1] "" X',
      'BO_ 1 Again: 8 X',
      'SIG_VALTYPE_ 1 F : 1;',
      '',
    ].join('\n');
    const r = parseDbc(text, 'x.dbc');
    expect(r.errors.map(formatDiagnostic)).toEqual([
      'x.dbc:2:2: error: signal Zero is 0 bits long; signals have 1 to 64 bits',
      'x.dbc:3:2: error: signal Long is 65 bits long; signals have 1 to 64 bits',
      'x.dbc:4:2: error: signal Far (start bit 600, 8 bits, Intel) reaches byte 75, past the 64 bytes of any CAN frame',
      'x.dbc:6:1: error: signal Orphan of message A is multiplexed (m1) but the message has no multiplexor (M) signal',
      'x.dbc:8:2: error: signal Dup is defined twice in message A (first at line 7); this one is ignored',
      'x.dbc:10:1: error: message 0x1 Again is defined twice (first at line 1 as A); this one is ignored',
      'x.dbc:11:1: error: float signal F must be 32 bits long, not 16',
    ]);
    expect(r.warnings.map(formatDiagnostic)).toEqual([
      'x.dbc:5:2: warning: signal Past (start bit 60, 8 bits, Intel) needs 9 byte(s) but message A declares 8: decoded only from frames long enough',
    ]);
  });

  it('skips unused sections and unknown keywords with a warning, and tolerates slips seen in real files', () => {
    const text = [
      'BO_ 1 A: 8 X',
      ' SG_ S m : 0|8@1+ (1,0) [0|1] "" X',
      'EV_ Env: 0 [0|1] "" 0 1 DUMMY_NODE_VECTOR0 X;',
      'SIG_GROUP_ 1 G 1 : S;',
      'FOO_ 1 2 3;',
      'CM_ SG_ 1 "no signal named";',
      'CM_ 1 "bare id"',
      'VAL_ 1 S 0 "a"',
      'CM_ SG_ 7 S "no such message";',
      'VAL_ 1 T 0 "b";',
      '',
    ].join('\n');
    const r = parseDbc(text, 'w.dbc');
    expect(r.errors).toEqual([]);
    expect(r.warnings.map(formatDiagnostic)).toEqual([
      "w.dbc:2:8: warning: multiplexer indicator 'm' of signal S read as 'M' (the switch)",
      'w.dbc:3:1: warning: EV_ (environment variable) is not used by Vigil: skipped',
      'w.dbc:4:1: warning: SIG_GROUP_ (signal group) is not used by Vigil: skipped',
      "w.dbc:5:1: warning: unknown section 'FOO_' skipped",
      'w.dbc:6:11: warning: CM_ SG_ 1 names no signal: ignored',
      'w.dbc:7:5: warning: CM_ 1: the object keyword is missing; read as CM_ BO_ 1',
      "w.dbc:7:16: warning: missing ';' ending CM_",
      "w.dbc:8:15: warning: missing ';' ending VAL_ 1 S",
      'w.dbc:9:1: warning: CM_ refers to message 0x7, which this file does not define: ignored',
      'w.dbc:10:1: warning: VAL_ refers to signal T, which message A (0x1) does not have: ignored',
    ]);
    expect(r.db.messages[0]!.comment).toBe('bare id');
    expect(r.db.messages[0]!.signals[0]).toMatchObject({ multiplexor: true, values: new Map([[0, 'a']]) });
  });

  it('reports an unterminated string at its opening quote', () => {
    const r = parseDbc('BO_ 1 A: 8 X\nCM_ BO_ 1 "never closed;\n', 'u.dbc');
    expect(r.errors.map(formatDiagnostic)).toContain('u.dbc:2:11: error: unterminated string (no closing ")');
  });
});
