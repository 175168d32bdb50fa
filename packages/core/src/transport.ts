// The HTTP side of the client: one undici Agent, our own connect and first-byte timeouts (undici's
// 300 s headersTimeout/bodyTimeout are off), retries before the first byte, typed errors.

import { Agent, type Dispatcher } from 'undici'
import { ConnectionError, HttpError, TimeoutError } from './errors.ts'
import { parseRetryAfter, type ResolvedRetry, retryDelay, sleep } from './retry.ts'

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

export type ResponseData = Dispatcher.ResponseData

/** Set on the dispatch options so the interceptor can tell us when the connection is up. */
const connectedKey = 'spoutOnConnected'

type ConnectedOptions = Dispatcher.DispatchOptions & { [connectedKey]?: () => void }

/** Calls `onConnected` when undici starts writing the request, i.e. once a connection is established. */
class ConnectionNotifier implements Dispatcher.DispatchHandler {
  readonly #handler: Dispatcher.DispatchHandler
  readonly #onConnected: () => void

  constructor(handler: Dispatcher.DispatchHandler, onConnected: () => void) {
    this.#handler = handler
    this.#onConnected = onConnected
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.#onConnected()
    this.#handler.onRequestStart?.(controller, context)
  }

  onRequestUpgrade(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Parameters<NonNullable<Dispatcher.DispatchHandler['onRequestUpgrade']>>[2],
    socket: Parameters<NonNullable<Dispatcher.DispatchHandler['onRequestUpgrade']>>[3],
  ): void {
    this.#handler.onRequestUpgrade?.(controller, statusCode, headers, socket)
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Parameters<NonNullable<Dispatcher.DispatchHandler['onResponseStart']>>[2],
    statusMessage?: string,
  ): void {
    this.#handler.onResponseStart?.(controller, statusCode, headers, statusMessage)
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#handler.onResponseData?.(controller, chunk)
  }

  onResponseEnd(
    controller: Dispatcher.DispatchController,
    trailers: Parameters<NonNullable<Dispatcher.DispatchHandler['onResponseEnd']>>[1],
  ): void {
    this.#handler.onResponseEnd?.(controller, trailers)
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.#handler.onResponseError?.(controller, error)
  }
}

const notifyOnConnect: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (options, handler) => {
  const onConnected = (options as ConnectedOptions)[connectedKey]
  return dispatch(options, onConnected ? new ConnectionNotifier(handler, onConnected) : handler)
}

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
}

export class Transport {
  readonly host: string
  readonly #origin: string
  readonly #basePath: string
  readonly #agent: Agent
  readonly #dispatcher: Dispatcher

  constructor(options: TransportOptions) {
    this.host = options.host
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
    this.#dispatcher = this.#agent.compose(notifyOnConnect)
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
          await sleep(retryDelay(attempt, call.retry, retryAfter), signal)
          continue
        }
        throw error
      } catch (error) {
        if (signal.aborted) throw signal.reason
        if (error instanceof HttpError) throw error
        const connection = connectionReason(error)
        if (!connection) throw error
        if (connection.retryable && attempt < call.retry.attempts) {
          await sleep(retryDelay(attempt, call.retry), signal)
          continue
        }
        throw new ConnectionError({
          host: this.host,
          method: call.method,
          url: call.url,
          reason: connection.reason,
          attempts: attempt,
          cause: error,
        })
      }
    }
  }

  async #attempt(call: Call): Promise<ResponseData> {
    const { timeouts, controller } = call
    let connectTimer: ReturnType<typeof setTimeout> | undefined
    let firstByteTimer: ReturnType<typeof setTimeout> | undefined
    if (timeouts.connect > 0) {
      connectTimer = setTimeout(() => {
        controller.abort(
          new TimeoutError({
            phase: 'connect',
            timeout: timeouts.connect,
            method: call.method,
            url: call.url,
          }),
        )
      }, timeouts.connect)
    }
    const onConnected = () => {
      clearTimeout(connectTimer)
      connectTimer = undefined
      if (timeouts.firstByte > 0 && firstByteTimer === undefined) {
        firstByteTimer = setTimeout(() => {
          controller.abort(
            new TimeoutError({
              phase: 'first-byte',
              timeout: timeouts.firstByte,
              method: call.method,
              url: call.url,
            }),
          )
        }, timeouts.firstByte)
      }
    }
    const options: ConnectedOptions & Dispatcher.RequestOptions = {
      origin: this.#origin,
      path: `${this.#basePath}${call.path}`,
      method: call.method,
      headers: call.headers,
      body: call.body,
      signal: controller.signal,
      headersTimeout: 0,
      bodyTimeout: 0,
      [connectedKey]: onConnected,
    }
    try {
      return await this.#dispatcher.request(options)
    } finally {
      clearTimeout(connectTimer)
      clearTimeout(firstByteTimer)
    }
  }

  /** Reads an error body (bounded, within the idle timeout): the JSON `error` text, or the raw text. */
  async #readHttpError(response: ResponseData, call: Call): Promise<HttpError> {
    const chunks: Buffer[] = []
    let size = 0
    const idle = call.timeouts.idle
    const timer =
      idle > 0
        ? setTimeout(() => {
            call.controller.abort(
              new TimeoutError({ phase: 'idle', timeout: idle, method: call.method, url: call.url }),
            )
          }, idle)
        : undefined
    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        chunks.push(chunk)
        size += chunk.length
        if (size >= maxErrorBodyBytes) {
          response.body.destroy()
          break
        }
      }
    } finally {
      clearTimeout(timer)
    }
    const text = Buffer.concat(chunks).subarray(0, maxErrorBodyBytes).toString('utf8')
    let body = text
    try {
      const parsed: unknown = JSON.parse(text)
      if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) {
        const message = (parsed as { error: unknown }).error
        body = typeof message === 'string' ? message : JSON.stringify(message)
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
