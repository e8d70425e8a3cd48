/**
 * A plain-language question, end to end: the embedded engine (understand.ts) reads it against
 * the tenant's vocabulary; its typed query is answered through `askQuery`. The optional
 * language model is used when configured: `fallback` (the default mode) when the engine
 * refuses the question (a word or name it cannot place; its ask-backs are answers to the
 * analyst, not failures, and stay), `always` for every question. The model's query that fails
 * validation or execution gets one repair round with the error text.
 *
 *   const r = await askQuestion('alerts by make in the last 30 days', { tenant: 'acme', executor, values, clock });
 */
import type { Clock } from '../core/clock.js';
import type { Answer } from './answer.js';
import { askQuery } from './ask.js';
import { queryFromModel, repairOnce, type ChatModel } from './model.js';
import type { AskExecutor, AskLimits } from './port.js';
import type { TypedQueryInput } from './query.js';
import { understand, type AskBack } from './understand.js';
import { buildVocabulary, type AskValueSource, type DataValues, type Vocabulary } from './vocabulary.js';

export interface QuestionContext {
  readonly tenant: string;
  readonly executor: AskExecutor;
  readonly values: AskValueSource;
  readonly clock: Clock;
  readonly limits?: AskLimits;
  readonly model?: { readonly chat: ChatModel; readonly mode: 'fallback' | 'always' };
}

export type QuestionResult =
  | { readonly kind: 'answer'; readonly by: 'engine' | 'model'; readonly query: TypedQueryInput; readonly answer: Answer; readonly notes: readonly string[] }
  | { readonly kind: 'askBack'; readonly askBack: AskBack }
  | { readonly kind: 'error'; readonly error: string; readonly by: 'engine' | 'model' };

/** Vocabularies by value set: a cached value source hands out the same object until it refreshes. */
const vocabularies = new WeakMap<DataValues, Vocabulary>();

/** The vocabulary of a value set, built once per set. */
export function vocabularyOf(values: DataValues): Vocabulary {
  let v = vocabularies.get(values);
  if (!v) vocabularies.set(values, (v = buildVocabulary(values)));
  return v;
}

/** Answers `question` for `ctx.tenant`. Execution errors of the engine's query propagate (they are bugs or limits, not the question's fault). */
export async function askQuestion(question: string, ctx: QuestionContext): Promise<QuestionResult> {
  const values = await ctx.values.values(ctx.tenant);
  const askCtx = { tenant: ctx.tenant, clock: ctx.clock, ...(ctx.limits ? { limits: ctx.limits } : {}) };
  if (ctx.model?.mode !== 'always') {
    const u = understand(question, vocabularyOf(values), ctx.clock);
    if ('query' in u) return { kind: 'answer', by: 'engine', query: u.query, answer: await askQuery(ctx.executor, u.query, askCtx), notes: u.notes };
    if ('askBack' in u) return { kind: 'askBack', askBack: u.askBack };
    if (!ctx.model) return { kind: 'error', error: u.error, by: 'engine' };
  }
  const model = ctx.model!.chat;
  let outcome = await queryFromModel(model, question, ctx.clock.now(), values);
  if ('error' in outcome) return { kind: 'error', error: outcome.error, by: 'model' };
  try {
    return { kind: 'answer', by: 'model', query: outcome.query, answer: await askQuery(ctx.executor, outcome.query, askCtx), notes: [] };
  } catch (e) {
    if (outcome.rounds === 2) return { kind: 'error', error: `the model's query failed: ${errorText(e)}`, by: 'model' };
    outcome = await repairOnce(model, outcome.request, outcome.answer, errorText(e));
    if ('error' in outcome) return { kind: 'error', error: outcome.error, by: 'model' };
    try {
      return { kind: 'answer', by: 'model', query: outcome.query, answer: await askQuery(ctx.executor, outcome.query, askCtx), notes: ['repaired once'] };
    } catch (e2) {
      return { kind: 'error', error: `the model's query failed after one repair: ${errorText(e2)}`, by: 'model' };
    }
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
