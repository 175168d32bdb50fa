// What both clients share: one undici transport to a server, the defaults every call starts from
// (user agent, authorization, headers, timeouts, retries), and the two ways a reply is read: a stream
// of objects, or the one object of a non-streamed reply. Each client adds its wire: paths, bodies,
// and the parser that turns bytes into objects (NDJSON, or SSE mapped to Ollama's chunks).

import type { ByteParser } from './byte-parser.ts'
import { NdjsonParser } from './ndjson.ts'
import {
  type CallDefaults,
  createCall,
  type HeadersInput,
  normalizeHeaders,
  type RequestOptions,
  userAgent,
} from './request-call.ts'
import { defaultRetry, type RetryOptions, resolveRetry } from './request-retry.ts'
import { ResponseStream, type StreamKind } from './response-stream.ts'
import { defaultTimeouts, resolveTimeouts, type Timeouts, Transport } from './transport.ts'

/** Non-streamed replies: the one JSON object is the whole answer. */
const singleKind: StreamKind = { isFinal: () => true, textOf: () => '' }

export interface HttpApiOptions {
  /** The server's base URL, normalized. */
  url: string
  /** Sent as `Authorization` unless `headers` say otherwise (credentials from the host's URL, an API key). */
  authorization?: string | undefined
  headers?: HeadersInput | undefined
  timeouts?: Timeouts | undefined
  retry?: RetryOptions | false | undefined
  connections?: number | undefined
  /** The server as errors name it. Default: Ollama. */
  server?: string
  /** Longest line (or event) of a reply accepted, in bytes. */
  maxLineLength: number
}

/** @internal One server's HTTP API, as a client uses it. */
export class HttpApi {
  readonly #transport: Transport
  readonly #defaults: CallDefaults
  readonly #maxLineLength: number

  constructor(options: HttpApiOptions) {
    if (!(options.maxLineLength > 0))
      throw new RangeError(`maxLineLength must be > 0, got ${options.maxLineLength}`)
    this.#transport = new Transport({
      host: options.url,
      connections: options.connections,
      ...(options.server === undefined ? {} : { server: options.server }),
    })
    const headers: Record<string, string> = { 'user-agent': userAgent }
    if (options.authorization) headers.authorization = options.authorization
    normalizeHeaders(options.headers, headers)
    this.#defaults = {
      transport: this.#transport,
      headers,
      timeouts: resolveTimeouts(defaultTimeouts, options.timeouts),
      retry: resolveRetry(defaultRetry, options.retry),
    }
    this.#maxLineLength = options.maxLineLength
  }

  /**
   * A streamed reply: `POST path` with `body`, read as objects of `kind`; `parser` turns the bytes
   * of a call to this URL into objects (default: NDJSON).
   */
  stream<T>(
    path: string,
    body: string,
    kind: StreamKind,
    options: RequestOptions,
    accept: string,
    parser: (url: string) => ByteParser = (url) => this.#ndjson(url),
  ): ResponseStream<T> {
    const call = createCall(this.#defaults, 'POST', path, body, options, accept)
    return new ResponseStream<T>({
      transport: this.#transport,
      call,
      kind,
      signal: options.signal,
      parser: parser(call.url),
    })
  }

  /** The one object of a non-streamed reply (the last, should the server send several). */
  async single<T>(
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    options: RequestOptions,
    accept = 'application/json',
  ): Promise<T> {
    const call = createCall(this.#defaults, method, path, body, options, accept)
    const stream = new ResponseStream<T>({
      transport: this.#transport,
      call,
      kind: singleKind,
      signal: options.signal,
      parser: this.#ndjson(call.url),
    })
    let result: T | undefined
    for await (const value of stream) result = value
    return result as T
  }

  /** undici hands out a fresh buffer per read: no need to copy unfinished lines. */
  #ndjson(source: string): NdjsonParser {
    return new NdjsonParser({ maxLineLength: this.#maxLineLength, source, copyChunks: false })
  }

  /** Closes all connections. Calls still running fail with a ConnectionError (`client closed`). */
  close(): Promise<void> {
    return this.#transport.close()
  }
}
