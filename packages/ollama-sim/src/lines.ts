import { goJson, goString } from './json.ts'
import { jsonContentType, ndjsonContentType } from './replies.ts'
import type { SimToolCall } from './tool-calls.ts'

/** Ollama's `Metrics` (durations in nanoseconds). */
export interface Metrics {
  totalDuration: number
  loadDuration: number
  promptEvalCount: number
  promptEvalDuration: number
  evalCount: number
  evalDuration: number
}

export type Endpoint = 'generate' | 'chat'

/** The text and calls a completed (or aggregated) answer carries. */
export interface AnswerText {
  response: string
  thinking: string
  toolCalls: SimToolCall[]
}

const tokenJsonCache = new Map<string, string>()
const cacheLimit = 10_000

let lastLongToken = ''
let lastLongJson = ''

/** A token's JSON string literal, cached (tokens repeat; this is the hot path; long lines repeat in benchmarks). */
export function tokenJson(token: string): string {
  if (token.length > 64) {
    if (token !== lastLongToken) {
      lastLongJson = goString(token)
      lastLongToken = token
    }
    return lastLongJson
  }
  let json = tokenJsonCache.get(token)
  if (json === undefined) {
    json = goString(token)
    if (tokenJsonCache.size < cacheLimit) tokenJsonCache.set(token, json)
  }
  return json
}

/** `,"total_duration":…` in Go's field order, zero values left out (omitempty). */
export function metricsJson(metrics: Metrics): string {
  let json = ''
  if (metrics.totalDuration) json += ',"total_duration":' + metrics.totalDuration
  if (metrics.loadDuration) json += ',"load_duration":' + metrics.loadDuration
  if (metrics.promptEvalCount) json += ',"prompt_eval_count":' + metrics.promptEvalCount
  if (metrics.promptEvalDuration) json += ',"prompt_eval_duration":' + metrics.promptEvalDuration
  if (metrics.evalCount) json += ',"eval_count":' + metrics.evalCount
  if (metrics.evalDuration) json += ',"eval_duration":' + metrics.evalDuration
  return json
}

/** How a completion's reply is written: Ollama's NDJSON (`LineFormat`) or its `/v1` SSE (`OpenAIFormat`). */
export interface WireFormat {
  /** Of a streamed reply. */
  readonly contentType: string
  /** Of a `stream: false` reply. */
  readonly wholeContentType: string
  thinkingChunk(createdAt: string, json: string): string
  responseChunk(createdAt: string, json: string): string
  toolCallChunk(createdAt: string, toolCalls: SimToolCall[]): string
  /** Everything a stream writes after its last chunk, line endings included. */
  streamEnd(createdAt: string, doneReason: string, context: string | undefined, metrics: Metrics): string
  /** The `stream: false` body. */
  whole(
    createdAt: string,
    doneReason: string,
    context: string | undefined,
    metrics: Metrics,
    answer: AnswerText,
  ): string
  /** A torn line that is not JSON (malformed-line fault). */
  malformed(createdAt: string): string
  /** The error written into a stream already started (midstream-error fault). */
  streamError(message: string): string
}

/**
 * Builds every line of a generate or chat reply with the key order Go writes
 * (GenerateResponse: model, created_at, response, thinking, done, done_reason, context, metrics;
 * ChatResponse: model, created_at, message{role, content, thinking, tool_calls}, done, done_reason, metrics).
 * Chunk builders take the token's JSON literal and return the line with its `\n`.
 */
export class LineFormat implements WireFormat {
  readonly contentType = ndjsonContentType
  readonly wholeContentType = jsonContentType
  readonly #prefix: string
  readonly endpoint: Endpoint

  constructor(endpoint: Endpoint, model: string) {
    this.endpoint = endpoint
    this.#prefix = '{"model":' + goString(model) + ',"created_at":"'
  }

  thinkingChunk(createdAt: string, json: string): string {
    return this.endpoint === 'generate'
      ? this.#prefix + createdAt + '","response":"","thinking":' + json + ',"done":false}\n'
      : this.#prefix +
          createdAt +
          '","message":{"role":"assistant","content":"","thinking":' +
          json +
          '},"done":false}\n'
  }

  responseChunk(createdAt: string, json: string): string {
    return this.endpoint === 'generate'
      ? this.#prefix + createdAt + '","response":' + json + ',"done":false}\n'
      : this.#prefix + createdAt + '","message":{"role":"assistant","content":' + json + '},"done":false}\n'
  }

  toolCallChunk(createdAt: string, toolCalls: SimToolCall[]): string {
    return (
      this.#prefix +
      createdAt +
      '","message":{"role":"assistant","content":"","tool_calls":' +
      goJson(toolCalls) +
      '},"done":false}\n'
    )
  }

  /** The final object (or the `stream: false` body when `answer` is given), without `\n`. */
  final(
    createdAt: string,
    doneReason: string,
    context: string | undefined,
    metrics: Metrics,
    answer?: AnswerText,
  ): string {
    const tail = ',"done":true,"done_reason":"' + doneReason + '"'
    if (this.endpoint === 'generate') {
      const response = answer ? goString(answer.response) : '""'
      const thinking = answer?.thinking ? ',"thinking":' + goString(answer.thinking) : ''
      const contextJson = context === undefined ? '' : ',"context":' + context
      return (
        this.#prefix +
        createdAt +
        '","response":' +
        response +
        thinking +
        tail +
        contextJson +
        metricsJson(metrics) +
        '}'
      )
    }
    let message = '{"role":"assistant","content":' + (answer ? goString(answer.response) : '""')
    if (answer?.thinking) message += ',"thinking":' + goString(answer.thinking)
    if (answer && answer.toolCalls.length > 0) message += ',"tool_calls":' + goJson(answer.toolCalls)
    return this.#prefix + createdAt + '","message":' + message + '}' + tail + metricsJson(metrics) + '}'
  }

  streamEnd(createdAt: string, doneReason: string, context: string | undefined, metrics: Metrics): string {
    return this.final(createdAt, doneReason, context, metrics) + '\n'
  }

  whole(
    createdAt: string,
    doneReason: string,
    context: string | undefined,
    metrics: Metrics,
    answer: AnswerText,
  ): string {
    return this.final(createdAt, doneReason, context, metrics, answer)
  }

  streamError(message: string): string {
    return '{"error":' + goString(message) + '}\n'
  }

  /** The load / unload reply (a single object, no metrics). */
  loadReply(createdAt: string, doneReason: 'load' | 'unload'): string {
    const body =
      this.endpoint === 'generate' ? '","response":""' : '","message":{"role":"assistant","content":""}'
    return this.#prefix + createdAt + body + ',"done":true,"done_reason":"' + doneReason + '"}'
  }

  /** A torn line that is not JSON (malformed-line fault). */
  malformed(createdAt: string): string {
    return this.#prefix + createdAt + '","respo\n'
  }
}
