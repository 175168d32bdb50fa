// The HTTP side of the client: one undici Agent, our own connect and first-byte timeouts (undici's
// 300 s headersTimeout/bodyTimeout are off), retries before the first byte, typed errors.

import { createRequire } from 'node:module'
import type { Dispatcher, Agent as UndiciAgent } from 'undici'
import { sleep } from './backoff.ts'
import { ConnectionError, errorMessageOf, HttpError, TimeoutError, type TimeoutPhase } from './errors.ts'
import { parseRetryAfter, type ResolvedRetry, requestRetryDelay } from './request-retry.ts'
import { abortErrorOf, ResponseBody } from './response-body.ts'

export interface Timeouts {
  /** Until the TCP (and TLS) connection is up, in ms. Default 10 000. 0 = no limit. */
  connect?: number
  /**
   * From the connection until the response starts, in ms: model loading, prompt evaluation and the first
   * token (for `stream: false` calls, the whole generation). Default 600 000 (10 min). 0 = no limit.
   */
  firstByte?: number
  /** Longest silence between two pieces of the response body, in ms. Default 300 000 (5 min). 0 = no limit. */
  idle?: number
}

export type ResolvedTimeouts = Required<Timeouts>

export const defaultTimeouts: ResolvedTimeouts = { connect: 10_000, firstByte: 600_000, idle: 300_000 }

export function resolveTimeouts(base: ResolvedTimeouts, override: Timeouts | undefined): ResolvedTimeouts {
  if (override === undefined) return base
  const resolved = {
    connect: override.connect ?? base.connect,
    firstByte: override.firstByte ?? base.firstByte,
    idle: override.idle ?? base.idle,
  }
  for (const [name, value] of Object.entries(resolved)) {
    if (!(value >= 0)) throw new RangeError(`timeouts.${name} must be a number of ms >= 0, got ${value}`)
  }
  return resolved
}

/** One logical request (all its attempts). */
export interface Call {
  method: 'GET' | 'POST'
  /** Full URL, for messages. */
  url: string
  path: string
  body: string | undefined
  headers: Record<string, string>
  timeouts: ResolvedTimeouts
  retry: ResolvedRetry
  /** Aborted by the caller's signal, by `stream.abort()` and by our timers (with a TimeoutError). */
  controller: AbortController
}

/** A response whose status has arrived; its body streams in behind it. */
export interface ResponseData {
  statusCode: number
  statusText: string
  headers: Record<string, string | string[] | undefined>
  body: ResponseBody
}

const timeoutOptions = {
  connect: 'connect',
  'first-byte': 'firstByte',
  idle: 'idle',
} as const satisfies Record<TimeoutPhase, keyof Timeouts>

/** Aborts the call with the TimeoutError of `phase`. */
export function abortOnTimeout(call: Call, phase: TimeoutPhase): void {
  const timeout = call.timeouts[timeoutOptions[phase]]
  call.controller.abort(new TimeoutError({ phase, timeout, method: call.method, url: call.url }))
}

/** Starts the timer of `phase` (undefined when that timeout is off). */
function startTimeout(call: Call, phase: TimeoutPhase): ReturnType<typeof setTimeout> | undefined {
  const timeout = call.timeouts[timeoutOptions[phase]]
  return timeout > 0 ? setTimeout(() => abortOnTimeout(call, phase), timeout) : undefined
}

/** Errors of attempts that failed after their connection was up (a reset, a close before the response). */
const afterConnect = new WeakSet<object>()

/**
 * One attempt, dispatched straight to undici with no Node stream in between: it reports the moment the
 * connection is up (for the timers), settles once the status arrives, then feeds the body. An abort
 * before the response rejects at once; undici drops the request before writing it if it was still
 * waiting for a connection.
 */
class AttemptHandler implements Dispatcher.DispatchHandler {
  readonly #signal: AbortSignal
  readonly #onConnected: () => void
  #resolve: ((response: ResponseData) => void) | undefined
  #reject: ((error: unknown) => void) | undefined
  #controller: Dispatcher.DispatchController | undefined
  #body: ResponseBody | undefined

  constructor(
    signal: AbortSignal,
    onConnected: () => void,
    resolve: (response: ResponseData) => void,
    reject: (error: unknown) => void,
  ) {
    this.#signal = signal
    this.#onConnected = onConnected
    this.#resolve = resolve
    this.#reject = reject
    signal.addEventListener('abort', this.#onAbort)
  }

  readonly #onAbort = (): void => {
    const reason = this.#signal.reason
    this.#controller?.abort(abortErrorOf(reason))
    this.#settle(undefined, reason)
    this.#body?.fail(reason)
  }

  #settle(response: ResponseData | undefined, error?: unknown): void {
    const resolve = this.#resolve
    const reject = this.#reject
    if (!resolve || !reject) return
    this.#resolve = undefined
    this.#reject = undefined
    if (response) resolve(response)
    else reject(error)
  }

  #done(): void {
    this.#signal.removeEventListener('abort', this.#onAbort)
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.#signal.aborted) {
      controller.abort(abortErrorOf(this.#signal.reason))
      return
    }
    this.#controller = controller
    this.#onConnected()
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    if (statusCode < 200) return
    this.#body = new ResponseBody(controller)
    this.#settle({ statusCode, statusText: statusMessage ?? '', headers, body: this.#body })
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#body?.push(chunk)
  }

  onResponseEnd(): void {
    this.#done()
    this.#body?.end()
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#done()
    if (this.#controller !== undefined && typeof error === 'object' && error !== null) afterConnect.add(error)
    this.#settle(undefined, error)
    this.#body?.fail(error)
  }
}

/**
 * undici's `Agent` without the rest of undici: its index also loads fetch, WebSocket, the cache and the
 * mocks, 14 MB of memory a client never uses. The class is the same one `import { Agent } from 'undici'`
 * gives (one module cache); should a later undici move the file, the whole package is loaded instead.
 * Exported for its test only.
 */
export function loadAgent(): typeof UndiciAgent {
  const require = createRequire(import.meta.url)
  try {
    const agent: unknown = require('undici/lib/dispatcher/agent.js')
    if (typeof agent === 'function' && typeof agent.prototype?.dispatch === 'function') {
      return agent as typeof UndiciAgent
    }
  } catch {
    // Fall through to the public entry.
  }
  return (require('undici') as typeof import('undici')).Agent
}

const Agent = loadAgent()

/** Error codes of a failed connection, with the words we show and whether a retry may help. */
const connectionReasons: Record<string, { reason: string; retryable: boolean }> = {
  ECONNREFUSED: { reason: 'connection refused', retryable: true },
  ECONNRESET: { reason: 'connection reset', retryable: true },
  EPIPE: { reason: 'connection reset', retryable: true },
  UND_ERR_SOCKET: { reason: 'connection closed before a response', retryable: true },
  ENOTFOUND: { reason: 'host not found', retryable: false },
  EAI_AGAIN: { reason: 'host name lookup failed', retryable: true },
  EHOSTUNREACH: { reason: 'host unreachable', retryable: false },
  ENETUNREACH: { reason: 'network unreachable', retryable: false },
  ETIMEDOUT: { reason: 'connection timed out', retryable: false },
  EADDRNOTAVAIL: { reason: 'address not available', retryable: false },
  UND_ERR_DESTROYED: { reason: 'client closed', retryable: false },
  UND_ERR_CLOSED: { reason: 'client closed', retryable: false },
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string') return code
  const inner = (error as { errors?: unknown }).errors
  return Array.isArray(inner) ? errorCode(inner[0]) : undefined
}

export function connectionReason(error: unknown): { reason: string; retryable: boolean } | undefined {
  const code = errorCode(error)
  if (code === undefined) return undefined
  return (
    connectionReasons[code] ??
    (code.startsWith('E') ? { reason: `connection failed (${code})`, retryable: false } : undefined)
  )
}

const maxErrorBodyBytes = 64 * 1024

export interface TransportOptions {
  /** Base URL, e.g. `http://127.0.0.1:11434` (may carry a path prefix). */
  host: string
  /** Most open connections per origin. Default: no limit. */
  connections?: number
  /** What connection errors call the server. Default `Ollama`. */
  server?: string
}

export class Transport {
  readonly host: string
  readonly #origin: string
  readonly #basePath: string
  readonly #agent: UndiciAgent
  readonly #server: string | undefined

  constructor(options: TransportOptions) {
    this.host = options.host
    this.#server = options.server
    const url = new URL(options.host)
    this.#origin = url.origin
    this.#basePath = url.pathname.replace(/\/+$/, '')
    // undici's own 300 s limits are the "silent cliff" users of fetch-based clients hit: ours replace them.
    this.#agent = new Agent({
      headersTimeout: 0,
      bodyTimeout: 0,
      connect: { timeout: 0 },
      ...(options.connections === undefined ? {} : { connections: options.connections }),
    })
  }

  url(path: string): string {
    return `${this.#origin}${this.#basePath}${path}`
  }

  /** Sends the call, retrying where safe; resolves once a status < 400 has arrived. */
  async open(call: Call): Promise<ResponseData> {
    const signal = call.controller.signal
    for (let attempt = 1; ; attempt++) {
      try {
        signal.throwIfAborted()
        const response = await this.#attempt(call)
        if (response.statusCode < 400) return response
        const error = await this.#readHttpError(response, call)
        if ((error.status === 503 || error.status === 429) && attempt < call.retry.attempts) {
          const retryAfter = parseRetryAfter(response.headers['retry-after'])
          await sleep(requestRetryDelay(attempt, call.retry, retryAfter), signal)
          continue
        }
        throw error
      } catch (error) {
        if (signal.aborted) throw signal.reason
        if (error instanceof HttpError) throw error
        const connection = connectionReason(error)
        if (!connection) throw error
        if (connection.retryable && attempt < call.retry.attempts) {
          await sleep(requestRetryDelay(attempt, call.retry), signal)
          continue
        }
        throw new ConnectionError({
          host: this.host,
          method: call.method,
          url: call.url,
          reason: connection.reason,
          attempts: attempt,
          connected: typeof error === 'object' && error !== null && afterConnect.has(error),
          server: this.#server,
          cause: error,
        })
      }
    }
  }

  async #attempt(call: Call): Promise<ResponseData> {
    const controller = call.controller
    let connectTimer = startTimeout(call, 'connect')
    let firstByteTimer: ReturnType<typeof setTimeout> | undefined
    const onConnected = () => {
      clearTimeout(connectTimer)
      connectTimer = undefined
      firstByteTimer ??= startTimeout(call, 'first-byte')
    }
    const options: Dispatcher.DispatchOptions = {
      origin: this.#origin,
      path: `${this.#basePath}${call.path}`,
      method: call.method,
      headers: call.headers,
      body: call.body ?? null,
      headersTimeout: 0,
      bodyTimeout: 0,
    }
    try {
      return await new Promise<ResponseData>((resolve, reject) => {
        const signal = controller.signal
        if (signal.aborted) {
          reject(signal.reason)
          return
        }
        const handler = new AttemptHandler(signal, onConnected, resolve, reject)
        try {
          this.#agent.dispatch(options, handler)
        } catch (error) {
          handler.onResponseError(undefined as never, error as Error)
        }
      })
    } finally {
      clearTimeout(connectTimer)
      clearTimeout(firstByteTimer)
    }
  }

  /** Reads an error body (bounded, within the idle timeout): the JSON `error` text, or the raw text. */
  async #readHttpError(response: ResponseData, call: Call): Promise<HttpError> {
    const timer = startTimeout(call, 'idle')
    let text: string
    try {
      text = (await response.body.collect(maxErrorBodyBytes)).toString('utf8')
    } finally {
      clearTimeout(timer)
    }
    let body = text
    try {
      const parsed: unknown = JSON.parse(text)
      if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) {
        // Ollama: `{"error":"…"}`; OpenAI-compatible servers: `{"error":{"message":"…",…}}`.
        body = errorMessageOf((parsed as { error: unknown }).error)
      }
    } catch {
      // Not JSON (a proxy's page): keep the text.
    }
    return new HttpError({
      status: response.statusCode,
      method: call.method,
      url: call.url,
      body,
      statusText: response.statusText,
    })
  }

  /** Closes every connection; calls still running fail with a ConnectionError (`client closed`). */
  async close(): Promise<void> {
    await this.#agent.destroy()
  }
}
