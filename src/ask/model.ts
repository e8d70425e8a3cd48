/**
 * The optional language model: prompt building and response checking, pure. The model gets the
 * entity catalog, values from the data and the question, and must answer with a typed query
 * under a JSON schema derived from the zod schema (zod's own `toJSONSchema`), sent as the
 * OpenAI-compatible `response_format: { type: 'json_schema' }` — never SQL. Its answer is
 * parsed and validated like any other typed query; when validation (or, for the caller,
 * execution) fails, the model gets one repair round with the error text. The HTTP client is an
 * adapter (src/adapters/llm/openai-compatible.ts) behind the `ChatModel` port.
 */
import { z } from 'zod';
import { VigilError } from '../core/errors.js';
import { CATALOG, operatorsOf } from './catalog.js';
import { parseTypedQuery, TypedQuerySchema, type TypedQueryInput } from './query.js';
import { queryProblems } from './validate.js';
import type { DataValues } from './vocabulary.js';

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/** An OpenAI-compatible structured-output request. */
export interface ChatRequest {
  readonly messages: readonly ChatMessage[];
  readonly responseFormat: {
    readonly type: 'json_schema';
    readonly json_schema: { readonly name: string; readonly schema: Record<string, unknown>; readonly strict: boolean };
  };
}

/** The port: any OpenAI-compatible chat completion endpoint (llama.cpp server, Ollama, vLLM). Returns the message text. */
export interface ChatModel {
  complete(request: ChatRequest): Promise<string>;
}

/** The model could not be reached, or answered something that is not a chat completion. */
export class ModelError extends VigilError {
  readonly _tag = 'ModelError';
}

/** The typed query's JSON schema (input form: defaults may be left out). */
export const TYPED_QUERY_JSON_SCHEMA: Record<string, unknown> = (() => {
  const { $schema: _drop, ...schema } = z.toJSONSchema(TypedQuerySchema, { io: 'input' }) as Record<string, unknown>;
  return schema;
})();

/** Values per field the prompt lists at most (the vocabulary can hold thousands of CVE ids). */
export const MAX_PROMPT_VALUES = 40;

/** The catalog as prompt text: entities, their fields with types, operators and enum values. */
export function catalogText(): string {
  return CATALOG.map((e) => {
    const fields = e.fields.map((f) => {
      const values = f.values ? ` one of ${f.values.join('|')}${f.ordered ? ' (ordered)' : ''}` : '';
      const caps = [f.groupable ? 'group' : '', f.aggregatable ? 'agg' : ''].filter(Boolean).join(',');
      return `  - ${f.name} (${f.type}${values}; ops ${operatorsOf(f).join(',')}${caps ? `; ${caps}` : ''}): ${f.label}`;
    });
    const sw = e.softwarePrefix ? [`  - ${e.softwarePrefix}<ECU> (string; the software version the vehicle's ECU runs, e.g. ${e.softwarePrefix}TCU)`] : [];
    return `entity ${e.name}: ${e.description}; time field ${e.timeField}\n${[...fields, ...sw].join('\n')}`;
  }).join('\n');
}

/** The data's values as prompt text (so the model spells them as the store does). */
export function valuesText(values: DataValues | undefined): string {
  if (!values) return '';
  return Object.entries(values.fields)
    .map(([k, list]) => `  ${k}: ${list.slice(0, MAX_PROMPT_VALUES).map(String).join(' | ')}${list.length > MAX_PROMPT_VALUES ? ` (and ${list.length - MAX_PROMPT_VALUES} more)` : ''}`)
    .join('\n');
}

/** The first request for `question` at time `now` (epoch ms). */
export function buildRequest(question: string, now: number, values?: DataValues): ChatRequest {
  const system = [
    'You turn questions about a vehicle fleet\'s security data into one typed query, as JSON matching the given schema.',
    'Never write SQL. Use only the entities and fields listed below; spell values exactly as listed.',
    'Times are epoch milliseconds (UTC). For "last N days/hours/weeks" use time {kind:"relative", last:N, unit}; for calendar periods and dates use {kind:"absolute", from, to} with to exclusive.',
    'measures: [] with no groupBy lists rows. analysis: none | commonality ("what do they have in common") | trend (bucket) | top (n) | comparison (a, b slices).',
    `Now is ${new Date(now).toISOString()} (${now}).`,
    '',
    'Catalog:',
    catalogText(),
    ...(values ? ['', 'Values in the data:', valuesText(values)] : []),
  ].join('\n');
  return {
    messages: [{ role: 'system', content: system }, { role: 'user', content: question }],
    responseFormat: { type: 'json_schema', json_schema: { name: 'typed_query', schema: TYPED_QUERY_JSON_SCHEMA, strict: false } },
  };
}

/** The request of the repair round: the previous exchange plus what was wrong with the answer. */
export function repairRequest(first: ChatRequest, answer: string, problem: string): ChatRequest {
  return {
    ...first,
    messages: [
      ...first.messages,
      { role: 'assistant', content: answer },
      { role: 'user', content: `That query was rejected: ${problem}\nAnswer again with a corrected typed query (JSON only).` },
    ],
  };
}

/** Checks a model's answer: JSON (a fenced block is accepted), the schema, then the catalog. */
export function checkAnswer(text: string): { query: TypedQueryInput } | { problem: string } {
  const body = /```(?:json)?\s*([\s\S]*?)```/.exec(text)?.[1] ?? text;
  let json: unknown;
  try {
    json = JSON.parse(body.trim());
  } catch {
    return { problem: `the answer is not JSON: ${body.slice(0, 200)}` };
  }
  const parsed = parseTypedQuery(json);
  if ('problems' in parsed) return { problem: parsed.problems.join('; ') };
  const problems = queryProblems(parsed.query);
  if (problems.length) return { problem: problems.map((p) => `${p.part}: ${p.message}`).join('; ') };
  return { query: json as TypedQueryInput };
}

/** What the model produced: a valid query (after at most one repair), or why not. */
export type ModelOutcome =
  | { readonly query: TypedQueryInput; readonly rounds: 1 | 2; readonly request: ChatRequest; readonly answer: string }
  | { readonly error: string; readonly rounds: 1 | 2 };

/**
 * Asks the model for the typed query of `question`; a query that fails the schema or the
 * catalog gets one repair round with the problems. ModelError when the endpoint fails.
 */
export async function queryFromModel(model: ChatModel, question: string, now: number, values?: DataValues): Promise<ModelOutcome> {
  const request = buildRequest(question, now, values);
  const answer = await model.complete(request);
  const first = checkAnswer(answer);
  if ('query' in first) return { query: first.query, rounds: 1, request, answer };
  return repairOnce(model, request, answer, first.problem);
}

/**
 * The repair round after a failure (validation, or execution: pass the error text): the model
 * sees its answer and the problem, and answers once more; no further rounds.
 */
export async function repairOnce(model: ChatModel, request: ChatRequest, answer: string, problem: string): Promise<ModelOutcome> {
  const again = repairRequest(request, answer, problem);
  const second = await model.complete(again);
  const checked = checkAnswer(second);
  if ('query' in checked) return { query: checked.query, rounds: 2, request: again, answer: second };
  return { error: `the model's query was rejected twice: ${checked.problem}`, rounds: 2 };
}
