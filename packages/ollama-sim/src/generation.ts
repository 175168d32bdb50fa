import { type CompletionJob, runCompletion } from './completion.ts'
import type { Exchange, SimulatorState } from './exchange.ts'
import { DirectiveError, type Directives, parseDirectives } from './faults.ts'
import { LineFormat } from './lines.ts'
import { hasCapability, normalizeModelName, type ResolvedModel } from './models.ts'
import type { OpenAIWire } from './openai-format.ts'
import { bareJsonContentType, jsonContentType, sendError, sendJson } from './replies.ts'
import {
  checkMessages,
  type FieldType,
  parseBody,
  parseKeepAlive,
  parseThink,
  readBody,
} from './request-body.ts'
import { isStructuredFormat } from './structured.ts'
import { directiveText, type ExpectedRequest } from './text.ts'
import { formatGoTime } from './time.ts'

const sharedFields: Record<string, FieldType> = {
  model: 'string',
  stream: 'bool',
  format: 'any',
  keep_alive: 'any',
  options: 'object',
  think: 'any',
  truncate: 'bool',
  shift: 'bool',
  logprobs: 'bool',
  top_logprobs: 'number',
}
const generateFields: Record<string, FieldType> = {
  ...sharedFields,
  prompt: 'string',
  suffix: 'string',
  system: 'string',
  template: 'string',
  context: 'array',
  raw: 'bool',
  images: 'array',
}
const chatFields: Record<string, FieldType> = { ...sharedFields, messages: 'array', tools: 'array' }

const registryName = (model: ResolvedModel): string => 'registry.ollama.ai/library/' + model.name

/** Directives in effect for a request: its own, over the simulator's; a fault only if it hits. */
function effectiveDirectives(text: string, state: SimulatorState): Directives {
  const own = parseDirectives(text)
  const fault = own.fault ?? state.fault
  const directives: Directives = { ...own }
  delete directives.fault
  if (fault && state.faultMemory.hits(fault, text)) directives.fault = fault
  return directives
}

/** Ollama's answer to a `format` that is neither absent, `""`, `"json"` nor a schema object. */
function formatError(format: unknown): string | undefined {
  if (format === undefined || format === null || format === '' || isStructuredFormat(format)) return undefined
  return `invalid format: ${JSON.stringify(JSON.stringify(format))}; expected "json" or a valid JSON Schema object`
}

interface CommonFields {
  modelName: string
  keepAliveMs: number | undefined
  think: boolean | string | undefined
}

/** Checks what generate and chat share; answers the error itself and returns undefined. */
function checkCommon(exchange: Exchange, body: Record<string, unknown>): CommonFields | undefined {
  const topLogprobs = body.top_logprobs
  if (typeof topLogprobs === 'number' && (topLogprobs < 0 || topLogprobs > 20)) {
    sendError(exchange.response, 400, 'top_logprobs must be between 0 and 20')
    return undefined
  }
  const keepAlive = parseKeepAlive(body.keep_alive)
  if (typeof keepAlive === 'object') {
    sendError(exchange.response, 400, keepAlive.error)
    return undefined
  }
  const think = parseThink(body.think)
  if (typeof think === 'object') {
    sendError(exchange.response, 400, think.error)
    return undefined
  }
  return { modelName: typeof body.model === 'string' ? body.model : '', keepAliveMs: keepAlive, think }
}

function loadReply(
  exchange: Exchange,
  state: SimulatorState,
  endpoint: 'generate' | 'chat',
  fields: CommonFields,
  model: ResolvedModel,
  reason: 'load' | 'unload',
): void {
  if (reason === 'unload') state.loaded.unload(model)
  else state.loaded.touch(model, fields.keepAliveMs)
  sendJson(
    exchange.response,
    200,
    new LineFormat(endpoint, fields.modelName).loadReply(formatGoTime(Date.now()), reason),
  )
}

async function start(
  exchange: Exchange,
  state: SimulatorState,
  job: Omit<CompletionJob, 'directives' | 'chunking'>,
): Promise<void> {
  const invalidFormat = formatError(job.request.format)
  if (invalidFormat) {
    sendError(exchange.response, 500, invalidFormat, job.stream ? bareJsonContentType : jsonContentType)
    return
  }
  let directives: Directives
  try {
    directives = effectiveDirectives(directiveText(job.request), state)
  } catch (error) {
    if (!(error instanceof DirectiveError)) throw error
    sendError(exchange.response, 400, error.message)
    return
  }
  await runCompletion(
    { ...job, directives, chunking: directives.chunking ?? state.chunking },
    exchange,
    state,
  )
}

/** `POST /api/generate`. */
export async function handleGenerate(exchange: Exchange, state: SimulatorState): Promise<void> {
  const parsed = parseBody(await readBody(exchange.request), 'GenerateRequest', generateFields)
  if (!parsed.ok) return sendError(exchange.response, 400, parsed.message)
  await generateFromBody(exchange, state, parsed.body)
}

/** A generate request already parsed (`/api/generate`, or `/v1/completions` translated as Ollama does). */
export async function generateFromBody(
  exchange: Exchange,
  state: SimulatorState,
  body: Record<string, unknown>,
  openai?: OpenAIWire,
): Promise<void> {
  const fields = checkCommon(exchange, body)
  if (!fields) return
  const model = fields.modelName === '' ? undefined : state.models.find(fields.modelName)
  if (!model) return sendError(exchange.response, 404, `model '${fields.modelName}' not found`)
  const prompt = typeof body.prompt === 'string' ? body.prompt : ''
  if (prompt === '' && fields.keepAliveMs === 0) {
    return loadReply(exchange, state, 'generate', fields, model, 'unload')
  }
  const raw = body.raw === true
  if (raw && (body.template || body.system || (Array.isArray(body.context) && body.context.length > 0))) {
    return sendError(exchange.response, 400, 'raw mode does not support template, system, or context')
  }
  if (typeof body.suffix === 'string' && body.suffix !== '' && !hasCapability(model, 'insert')) {
    return sendError(exchange.response, 400, `${registryName(model)} does not support insert`)
  }
  const thinks = hasCapability(model, 'thinking')
  if (fields.think !== undefined && fields.think !== false && !thinks) {
    return sendError(exchange.response, 400, `"${fields.modelName}" does not support thinking`)
  }
  if (!hasCapability(model, 'completion')) {
    return sendError(exchange.response, 400, `"${fields.modelName}" does not support generate`)
  }
  if (prompt === '') return loadReply(exchange, state, 'generate', fields, model, 'load')
  const request: ExpectedRequest = {
    model: normalizeModelName(fields.modelName),
    prompt,
    system: typeof body.system === 'string' ? body.system : undefined,
    options: body.options as ExpectedRequest['options'],
    think: fields.think,
    format: body.format,
  }
  await start(exchange, state, {
    endpoint: 'generate',
    requestModel: fields.modelName,
    model,
    request,
    stream: body.stream !== false,
    raw,
    keepAliveMs: fields.keepAliveMs,
    thinking: thinks,
    tools: false,
    openai,
  })
}

/** `POST /api/chat`. */
export async function handleChat(exchange: Exchange, state: SimulatorState): Promise<void> {
  const parsed = parseBody(await readBody(exchange.request), 'ChatRequest', chatFields)
  if (!parsed.ok) return sendError(exchange.response, 400, parsed.message)
  await chatFromBody(exchange, state, parsed.body)
}

/** A chat request already parsed (`/api/chat`, or `/v1/chat/completions` translated as Ollama does). */
export async function chatFromBody(
  exchange: Exchange,
  state: SimulatorState,
  body: Record<string, unknown>,
  openai?: OpenAIWire,
): Promise<void> {
  const messages = (Array.isArray(body.messages) ? body.messages : []) as unknown[]
  const messageError = checkMessages(messages)
  if (messageError) return sendError(exchange.response, 400, messageError)
  const fields = checkCommon(exchange, body)
  if (!fields) return
  if (fields.modelName === '') return sendError(exchange.response, 400, 'model is required')
  const model = state.models.find(fields.modelName)
  if (!model) return sendError(exchange.response, 404, `model '${fields.modelName}' not found`)
  if (messages.length === 0 && fields.keepAliveMs === 0) {
    return loadReply(exchange, state, 'chat', fields, model, 'unload')
  }
  const thinks = hasCapability(model, 'thinking')
  if (fields.think !== undefined && fields.think !== false && !thinks) {
    return sendError(exchange.response, 400, `"${fields.modelName}" does not support thinking`)
  }
  if (!hasCapability(model, 'completion')) {
    return sendError(exchange.response, 400, `"${fields.modelName}" does not support chat`)
  }
  const tools = (Array.isArray(body.tools) ? body.tools : []) as unknown[]
  if (tools.length > 0 && !hasCapability(model, 'tools')) {
    return sendError(exchange.response, 400, `${registryName(model)} does not support tools`)
  }
  if (messages.length === 0) return loadReply(exchange, state, 'chat', fields, model, 'load')
  const request: ExpectedRequest = {
    model: normalizeModelName(fields.modelName),
    messages: (messages as Array<{ role?: string | null; content?: string | null }>).map((message) => ({
      role: message.role ?? '',
      content: message.content ?? '',
    })),
    options: body.options as ExpectedRequest['options'],
    think: fields.think,
    tools,
    format: body.format,
  }
  await start(exchange, state, {
    endpoint: 'chat',
    requestModel: fields.modelName,
    model,
    request,
    stream: body.stream !== false,
    raw: false,
    keepAliveMs: fields.keepAliveMs,
    thinking: thinks,
    tools: hasCapability(model, 'tools'),
    openai,
  })
}
