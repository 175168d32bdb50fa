// Ollama's OpenAI-compatible routes (`/v1/chat/completions`, `/v1/completions`, `/v1/models`): the
// request is translated into an Ollama request as `openai.FromChatRequest` / `FromCompleteRequest`
// do, runs through the same handlers (same faults, chunking, queue), and is written back as OpenAI
// JSON or Server-Sent Events.

import type { Exchange, SimulatorState } from './exchange.ts'
import { chatFromBody, generateFromBody } from './generation.ts'
import { goJson } from './json.ts'
import type { OpenAIWire } from './openai-format.ts'
import { sendError, sendJson, useOpenAIErrors } from './replies.ts'
import { type FieldType, parseBody, readBody } from './request-body.ts'

const sharedFields: Record<string, FieldType> = {
  model: 'string',
  stream: 'bool',
  stream_options: 'object',
  max_tokens: 'number',
  seed: 'number',
  temperature: 'number',
  top_p: 'number',
  frequency_penalty: 'number',
  presence_penalty: 'number',
  stop: 'any',
}
const chatFields: Record<string, FieldType> = {
  ...sharedFields,
  messages: 'array',
  tools: 'array',
  response_format: 'object',
  reasoning: 'object',
  reasoning_effort: 'string',
}
const completionFields: Record<string, FieldType> = { ...sharedFields, prompt: 'string', suffix: 'string' }

/** The sampling options both routes map into Ollama's `options`; a message when `stop` is bad. */
function optionsOf(body: Record<string, unknown>): Record<string, unknown> | string {
  const options: Record<string, unknown> = {}
  const stop = body.stop
  if (typeof stop === 'string') options.stop = [stop]
  else if (Array.isArray(stop)) {
    if (!stop.every((item) => typeof item === 'string')) return "invalid type for 'stop' field"
    options.stop = stop
  }
  if (typeof body.max_tokens === 'number') options.num_predict = body.max_tokens
  options.temperature = typeof body.temperature === 'number' ? body.temperature : 1
  if (typeof body.seed === 'number') options.seed = body.seed
  if (typeof body.frequency_penalty === 'number') options.frequency_penalty = body.frequency_penalty
  if (typeof body.presence_penalty === 'number') options.presence_penalty = body.presence_penalty
  options.top_p = typeof body.top_p === 'number' && body.top_p !== 0 ? body.top_p : 1
  return options
}

function wireOf(body: Record<string, unknown>, api: OpenAIWire['api']): OpenAIWire {
  const streamOptions = body.stream_options as { include_usage?: unknown } | null | undefined
  return { api, includeUsage: streamOptions?.include_usage === true }
}

type OpenAIMessage = { role?: unknown; content?: unknown; reasoning?: unknown; tool_calls?: unknown }

/** `FromChatRequest`'s message mapping: string content, or text parts (one message each). */
function messagesOf(messages: unknown[]): Array<Record<string, unknown>> | string {
  const mapped: Array<Record<string, unknown>> = []
  for (const item of messages) {
    if (typeof item !== 'object' || item === null) return 'invalid message format'
    const message = item as OpenAIMessage
    const role = typeof message.role === 'string' ? message.role : ''
    const thinking = typeof message.reasoning === 'string' ? message.reasoning : undefined
    if (typeof message.content === 'string') {
      mapped.push({ role, content: message.content, ...(thinking ? { thinking } : {}) })
    } else if (Array.isArray(message.content)) {
      for (const part of message.content as Array<{ type?: unknown; text?: unknown }>) {
        if (part?.type !== 'text' || typeof part.text !== 'string') return 'invalid message format'
        mapped.push({ role, content: part.text })
      }
    } else if (message.tool_calls !== undefined && message.tool_calls !== null) {
      mapped.push({ role, content: '', ...(thinking ? { thinking } : {}) })
    } else {
      return `invalid message content type: ${message.content === null || message.content === undefined ? '<nil>' : typeof message.content}`
    }
  }
  return mapped
}

/** `response_format` → Ollama's `format`; `reasoning(_effort)` → `think`. */
function formatAndThink(body: Record<string, unknown>): { format?: unknown; think?: unknown } | string {
  const result: { format?: unknown; think?: unknown } = {}
  const responseFormat = body.response_format as { type?: unknown; json_schema?: { schema?: unknown } } | null
  const type = typeof responseFormat?.type === 'string' ? responseFormat.type.trim().toLowerCase() : ''
  if (type === 'json_object') result.format = 'json'
  else if (type === 'json_schema' && responseFormat?.json_schema)
    result.format = responseFormat.json_schema.schema
  const reasoning = body.reasoning as { effort?: unknown } | null | undefined
  const effort = typeof reasoning?.effort === 'string' ? reasoning.effort : body.reasoning_effort
  if (typeof effort === 'string' && effort !== '') {
    if (!['high', 'medium', 'low', 'none'].includes(effort)) {
      return `invalid reasoning value: '${effort}' (must be "high", "medium", "low", or "none")`
    }
    result.think = effort === 'none' ? false : effort
  }
  return result
}

/** `POST /v1/chat/completions`. */
export async function handleOpenAIChat(exchange: Exchange, state: SimulatorState): Promise<void> {
  useOpenAIErrors(exchange.response)
  const parsed = parseBody(await readBody(exchange.request), 'ChatCompletionRequest', chatFields)
  if (!parsed.ok) return sendError(exchange.response, 400, parsed.message)
  const body = parsed.body
  const messages = Array.isArray(body.messages) ? (body.messages as unknown[]) : []
  if (messages.length === 0) return sendError(exchange.response, 400, "[] is too short - 'messages'")
  const mapped = messagesOf(messages)
  const options = optionsOf(body)
  const extra = formatAndThink(body)
  for (const problem of [mapped, options, extra]) {
    if (typeof problem === 'string') return sendError(exchange.response, 400, problem)
  }
  const request: Record<string, unknown> = {
    model: body.model,
    messages: mapped,
    ...(extra as object),
    options,
    stream: body.stream === true,
    tools: body.tools ?? undefined,
  }
  await chatFromBody(exchange, state, request, wireOf(body, 'chat'))
}

/** `POST /v1/completions`. */
export async function handleOpenAICompletions(exchange: Exchange, state: SimulatorState): Promise<void> {
  useOpenAIErrors(exchange.response)
  const parsed = parseBody(await readBody(exchange.request), 'CompletionRequest', completionFields)
  if (!parsed.ok) return sendError(exchange.response, 400, parsed.message)
  const body = parsed.body
  const options = optionsOf(body)
  if (typeof options === 'string') return sendError(exchange.response, 400, options)
  const request: Record<string, unknown> = {
    model: body.model,
    prompt: typeof body.prompt === 'string' ? body.prompt : '',
    options,
    stream: body.stream === true,
    ...(typeof body.suffix === 'string' && body.suffix !== '' ? { suffix: body.suffix } : {}),
  }
  await generateFromBody(exchange, state, request, wireOf(body, 'completions'))
}

/** `GET /v1/models`: `ToListCompletion` over the local models. */
export function handleOpenAIModels(exchange: Exchange, state: SimulatorState): void {
  useOpenAIErrors(exchange.response)
  const data = state.models.list().map((model) => ({
    id: model.name,
    object: 'model',
    created: Math.floor(model.modifiedAt / 1000),
    owned_by: 'library',
  }))
  sendJson(exchange.response, 200, goJson({ object: 'list', data }) + '\n', 'application/json')
}
