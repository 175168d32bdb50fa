// OllamaClient: Ollama's HTTP API over undici, streaming NDJSON as typed async iterables.

import type { Backend } from './backend.ts'
import { resolveHost } from './host.ts'
import { HttpApi } from './http-api.ts'
import { defaultMaxLineLength } from './ndjson.ts'
import type { HeadersInput, RequestOptions } from './request-call.ts'
import type { RetryOptions } from './request-retry.ts'
import type { ResponseStream, StreamKind } from './response-stream.ts'
import type { Timeouts } from './transport.ts'
import type {
  ChatRequest,
  ChatResponse,
  EmbedRequest,
  EmbedResponse,
  GenerateRequest,
  GenerateResponse,
  ImageInput,
  ListResponse,
  Message,
  ProgressResponse,
  PsResponse,
  PullRequest,
  ShowRequest,
  ShowResponse,
  VersionResponse,
} from './types.ts'

export interface OllamaClientOptions {
  /** Ollama's address. Default: `OLLAMA_HOST` (parsed as Ollama does), else `http://127.0.0.1:11434`. */
  host?: string
  /** Sent with every request (e.g. `Authorization` for a proxy). They override the client's defaults. */
  headers?: HeadersInput
  /** Connect, first-byte and idle timeouts in ms (0 = no limit). */
  timeouts?: Timeouts
  /** Retries before the first byte; `false` turns them off. */
  retry?: RetryOptions | false
  /** Longest NDJSON line accepted, in bytes. Default 64 MiB. */
  maxLineLength?: number
  /** Most open connections to the host. Default: no limit. */
  connections?: number
}

const generateKind: StreamKind = {
  isFinal: (value) => value.done === true || typeof value.done_reason === 'string',
  textOf: (value) => (typeof value.response === 'string' ? value.response : ''),
}

const chatKind: StreamKind = {
  isFinal: (value) => value.done === true || typeof value.done_reason === 'string',
  textOf: (value) => {
    const message = value.message as { content?: unknown } | undefined
    return typeof message?.content === 'string' ? message.content : ''
  },
}

const progressKind: StreamKind = {
  isFinal: (value) => value.status === 'success',
  textOf: () => '',
}

function toBase64(image: ImageInput): string {
  return typeof image === 'string'
    ? image
    : Buffer.from(image.buffer, image.byteOffset, image.length).toString('base64')
}

function encodeImages(images: ImageInput[] | undefined): string[] | undefined {
  if (images === undefined || images.every((image) => typeof image === 'string'))
    return images as string[] | undefined
  return images.map(toBase64)
}

function encodeMessages(messages: Message[] | undefined): Message[] | undefined {
  if (
    messages === undefined ||
    !messages.some((message) => message.images?.some((image) => typeof image !== 'string'))
  ) {
    return messages
  }
  return messages.map((message) =>
    message.images ? { ...message, images: encodeImages(message.images) } : message,
  )
}

/** The request as sent: a new object (the caller's is never changed), images as base64, `stream` explicit. */
function generateBody(request: GenerateRequest, stream: boolean): string {
  const images = encodeImages(request.images)
  return JSON.stringify(images === request.images ? { ...request, stream } : { ...request, images, stream })
}

function chatBody(request: ChatRequest, stream: boolean): string {
  const messages = encodeMessages(request.messages)
  return JSON.stringify(
    messages === request.messages ? { ...request, stream } : { ...request, messages, stream },
  )
}

export class OllamaClient implements Backend {
  /** The wire this client speaks (the `backend` of its result lines). */
  readonly kind = 'ollama' as const
  /** Normalized base URL, e.g. `http://127.0.0.1:11434`. */
  readonly host: string
  readonly #api: HttpApi

  constructor(options: OllamaClientOptions = {}) {
    const resolved = resolveHost(options.host)
    this.host = resolved.url
    this.#api = new HttpApi({
      ...options,
      url: resolved.url,
      authorization: resolved.authorization,
      maxLineLength: options.maxLineLength ?? defaultMaxLineLength,
    })
  }

  /** `POST /api/generate`. Streams `GenerateResponse` chunks; with `stream: false`, one aggregated object. */
  generate(request: GenerateRequest & { stream: false }, options?: RequestOptions): Promise<GenerateResponse>
  generate(
    request: GenerateRequest & { stream?: true },
    options?: RequestOptions,
  ): ResponseStream<GenerateResponse>
  generate(
    request: GenerateRequest,
    options?: RequestOptions,
  ): ResponseStream<GenerateResponse> | Promise<GenerateResponse>
  generate(
    request: GenerateRequest,
    options: RequestOptions = {},
  ): ResponseStream<GenerateResponse> | Promise<GenerateResponse> {
    const stream = request.stream !== false
    const body = generateBody(request, stream)
    return stream
      ? this.#stream('/api/generate', body, generateKind, options)
      : this.#single('POST', '/api/generate', body, options, 'application/x-ndjson')
  }

  /** `POST /api/chat`. Streams `ChatResponse` chunks; with `stream: false`, one aggregated object. */
  chat(request: ChatRequest & { stream: false }, options?: RequestOptions): Promise<ChatResponse>
  chat(request: ChatRequest & { stream?: true }, options?: RequestOptions): ResponseStream<ChatResponse>
  chat(request: ChatRequest, options?: RequestOptions): ResponseStream<ChatResponse> | Promise<ChatResponse>
  chat(
    request: ChatRequest,
    options: RequestOptions = {},
  ): ResponseStream<ChatResponse> | Promise<ChatResponse> {
    const stream = request.stream !== false
    const body = chatBody(request, stream)
    return stream
      ? this.#stream('/api/chat', body, chatKind, options)
      : this.#single('POST', '/api/chat', body, options, 'application/x-ndjson')
  }

  /** `POST /api/pull`. Streams progress objects until `status: "success"`; with `stream: false`, the last one. */
  pull(request: PullRequest & { stream: false }, options?: RequestOptions): Promise<ProgressResponse>
  pull(request: PullRequest & { stream?: true }, options?: RequestOptions): ResponseStream<ProgressResponse>
  pull(
    request: PullRequest,
    options?: RequestOptions,
  ): ResponseStream<ProgressResponse> | Promise<ProgressResponse>
  pull(
    request: PullRequest,
    options: RequestOptions = {},
  ): ResponseStream<ProgressResponse> | Promise<ProgressResponse> {
    const stream = request.stream !== false
    const body = JSON.stringify({ ...request, stream })
    return stream
      ? this.#stream('/api/pull', body, progressKind, options)
      : this.#single('POST', '/api/pull', body, options, 'application/x-ndjson')
  }

  /** `GET /api/tags`: the models available locally. */
  list(options: RequestOptions = {}): Promise<ListResponse> {
    return this.#single('GET', '/api/tags', undefined, options)
  }

  /** `POST /api/show`: a model's details, template, parameters and capabilities. */
  show(request: ShowRequest, options: RequestOptions = {}): Promise<ShowResponse> {
    return this.#single('POST', '/api/show', JSON.stringify(request), options)
  }

  /** `GET /api/ps`: the models loaded in memory. */
  ps(options: RequestOptions = {}): Promise<PsResponse> {
    return this.#single('GET', '/api/ps', undefined, options)
  }

  /** `GET /api/version`. */
  version(options: RequestOptions = {}): Promise<VersionResponse> {
    return this.#single('GET', '/api/version', undefined, options)
  }

  /** `POST /api/embed`: embeddings for one input or a batch. */
  embed(request: EmbedRequest, options: RequestOptions = {}): Promise<EmbedResponse> {
    return this.#single('POST', '/api/embed', JSON.stringify(request), options)
  }

  /** Closes all connections. Calls still running fail with a ConnectionError (`client closed`). */
  close(): Promise<void> {
    return this.#api.close()
  }

  #stream<T>(path: string, body: string, kind: StreamKind, options: RequestOptions): ResponseStream<T> {
    return this.#api.stream(path, body, kind, options, 'application/x-ndjson')
  }

  #single<T>(
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    options: RequestOptions,
    accept?: string,
  ): Promise<T> {
    return this.#api.single(method, path, body, options, accept)
  }
}
