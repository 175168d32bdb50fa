// What every HTTP backend (OllamaClient, OpenAIClient) builds a call from: its defaults (headers,
// timeouts, retries) and the per-call options, merged once per call.

import { type ResolvedRetry, type RetryOptions, resolveRetry } from './request-retry.ts'
import {
  type Call,
  type ResolvedTimeouts,
  resolveTimeouts,
  type Timeouts,
  type Transport,
} from './transport.ts'

export type HeadersInput = Record<string, string | undefined> | [string, string][] | Headers

export interface RequestOptions {
  /** Cancels the call at any phase; the call rejects with `signal.reason`. */
  signal?: AbortSignal
  /** Overrides the client's timeouts for this call. */
  timeouts?: Timeouts
  /** Overrides the client's retry settings for this call. */
  retry?: RetryOptions | false
  /** Extra headers for this call. */
  headers?: HeadersInput
}

/** A client's defaults for every call. */
export interface CallDefaults {
  transport: Transport
  /** Lower-case names. */
  headers: Record<string, string>
  timeouts: ResolvedTimeouts
  retry: ResolvedRetry
}

const version = '0.1.0'

/** `spout/VERSION (node vX)`: the `user-agent` of every request. */
export const userAgent = `spout/${version} (node ${typeof process === 'undefined' ? '' : process.version})`

/** Lower-cased header names into `into`; `undefined` values left out. */
export function normalizeHeaders(input: HeadersInput | undefined, into: Record<string, string>): void {
  if (input === undefined) return
  const entries =
    input instanceof Headers ? input.entries() : Array.isArray(input) ? input : Object.entries(input)
  for (const [name, value] of entries) {
    if (value !== undefined) into[name.toLowerCase()] = value
  }
}

/** One call: the defaults, then the call's own headers, timeouts and retries. */
export function createCall(
  defaults: CallDefaults,
  method: 'GET' | 'POST',
  path: string,
  body: string | undefined,
  options: RequestOptions,
  accept: string,
): Call {
  const headers: Record<string, string> = { accept }
  if (body !== undefined) headers['content-type'] = 'application/json'
  Object.assign(headers, defaults.headers)
  normalizeHeaders(options.headers, headers)
  return {
    method,
    url: defaults.transport.url(path),
    path,
    body,
    headers,
    timeouts: resolveTimeouts(defaults.timeouts, options.timeouts),
    retry: resolveRetry(defaults.retry, options.retry),
    controller: new AbortController(),
  }
}
