/**
 * The `ChatModel` port over any OpenAI-compatible endpoint (llama.cpp server, Ollama, vLLM, or a
 * hosted one): POST `<url>/chat/completions` with the messages and the JSON-schema response
 * format, temperature 0. `url` is the API base, e.g. `http://localhost:8080/v1`. The API key,
 * when the endpoint needs one, comes from an environment variable named in the config and is
 * sent as a bearer token. Failures (unreachable, timeout, non-2xx, no message) are ModelError.
 */
import { ModelError, type ChatModel, type ChatRequest } from '../../ask/model.js';

export interface OpenAiCompatibleOptions {
  /** API base URL, e.g. http://localhost:11434/v1 (Ollama) or http://localhost:8080/v1 (llama.cpp). */
  readonly url: string;
  /** Model name as the endpoint knows it. */
  readonly model: string;
  readonly apiKey?: string | undefined;
  readonly timeoutMs?: number;
}

export class OpenAiCompatibleModel implements ChatModel {
  private readonly endpoint: string;

  constructor(private readonly o: OpenAiCompatibleOptions) {
    this.endpoint = `${o.url.replace(/\/+$/, '')}/chat/completions`;
  }

  async complete(request: ChatRequest): Promise<string> {
    const body = JSON.stringify({
      model: this.o.model,
      messages: request.messages,
      response_format: request.responseFormat,
      temperature: 0,
      stream: false,
    });
    let res: Response;
    try {
      res = await fetch(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.o.apiKey ? { authorization: `Bearer ${this.o.apiKey}` } : {}) },
        body,
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 30_000),
        redirect: 'error',
      });
    } catch (cause) {
      throw new ModelError(`language model at ${this.endpoint} unreachable: ${String(cause)}`, { cause });
    }
    const text = await res.text();
    if (!res.ok) throw new ModelError(`language model at ${this.endpoint} answered ${res.status}: ${text.slice(0, 300)}`);
    let json: { choices?: { message?: { content?: unknown } }[] };
    try {
      json = JSON.parse(text) as typeof json;
    } catch (cause) {
      throw new ModelError(`language model at ${this.endpoint} answered something that is not JSON: ${text.slice(0, 200)}`, { cause });
    }
    const content = json.choices?.[0]?.message?.content;
    if (typeof content !== 'string') throw new ModelError(`language model at ${this.endpoint} answered no message content`);
    return content;
  }
}

/** The configured model (`ask.model`), with its API key read from the environment; undefined when none is configured. */
export function modelFromConfig(
  c: { readonly url: string; readonly name: string; readonly apiKeyEnv?: string | undefined; readonly mode: 'fallback' | 'always'; readonly timeout: number } | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): { readonly chat: ChatModel; readonly mode: 'fallback' | 'always' } | undefined {
  if (!c) return undefined;
  const apiKey = c.apiKeyEnv ? env[c.apiKeyEnv] : undefined;
  return { chat: new OpenAiCompatibleModel({ url: c.url, model: c.name, apiKey, timeoutMs: c.timeout }), mode: c.mode };
}
