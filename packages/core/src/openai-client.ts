// OpenAIClient: the OpenAI-compatible HTTP API (vLLM, llama.cpp's server, SGLang, LM Studio, TGI,
// Ollama's `/v1`) over the same undici transport as OllamaClient, streaming Server-Sent Events as the
// Ollama-shaped chunks every backend streams.

import type { Backend } from './backend.ts'
import { parseHost } from './host.ts'
import { HttpApi } from './http-api.ts'
import { type OpenAIApi, OpenAIStreamParser } from './openai-stream.ts'
import type { HeadersInput, RequestOptions } from './request-call.ts'
import type { RetryOptions } from './request-retry.ts'
import type { ResponseStream, StreamKind } from './response-stream.ts'
import { defaultMaxEventSize } from './sse.ts'
import type { Timeouts } from './transport.ts'
import type { ChatRequest, ChatResponse, GenerateRequest, GenerateResponse, Message } from './types.ts'

export interface OpenAIClientOptions {
  /**
   * The server's base URL, with or without `/v1` (`http://gpu-box:8000`, `http://127.0.0.1:11434/v1`).
   * Default: `OPENAI_BASE_URL`, else `http://127.0.0.1:11434/v1` (Ollama's own `/v1`).
   */
  host?: string
  /** Sent as `Authorization: Bearer KEY`. Default: `OPENAI_API_KEY`, else none. */
  apiKey?: string
  /** Sent with every request; they override the client's defaults. */
  headers?: HeadersInput
  /** Connect, first-byte and idle timeouts in ms (0 = no limit). */
  timeouts?: Timeouts
  /** Retries before the first byte; `false` turns them off. */
  retry?: RetryOptions | false
  /** Largest Server-Sent Event accepted, in bytes. Default 64 MiB. */
  maxEventSize?: number
  /** Most open connections to the host. Default: no limit. */
  connections?: number
}

/** `GET /v1/models`. */
export interface OpenAIModelList {
  object: 'list'
  data: Array<{ id: string; object: 'model'; created?: number; owned_by?: string }>
}

const generateKind: StreamKind = {
  isFinal: (value) => value.done === true,
  textOf: (value) => (typeof value.response === 'string' ? value.response : ''),
}

const chatKind: StreamKind = {
  isFinal: (value) => value.done === true,
  textOf: (value) => {
    const message = value.message as { content?: unknown } | undefined
    return typeof message?.content === 'string' ? message.content : ''
  },
}

/** Ollama `options` that OpenAI-compatible servers take under another name (or the same). */
const optionNames: Record<string, string> = {
  temperature: 'temperature',
  top_p: 'top_p',
  seed: 'seed',
  num_predict: 'max_tokens',
  stop: 'stop',
  presence_penalty: 'presence_penalty',
  frequency_penalty: 'frequency_penalty',
  // Not in OpenAI's API, but vLLM, llama.cpp's server and SGLang take them.
  top_k: 'top_k',
  min_p: 'min_p',
  repeat_penalty: 'repetition_penalty',
}

/** The fields both endpoints share: sampling options, `format`, streaming with usage. */
function commonFields(request: GenerateRequest | ChatRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { model: request.model }
  for (const [name, value] of Object.entries(request.options ?? {})) {
    const mapped = optionNames[name]
    if (mapped !== undefined && value !== undefined) body[mapped] = value
  }
  body.stream = true
  body.stream_options = { include_usage: true }
  return body
}

function responseFormat(format: GenerateRequest['format']): Record<string, unknown> | undefined {
  if (format === undefined || (format as unknown) === '') return undefined
  if (format === 'json') return { type: 'json_object' }
  return { type: 'json_schema', json_schema: { name: 'response', schema: format } }
}

/** Ollama's messages as OpenAI's: tool calls with JSON-text arguments, tool results named. */
function openAIMessages(messages: Message[]): Array<Record<string, unknown>> {
  return messages.map((message) => {
    const mapped: Record<string, unknown> = { role: message.role, content: message.content }
    if (message.tool_calls?.length) {
      mapped.tool_calls = message.tool_calls.map((call, index) => ({
        id: call.id ?? `call_${index}`,
        type: 'function',
        function: { name: call.function.name, arguments: JSON.stringify(call.function.arguments) },
      }))
    }
    if (message.tool_name !== undefined) mapped.name = message.tool_name
    return mapped
  })
}

function chatBody(request: ChatRequest, messages: Message[]): string {
  const body = commonFields(request)
  body.messages = openAIMessages(messages)
  if (request.tools?.length) body.tools = request.tools
  const format = responseFormat(request.format)
  if (format) body.response_format = format
  if (typeof request.think === 'string') body.reasoning_effort = request.think
  return JSON.stringify(body)
}

/** The base URL without `/v1`: every path below starts with it. */
function baseUrl(host: string): { url: string; authorization: string | undefined } {
  const resolved = parseHost(host)
  return { url: resolved.url.replace(/\/v1$/, ''), authorization: resolved.authorization }
}

export class OpenAIClient implements Backend {
  /** The wire this client speaks (the `backend` of its result lines). */
  readonly kind = 'openai' as const
  /** Normalized base URL, without `/v1`, e.g. `http://127.0.0.1:8000`. */
  readonly host: string
  readonly #api: HttpApi
  readonly #maxEventSize: number

  constructor(options: OpenAIClientOptions = {}) {
    const environment = typeof process === 'undefined' ? {} : process.env
    const resolved = baseUrl(options.host ?? environment.OPENAI_BASE_URL ?? 'http://127.0.0.1:11434/v1')
    this.host = resolved.url
    const maxEventSize = options.maxEventSize ?? defaultMaxEventSize
    if (!(maxEventSize > 0)) throw new RangeError(`maxEventSize must be > 0, got ${maxEventSize}`)
    this.#maxEventSize = maxEventSize
    const apiKey = options.apiKey ?? environment.OPENAI_API_KEY
    this.#api = new HttpApi({
      ...options,
      url: resolved.url,
      authorization: apiKey ? `Bearer ${apiKey}` : resolved.authorization,
      server: 'the OpenAI-compatible server',
      maxLineLength: maxEventSize,
    })
  }

  /**
   * `POST /v1/completions` with the prompt, streamed as `GenerateResponse` chunks. A request with a
   * `system` prompt goes to `/v1/chat/completions` as a system and a user message instead: completions
   * have no system prompt, and it must reach the model.
   */
  generate(request: GenerateRequest, options: RequestOptions = {}): ResponseStream<GenerateResponse> {
    if (request.system !== undefined && request.system !== '') {
      const messages: Message[] = [
        { role: 'system', content: request.system },
        { role: 'user', content: request.prompt ?? '' },
      ]
      const body = chatBody({ ...request, messages } as ChatRequest, messages)
      return this.#stream('/v1/chat/completions', body, 'chat', generateKind, options, 'generate')
    }
    const body = commonFields(request)
    body.prompt = request.prompt ?? ''
    if (request.suffix) body.suffix = request.suffix
    return this.#stream(
      '/v1/completions',
      JSON.stringify(body),
      'completions',
      generateKind,
      options,
      'generate',
    )
  }

  /** `POST /v1/chat/completions`, streamed as `ChatResponse` chunks. */
  chat(request: ChatRequest, options: RequestOptions = {}): ResponseStream<ChatResponse> {
    const body = chatBody(request, request.messages ?? [])
    return this.#stream('/v1/chat/completions', body, 'chat', chatKind, options, 'chat')
  }

  /** `GET /v1/models`: the models the server serves. */
  models(options: RequestOptions = {}): Promise<OpenAIModelList> {
    return this.#api.single('GET', '/v1/models', undefined, options)
  }

  /** Closes all connections. Calls still running fail with a ConnectionError (`client closed`). */
  close(): Promise<void> {
    return this.#api.close()
  }

  #stream<T>(
    path: string,
    body: string,
    api: OpenAIApi,
    kind: StreamKind,
    options: RequestOptions,
    shape: 'generate' | 'chat',
  ): ResponseStream<T> {
    return this.#api.stream(path, body, kind, options, 'text/event-stream', (source) => {
      return new OpenAIStreamParser(api, shape, { maxEventSize: this.#maxEventSize, source })
    })
  }
}
