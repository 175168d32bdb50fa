// Ollama's OpenAI-compatible replies (`middleware/openai.go`, `openai/openai.go` in ollama/ollama):
// every NDJSON object the model goroutine produces becomes one `data: {json}\n\n` event, the last one
// carries `finish_reason`, then (with `stream_options.include_usage`) a usage event with no choices,
// then `data: [DONE]\n\n`. Keys in the order Go's structs declare them.

import { goJson, goString } from './json.ts'
import type { AnswerText, Metrics, WireFormat } from './lines.ts'
import { openAIErrorJson } from './replies.ts'
import type { SimToolCall } from './tool-calls.ts'

export interface OpenAIWire {
  /** `/v1/chat/completions` or `/v1/completions`. */
  api: 'chat' | 'completions'
  /** `stream_options.include_usage`. */
  includeUsage: boolean
}

export const eventStreamContentType = 'text/event-stream'

function usageJson(metrics: Metrics): string {
  const prompt = metrics.promptEvalCount
  const completion = metrics.evalCount
  return (
    '{"prompt_tokens":' +
    prompt +
    ',"completion_tokens":' +
    completion +
    ',"total_tokens":' +
    (prompt + completion) +
    '}'
  )
}

/** `openai.ToToolCalls`: arguments as a JSON string. */
function toolCallsJson(toolCalls: SimToolCall[]): string {
  const calls = toolCalls.map((call) => ({
    id: call.id,
    index: call.function.index,
    type: 'function',
    function: { name: call.function.name, arguments: goJson(call.function.arguments) },
  }))
  return goJson(calls)
}

const zeroUsage = ',"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}'

export class OpenAIFormat implements WireFormat {
  readonly contentType = eventStreamContentType
  readonly wholeContentType = 'application/json'
  readonly #wire: OpenAIWire
  readonly #id: string
  readonly #created: number
  readonly #model: string
  /** `{"id":…,"object":…,"created":…` shared by every event. */
  readonly #head: string
  #toolCallSent = false

  constructor(wire: OpenAIWire, model: string) {
    this.#wire = wire
    // Ollama: `chatcmpl-%d` / `cmpl-%d` with rand.Intn(999), `created` the request's Unix time.
    const number = Math.floor(Math.random() * 999)
    this.#id = wire.api === 'chat' ? `chatcmpl-${number}` : `cmpl-${number}`
    this.#created = Math.floor(Date.now() / 1000)
    this.#model = goString(model)
    const object = wire.api === 'chat' ? 'chat.completion.chunk' : 'text_completion'
    this.#head = '{"id":"' + this.#id + '","object":"' + object + '","created":' + this.#created
  }

  thinkingChunk(_createdAt: string, json: string): string {
    // `/v1/completions` drops thinking (`ToCompleteChunk` copies `response` only): an empty text.
    return this.#wire.api === 'chat'
      ? this.#delta('"content":"","reasoning":' + json, 'null')
      : this.#text('""', 'null')
  }

  responseChunk(_createdAt: string, json: string): string {
    return this.#wire.api === 'chat' ? this.#delta('"content":' + json, 'null') : this.#text(json, 'null')
  }

  toolCallChunk(_createdAt: string, toolCalls: SimToolCall[]): string {
    this.#toolCallSent = true
    return this.#delta('"content":"","tool_calls":' + toolCallsJson(toolCalls), 'null')
  }

  streamEnd(_createdAt: string, doneReason: string, _context: string | undefined, metrics: Metrics): string {
    const chat = this.#wire.api === 'chat'
    const reason = '"' + (chat && this.#toolCallSent ? 'tool_calls' : doneReason) + '"'
    let events = chat ? this.#delta('"content":""', reason) : this.#text('""', reason)
    if (this.#wire.includeUsage) events += this.#usage(metrics)
    return events + 'data: [DONE]\n\n'
  }

  whole(
    _createdAt: string,
    doneReason: string,
    _context: string | undefined,
    metrics: Metrics,
    answer: AnswerText,
  ): string {
    const common =
      '","created":' + this.#created + ',"model":' + this.#model + ',"system_fingerprint":"fp_ollama"'
    const usage = ',"usage":' + usageJson(metrics) + '}\n'
    if (this.#wire.api === 'completions') {
      return (
        '{"id":"' +
        this.#id +
        '","object":"text_completion' +
        common +
        ',"choices":[{"text":' +
        goString(answer.response) +
        ',"index":0,"finish_reason":"' +
        doneReason +
        '"}]' +
        usage
      )
    }
    let message = '{"role":"assistant","content":' + goString(answer.response)
    if (answer.thinking) message += ',"reasoning":' + goString(answer.thinking)
    if (answer.toolCalls.length > 0) message += ',"tool_calls":' + toolCallsJson(answer.toolCalls)
    const reason = answer.toolCalls.length > 0 ? 'tool_calls' : doneReason
    return (
      '{"id":"' +
      this.#id +
      '","object":"chat.completion' +
      common +
      ',"choices":[{"index":0,"message":' +
      message +
      '},"finish_reason":"' +
      reason +
      '"}]' +
      usage
    )
  }

  malformed(_createdAt: string): string {
    return 'data: ' + this.#head + ',"mod\n\n'
  }

  /**
   * Ollama's middleware turns a mid-stream `{"error":…}` into an empty chunk; vLLM and llama.cpp send
   * an error event. The simulator sends the error event, which is what a client must handle.
   */
  streamError(message: string): string {
    return 'data: ' + openAIErrorJson(500, message).trimEnd() + '\n\n'
  }

  #delta(fields: string, finishReason: string): string {
    return (
      'data: ' +
      this.#head +
      ',"model":' +
      this.#model +
      ',"system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant",' +
      fields +
      '},"finish_reason":' +
      finishReason +
      '}]}\n\n'
    )
  }

  #text(json: string, finishReason: string): string {
    return (
      'data: ' +
      this.#head +
      ',"choices":[{"text":' +
      json +
      ',"index":0,"finish_reason":' +
      finishReason +
      '}],"model":' +
      this.#model +
      ',"system_fingerprint":"fp_ollama"' +
      (this.#wire.includeUsage ? zeroUsage : '') +
      '}\n\n'
    )
  }

  #usage(metrics: Metrics): string {
    const usage = ',"usage":' + usageJson(metrics) + '}\n\n'
    return this.#wire.api === 'chat'
      ? 'data: ' +
          this.#head +
          ',"model":' +
          this.#model +
          ',"system_fingerprint":"fp_ollama","choices":[]' +
          usage
      : 'data: ' +
          this.#head +
          ',"choices":[],"model":' +
          this.#model +
          ',"system_fingerprint":"fp_ollama"' +
          usage
  }
}
