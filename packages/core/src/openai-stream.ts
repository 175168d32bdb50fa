// OpenAI-compatible SSE streams (`/v1/chat/completions`, `/v1/completions`) turned into the Ollama-shaped
// chunks every backend streams: text, thinking (`reasoning_content` / `reasoning`), whole tool calls
// (joined from their pieces by index), and a final `done: true` object with `done_reason` and metrics
// (token counts from `usage`, durations measured here since these servers send none).

import type { ByteParser } from './byte-parser.ts'
import { errorMessageOf, ParseError } from './errors.ts'
import { SseParser } from './sse.ts'
import type { ToolCall } from './types.ts'

/** The wire read: chat deltas or completion texts. */
export type OpenAIApi = 'chat' | 'completions'
/** The chunks handed out: `GenerateResponse` (`response`, `thinking`) or `ChatResponse` (`message`). */
export type ChunkShape = 'generate' | 'chat'

interface ToolCallPiece {
  index?: number
  id?: string
  function?: { name?: string; arguments?: string }
}

interface ChunkChoice {
  text?: string | null
  delta?: {
    content?: string | null
    reasoning_content?: string | null
    reasoning?: string | null
    tool_calls?: ToolCallPiece[] | null
  } | null
  finish_reason?: string | null
}

interface Chunk {
  model?: string
  created?: number
  choices?: ChunkChoice[] | null
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null
  error?: unknown
}

/** A tool call being received in pieces. */
interface PendingCall {
  id: string | undefined
  name: string
  arguments: string
}

const nanosecondsPerMillisecond = 1e6

/**
 * Bytes in, Ollama-shaped chunks out. The final object is handed out at `data: [DONE]`, or when the
 * input ends after a `finish_reason`; without either the stream is incomplete (no final object).
 */
export class OpenAIStreamParser implements ByteParser {
  readonly #sse: SseParser
  readonly #api: OpenAIApi
  readonly #shape: ChunkShape
  readonly #source: string | undefined
  readonly #startedAt = performance.now()
  #firstAt = 0
  #model = ''
  #createdAt = ''
  #doneReason: string | undefined
  #promptTokens: number | undefined
  #completionTokens: number | undefined
  /** Events that carried text, thinking or a tool call: the token count when the server sends no usage. */
  #textEvents = 0
  #calls: PendingCall[] = []
  #finished = false

  constructor(api: OpenAIApi, shape: ChunkShape, options: { maxEventSize: number; source?: string }) {
    this.#api = api
    this.#shape = shape
    this.#source = options.source
    this.#sse = new SseParser({
      maxEventSize: options.maxEventSize,
      source: options.source,
      copyChunks: false,
      onEvent: this.#onEvent,
    })
  }

  push(chunk: Uint8Array, out: unknown[]): void {
    this.#sse.push(chunk, out)
  }

  end(out: unknown[]): void {
    this.#sse.end(out)
    if (!this.#finished && this.#doneReason !== undefined) this.#final(out)
  }

  /** One event's data: `[DONE]`, an error, or a chunk to map. */
  readonly #onEvent = (out: unknown[], data: string, event: string | undefined): void => {
    if (this.#finished) return
    if (data === '[DONE]') {
      this.#final(out)
      return
    }
    let value: Chunk
    try {
      value = JSON.parse(data) as Chunk
    } catch (error) {
      if (event === 'error') {
        out.push({ error: data })
        this.#finished = true
        return
      }
      throw this.#parseError(data, error)
    }
    if (event === 'error' || (value !== null && value.error !== undefined && value.error !== null)) {
      out.push({ error: errorMessageOf(value?.error ?? value) })
      this.#finished = true
      return
    }
    this.#chunk(value, out)
  }

  #chunk(value: Chunk, out: unknown[]): void {
    if (this.#createdAt === '') {
      this.#model = typeof value.model === 'string' ? value.model : ''
      const created = typeof value.created === 'number' ? value.created * 1000 : Date.now()
      this.#createdAt = new Date(created).toISOString()
    }
    const usage = value.usage
    if (usage) {
      if (typeof usage.prompt_tokens === 'number') this.#promptTokens = usage.prompt_tokens
      if (typeof usage.completion_tokens === 'number' && (usage.completion_tokens > 0 || usage.prompt_tokens))
        this.#completionTokens = usage.completion_tokens
    }
    const choice = value.choices?.[0]
    if (!choice) return
    if (this.#api === 'completions') {
      const text = choice.text
      if (typeof text === 'string' && text !== '') this.#text(text, undefined, out)
    } else {
      const delta = choice.delta
      if (delta) {
        const content = typeof delta.content === 'string' ? delta.content : ''
        const reasoning = delta.reasoning_content ?? delta.reasoning
        const thinking = typeof reasoning === 'string' && reasoning !== '' ? reasoning : undefined
        if (content !== '' || thinking !== undefined) this.#text(content, thinking, out)
        if (delta.tool_calls) this.#toolCallPieces(delta.tool_calls)
      }
    }
    const reason = choice.finish_reason
    if (typeof reason === 'string' && reason !== '') {
      this.#doneReason = reason
      this.#flushCalls(out)
    }
  }

  /** One text chunk, in the shape asked for. */
  #text(text: string, thinking: string | undefined, out: unknown[]): void {
    this.#token()
    const model = this.#model
    const createdAt = this.#createdAt
    // Object literals of fixed shapes: the cheapest objects V8 makes, one per event on the hot path.
    if (this.#shape === 'generate') {
      out.push(
        thinking === undefined
          ? { model, created_at: createdAt, response: text, done: false }
          : { model, created_at: createdAt, response: text, thinking, done: false },
      )
      return
    }
    const message =
      thinking === undefined
        ? { role: 'assistant', content: text }
        : { role: 'assistant', content: text, thinking }
    out.push({ model, created_at: createdAt, message, done: false })
  }

  #token(): void {
    this.#textEvents += 1
    if (this.#firstAt === 0) this.#firstAt = performance.now()
  }

  #toolCallPieces(pieces: ToolCallPiece[]): void {
    for (let position = 0; position < pieces.length; position++) {
      const piece = pieces[position]!
      const index = typeof piece.index === 'number' ? piece.index : position
      let call = this.#calls[index]
      if (call === undefined) {
        call = { id: undefined, name: '', arguments: '' }
        this.#calls[index] = call
        this.#token()
      }
      if (piece.id) call.id = piece.id
      if (piece.function?.name) call.name += piece.function.name
      if (piece.function?.arguments) call.arguments += piece.function.arguments
    }
  }

  /** The tool calls received so far, whole, as one chunk. */
  #flushCalls(out: unknown[]): void {
    if (this.#calls.length === 0) return
    const toolCalls: ToolCall[] = []
    this.#calls.forEach((call, index) => {
      let parsed: unknown = {}
      if (call.arguments.trim() !== '') {
        try {
          parsed = JSON.parse(call.arguments)
        } catch (error) {
          throw this.#parseError(call.arguments, error, `tool call ${call.name}: arguments are not JSON`)
        }
      }
      const toolCall: ToolCall = {
        function: { index, name: call.name, arguments: parsed as ToolCall['function']['arguments'] },
      }
      if (call.id !== undefined) toolCall.id = call.id
      toolCalls.push(toolCall)
    })
    this.#calls = []
    out.push({
      model: this.#model,
      created_at: this.#createdAt,
      message: { role: 'assistant', content: '', tool_calls: toolCalls },
      done: false,
    })
  }

  #final(out: unknown[]): void {
    this.#flushCalls(out)
    this.#finished = true
    const endAt = performance.now()
    const firstAt = this.#firstAt === 0 ? endAt : this.#firstAt
    const final: Record<string, unknown> = { model: this.#model, created_at: this.#createdAt }
    if (this.#shape === 'chat') final.message = { role: 'assistant', content: '' }
    else final.response = ''
    final.done = true
    final.done_reason = this.#doneReason ?? 'stop'
    final.total_duration = Math.round((endAt - this.#startedAt) * nanosecondsPerMillisecond)
    if (this.#promptTokens !== undefined) final.prompt_eval_count = this.#promptTokens
    final.prompt_eval_duration = Math.round((firstAt - this.#startedAt) * nanosecondsPerMillisecond)
    final.eval_count = this.#completionTokens ?? this.#textEvents
    final.eval_duration = Math.round((endAt - firstAt) * nanosecondsPerMillisecond)
    out.push(final)
  }

  #parseError(text: string, cause: unknown, what = 'invalid JSON in an SSE event'): ParseError {
    const preview = text.length > 60 ? `${text.slice(0, 60)}…` : text
    return new ParseError({
      code: 'SPOUT_PARSE_ERROR',
      message: `${what}: ${JSON.stringify(preview)}`,
      line: this.#sse.lines,
      offset: this.#sse.bytes,
      source: this.#source,
      cause,
    })
  }
}
