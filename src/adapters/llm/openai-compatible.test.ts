/**
 * The language-model path against a stand-in server written here that speaks the
 * OpenAI-compatible protocol (POST /v1/chat/completions, structured output) over real HTTP:
 * what the model is sent (catalog, values, JSON schema, never a request for SQL), the repair
 * round after a rejected query, endpoint failures, and the whole question path on DuckDB
 * (engine first, the model when the engine refuses, a repair after a failed execution).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { queryFromModel, ModelError, type ChatRequest } from '../../ask/model.js';
import { askQuestion } from '../../ask/question.js';
import { ManualClock } from '../../core/clock.js';
import { DuckDBAskExecutor } from '../duckdb/ask-executor.js';
import { DuckDBAskValues } from '../duckdb/ask-vocabulary.js';
import { DuckDBStore } from '../duckdb/duckdb-store.js';
import { OpenAiCompatibleModel } from './openai-compatible.js';

interface Received {
  readonly path: string;
  readonly auth: string | undefined;
  readonly body: { model: string; messages: { role: string; content: string }[]; response_format: ChatRequest['responseFormat']; temperature: number };
}

/** A stand-in chat-completions server: answers from a script, records what it was sent. */
class StandIn {
  readonly received: Received[] = [];
  script: (string | { status: number; body: string })[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req).then(([status, body]) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    }));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  private async handle(req: IncomingMessage): Promise<[number, string]> {
    let text = '';
    for await (const chunk of req) text += chunk;
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return [404, '{"error":"not found"}'];
    this.received.push({ path: req.url, auth: req.headers.authorization, body: JSON.parse(text) as Received['body'] });
    const next = this.script.shift();
    if (next === undefined) return [500, '{"error":"script exhausted"}'];
    if (typeof next !== 'string') return [next.status, next.body];
    return [200, JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: next }, finish_reason: 'stop' }] })];
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

const NOW = Date.UTC(2026, 10, 20, 12);
const server = new StandIn();
beforeAll(() => server.start());
afterAll(() => server.stop());
afterEach(() => {
  server.received.length = 0;
  server.script = [];
});

describe('the OpenAI-compatible model adapter', () => {
  it('sends the catalog, the values, the question and the JSON schema; returns the validated typed query', async () => {
    const model = new OpenAiCompatibleModel({ url: server.url, model: 'qwen2.5-7b-instruct', apiKey: 'sk-test' });
    server.script = [JSON.stringify({ entity: 'alerts', groupBy: ['vehicle.make'], time: { kind: 'relative', last: 30, unit: 'day' } })];
    const r = await queryFromModel(model, 'alerts per brand over the last month', NOW, { fields: { make: ['Tesla', 'Ford'] } });
    expect(r).toMatchObject({ rounds: 1, query: { entity: 'alerts', groupBy: ['vehicle.make'] } });
    const sent = server.received[0]!;
    expect(sent.auth).toBe('Bearer sk-test');
    expect(sent.body.model).toBe('qwen2.5-7b-instruct');
    expect(sent.body.temperature).toBe(0);
    expect(sent.body.response_format.type).toBe('json_schema');
    const schema = sent.body.response_format.json_schema.schema as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['entity', 'measures', 'filters', 'groupBy', 'time', 'analysis']));
    expect(schema.required).toEqual(['entity']);
    const system = sent.body.messages[0]!.content;
    expect(system).toContain('entity alerts');
    expect(system).toContain('vehicle.make');
    expect(system).toContain('make: Tesla | Ford');
    expect(system).toContain('Never write SQL');
    expect(sent.body.messages[1]).toEqual({ role: 'user', content: 'alerts per brand over the last month' });
  });

  it('gives one repair round with the validation problems, then gives up', async () => {
    const model = new OpenAiCompatibleModel({ url: server.url, model: 'm' });
    server.script = [
      '```json\n{"entity":"alerts","groupBy":["brand"]}\n```',
      '{"entity":"alerts","groupBy":["vehicle.make"]}',
    ];
    const r = await queryFromModel(model, 'alerts by brand', NOW);
    expect(r).toMatchObject({ rounds: 2, query: { groupBy: ['vehicle.make'] } });
    const repair = server.received[1]!.body.messages;
    expect(repair).toHaveLength(4);
    expect(repair[2]).toMatchObject({ role: 'assistant' });
    expect(repair[3]!.content).toMatch(/rejected: groupBy\[0\].*brand/);
    expect(server.received[0]!.auth).toBeUndefined();

    server.script = ['SELECT * FROM alerts', '{"entity":"alerts","measures":[{"fn":"avg","field":"severity"}]}'];
    const bad = await queryFromModel(model, 'alerts', NOW);
    expect(bad).toMatchObject({ rounds: 2, error: expect.stringContaining('rejected twice') });
    expect(server.received).toHaveLength(4);
  });

  it('reports an endpoint that fails, answers garbage or is not there as ModelError', async () => {
    const model = new OpenAiCompatibleModel({ url: server.url, model: 'm' });
    server.script = [{ status: 503, body: '{"error":"loading model"}' }];
    await expect(queryFromModel(model, 'alerts', NOW)).rejects.toThrow(/answered 503: .*loading model/);
    server.script = [{ status: 200, body: '<html>' }];
    await expect(queryFromModel(model, 'alerts', NOW)).rejects.toBeInstanceOf(ModelError);
    const gone = new OpenAiCompatibleModel({ url: 'http://127.0.0.1:9/v1', model: 'm', timeoutMs: 2000 });
    await expect(queryFromModel(gone, 'alerts', NOW)).rejects.toThrow(/unreachable/);
  });
});

describe('questions through the engine and the model on DuckDB', () => {
  let store: DuckDBStore;
  let executor: DuckDBAskExecutor;
  const clock = new ManualClock(NOW);
  beforeAll(async () => {
    store = await DuckDBStore.open({ path: ':memory:' });
    const v = (id: string, make: string, model: string) => ({ tenant: 'acme', id, make, model, year: 2024, trim: 'Base', region: 'us-east', software: { TCU: '1.0' }, signalCount: 0 });
    await store.upsertVehicles([v('00000000000000a1', 'Tesla', 'Model 3'), v('00000000000000a2', 'Tesla', 'Model Y'), v('00000000000000a3', 'Ford', 'F-150')]);
    const alert = (id: string, vehicle: string, severity: 'high' | 'critical', daysAgo: number) =>
      ({ id, tenant: 'acme', vehicle, time: NOW - daysAgo * 86_400_000, detectedAt: NOW - daysAgo * 86_400_000, rule: 'tcu-exploit', title: 'TCU exploit', severity, tags: [], details: {} });
    await store.insertAlerts([alert('a1', '00000000000000a1', 'critical', 1), alert('a2', '00000000000000a1', 'high', 2), alert('a3', '00000000000000a3', 'high', 40)]);
    executor = await DuckDBAskExecutor.open(store.connection);
  });
  afterAll(async () => {
    await executor?.close();
    await store?.close();
  });

  const ctx = (mode?: 'fallback' | 'always') => ({
    tenant: 'acme', executor, values: new DuckDBAskValues(store.connection), clock,
    ...(mode ? { model: { chat: new OpenAiCompatibleModel({ url: server.url, model: 'm' }), mode } } : {}),
  });

  it('the engine answers without the model; the model is not called', async () => {
    const r = await askQuestion('how many alerts by make in the last 30 days', ctx('fallback'));
    expect(r).toMatchObject({ kind: 'answer', by: 'engine', query: { groupBy: ['vehicle.make'] } });
    expect(server.received).toHaveLength(0);
  });

  it('falls back to the model when the engine refuses, and repairs a query the catalog rejects', async () => {
    expect(await askQuestion('alerts on cars shipped with a sunroof', ctx())).toMatchObject({ kind: 'error', by: 'engine' });
    server.script = [
      '{"entity":"alerts","filters":[{"field":"vehicle.make","op":"eq","value":"Tesla"}],"groupBy":["vehicle.model"],"order":[{"by":"nonexistent"}]}',
      '{"entity":"alerts","filters":[{"field":"vehicle.make","op":"eq","value":"Tesla"}],"groupBy":["vehicle.model"]}',
    ];
    const r = await askQuestion('alerts on cars shipped with a sunroof', ctx('fallback'));
    expect(r.kind).toBe('answer');
    if (r.kind !== 'answer') return;
    expect(r.by).toBe('model');
    expect(r.answer.table.rows).toEqual([['Model 3', 2]]);
    expect(server.received).toHaveLength(2);
  });

  it('repairs once after a query that validates but fails to RUN, sending the store\'s error text; a second failure is an error', async () => {
    // An alert whose tags are a JSON object, not a list: a `tags has` filter passes the catalog and fails in DuckDB.
    const db = store.connection;
    await store.insertAlerts([{ id: 'odd', tenant: 'acme', vehicle: '00000000000000a3', time: NOW - 3_600_000, detectedAt: NOW - 3_600_000, rule: 'gnss-spoofing', title: 'GNSS', severity: 'high', tags: ['x'], details: {} }]);
    await db.exclusive(() => db.run(`UPDATE alerts SET tags = '{"technique": "T1"}' WHERE id = 'odd'`));
    try {
      const failing = '{"entity":"alerts","filters":[{"field":"tags","op":"has","value":"T1"}]}';
      server.script = [failing, '{"entity":"alerts","filters":[{"field":"rule","op":"eq","value":"gnss-spoofing"}]}'];
      const r = await askQuestion('alerts tagged T1', ctx('always'));
      expect(r).toMatchObject({ kind: 'answer', by: 'model', notes: ['repaired once'], query: { filters: [{ field: 'rule' }] } });
      if (r.kind === 'answer') expect(r.answer.table.rows).toEqual([[1]]);
      expect(server.received).toHaveLength(2);
      const repair = server.received[1]!.body.messages;
      expect(repair).toHaveLength(4);
      expect(repair[2]).toEqual({ role: 'assistant', content: failing });
      expect(repair[3]!.content).toMatch(/rejected: .*Conversion Error.*tags/s);

      server.received.length = 0;
      server.script = [failing, failing];
      const twice = await askQuestion('alerts tagged T1', ctx('always'));
      expect(twice).toMatchObject({ kind: 'error', by: 'model', error: expect.stringMatching(/failed after one repair: .*Conversion Error/) });
      expect(server.received).toHaveLength(2);
    } finally {
      await db.exclusive(() => db.run(`DELETE FROM alerts WHERE id = 'odd'`));
    }
  });

  it('mode always sends every question to the model', async () => {
    server.script = ['{"entity":"vehicles","filters":[{"field":"make","op":"eq","value":"Tesla"}]}'];
    const r = await askQuestion('how many Teslas', ctx('always'));
    expect(r).toMatchObject({ kind: 'answer', by: 'model' });
    if (r.kind === 'answer') expect(r.answer.table.rows).toEqual([[2]]);
    expect(server.received).toHaveLength(1);
  });
});
