import { describe, expect, it } from 'vitest';
import { checkActionParams, checkPlaybook, conditionHolds, fillTemplates, triggersOn, type Playbook, type RunContext } from './playbooks.js';

const doc = {
  id: 'remote-command-abuse',
  title: 'Remote command abuse',
  trigger: { type: 'automatic', minSeverity: 'high', rules: ['api.remote_command_burst'] },
  inputs: { token: 'API token to revoke' },
  steps: [
    { id: 'revoke', action: 'revoke_token', when: { 'inputs.token': { exists: true } }, continueOnError: true, params: { token: '{{inputs.token}}' } },
    { action: 'notify', params: { channel: 'soc', message: 'Token {{inputs.token}}: {{steps.revoke.status}} on {{incident.id}}' } },
    { action: 'raise_collection', params: { durationS: 3600, signals: ['Vehicle.Speed'] } },
  ],
};

const ctx = (over: Partial<RunContext> = {}): RunContext => ({
  incident: { id: 'inc-1', severity: 'high', rules: ['r1', 'r2'], vehicleCount: 3, vehicle: '00112233aabbccdd' },
  inputs: { token: 'tok-9' }, playbook: { id: 'p', title: 'P' }, steps: { revoke: { status: 'succeeded', result: { name: 'app' } } }, ...over,
});

describe('playbooks', () => {
  it('parses a playbook with defaults filled in', () => {
    const c = checkPlaybook(doc, { channels: new Set(['soc']) });
    expect(c.problems).toEqual([]);
    const p = c.playbook!;
    expect(p.trigger).toEqual({ type: 'automatic', on: 'incident.created', minSeverity: 'high', rules: ['api.remote_command_burst'] });
    expect(p.steps[1]).toMatchObject({ continueOnError: false, params: { severity: 'incident' } });
    expect(p.steps[2]!.params).toMatchObject({ vehicles: 'incident', canFrames: false });
    expect(checkPlaybook({ id: 'm', title: 'M', steps: [{ action: 'notify', params: { channel: 'soc', message: 'x' } }] }).playbook!.trigger).toEqual({ type: 'manual' });
  });

  it('reports every problem with its path', () => {
    const bad = {
      id: 'Bad Id', title: '', trigger: { type: 'sometimes' },
      steps: [{ action: 'notify', params: { message: 'x' } }, { action: 'format_disk', params: {} }, { action: 'raise_collection', params: { durationS: 5 } }],
    };
    const { problems } = checkPlaybook(bad);
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^id: /), expect.stringMatching(/^title: /), expect.stringMatching(/^trigger/),
      expect.stringMatching(/^steps\.0\.params\.channel: /), expect.stringMatching(/^steps\.1\.action: /), expect.stringMatching(/^steps\.2\.params\.durationS: /),
    ]));
  });

  it('checks references across steps: earlier step ids, declared inputs, known channels', () => {
    const { problems } = checkPlaybook({
      id: 'x', title: 'X',
      steps: [
        { id: 'a', action: 'notify', when: { 'steps.b.status': 'succeeded' }, params: { channel: 'soc', message: '{{inputs.nope}} {{alert.id}}' } },
        { id: 'a', action: 'notify', params: { channel: 'pager', message: 'm' } },
      ],
    }, { channels: new Set(['soc']) });
    expect(problems).toEqual([
      'steps.0.when.steps.b.status: steps.b is not an earlier step\'s id',
      'steps.0.params.message: input "nope" is not declared under inputs',
      'steps.0.params.message: {{alert.id}} must start with incident., inputs., playbook. or steps.',
      'steps.1.id: "a" is already the id of an earlier step',
      'steps.1.params.channel: no channel "pager" in the config (playbooks.channels: soc)',
    ]);
  });

  it('fills templates: whole values keep their type, text is interpolated, missing is empty', () => {
    expect(fillTemplates({ token: '{{inputs.token}}', rules: '{{incident.rules}}', n: '{{incident.vehicleCount}}', msg: 'on {{incident.vehicle}} ({{steps.revoke.result.name}}) {{inputs.none}}!' }, ctx())).toEqual({
      token: 'tok-9', rules: ['r1', 'r2'], n: 3, msg: 'on 00112233aabbccdd (app) !',
    });
    // A whole-value template that resolves to nothing leaves the parameter out.
    expect(fillTemplates({ token: '{{inputs.token}}' }, ctx({ inputs: {} }))).toEqual({});
    // Prototype keys are not reachable.
    expect(fillTemplates('{{incident.constructor}}', ctx())).toBeUndefined();
  });

  it('evaluates conditions: equality, severity order, numbers, membership, existence', () => {
    const c = ctx();
    expect(conditionHolds(undefined, c)).toBe(true);
    expect(conditionHolds({ 'incident.severity': { gte: 'medium' } }, c)).toBe(true);
    expect(conditionHolds({ 'incident.severity': { gte: 'critical' } }, c)).toBe(false);
    expect(conditionHolds({ 'incident.vehicleCount': { gt: 2 } }, c)).toBe(true);
    expect(conditionHolds({ 'incident.vehicleCount': { lt: 2 } }, c)).toBe(false);
    expect(conditionHolds({ 'incident.rules': { contains: 'r2' } }, c)).toBe(true);
    expect(conditionHolds({ 'steps.revoke.status': 'succeeded', 'inputs.token': { in: ['a', 'tok-9'] } }, c)).toBe(true);
    expect(conditionHolds({ 'steps.revoke.status': { ne: 'succeeded' } }, c)).toBe(false);
    expect(conditionHolds({ 'inputs.token': { exists: false } }, ctx({ inputs: {} }))).toBe(true);
    expect(conditionHolds({ 'incident.id': { gte: 'x' } }, c)).toBe(false);
  });

  it('triggers automatic playbooks by severity and rule', () => {
    const p = checkPlaybook(doc).playbook as Playbook;
    expect(triggersOn(p, { severity: 'critical', rules: ['x', 'api.remote_command_burst'] })).toBe(true);
    expect(triggersOn(p, { severity: 'medium', rules: ['api.remote_command_burst'] })).toBe(false);
    expect(triggersOn(p, { severity: 'critical', rules: ['x'] })).toBe(false);
    expect(triggersOn({ ...p, trigger: { type: 'manual' } }, { severity: 'critical', rules: ['api.remote_command_burst'] })).toBe(false);
  });

  it('checks ad-hoc action parameters', () => {
    expect(checkActionParams('revoke_token', { token: 't1' })).toEqual({ params: { token: 't1' }, problems: [] });
    expect(checkActionParams('ota_campaign', { vehicles: { ids: ['nope'] } }).problems).toEqual(expect.arrayContaining([expect.stringMatching(/^params\.vehicles/), expect.stringMatching(/^params\.reason/)]));
    expect(checkActionParams('raise_collection', { durationS: 60, vehicles: { filter: {} } }).problems).toEqual([expect.stringMatching(/^params\.vehicles/)]);
  });
});
