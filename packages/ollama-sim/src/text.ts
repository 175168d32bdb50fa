import { type Directives, faultAfter, parseDirectives } from './faults.ts'
import { markdownTokens } from './markdown-text.ts'
import { defaultModels, hasCapability, ModelRegistry, normalizeModelName, type SimModel } from './models.ts'
import { hashText, Random } from './random.ts'
import { isStructuredFormat, structuredTokens } from './structured.ts'
import { buildToolCall, type SimToolCall } from './tool-calls.ts'

/** The request fields that decide what the simulator answers. */
export interface ExpectedRequest {
  model: string
  /** Generate prompt. */
  prompt?: string
  /** Generate system prompt. */
  system?: string
  /** Chat messages (a generate request equals a chat with `system` then `user` messages). */
  messages?: ReadonlyArray<{ role: string; content?: string }>
  /** `num_predict` > 0 caps thinking + response tokens (then `done_reason` is `"length"`). */
  options?: { num_predict?: number } & Record<string, unknown>
  /** `false` turns a thinking model's thinking off; a non-thinking model never thinks. */
  think?: boolean | string
  /** Chat tools: a tools-capable model answers with one tool call instead of text. */
  tools?: readonly unknown[]
  /** `"json"` or a JSON schema: the answer is JSON text (every schema property, in order). */
  format?: unknown
}

/** Exactly what the simulator streams for a request. */
export interface ExpectedResponse {
  /** Concatenation of every `response` / `message.content` chunk. */
  response: string
  /** Concatenation of every `thinking` chunk (`''` when the model does not think). */
  thinking: string
  /** The `response` chunks in order. */
  tokens: string[]
  /** The `thinking` chunks in order. */
  thinkingTokens: string[]
  /** The tool calls streamed (chat with `tools` only). */
  toolCalls: SimToolCall[]
  doneReason: 'stop' | 'length'
}

/** Options that change what a simulator answers beyond the request itself. */
export interface ExpectedResponseOptions {
  /** The simulator's models (to know which think and call tools); default the default models. */
  models?: readonly SimModel[]
  /** Directives as if they were written in the prompt (the simulator's global `fault`, …). */
  directives?: Directives
}

const responseWords = [
  ' the',
  ' a',
  ' stream',
  ' token',
  ' river',
  ' light',
  ' data',
  ' quick',
  ' brown',
  ' fox',
  ' jumps',
  ' over',
  ' lazy',
  ' dog',
  ' and',
  ' of',
  ' to',
  ' in',
  ' is',
  ' every',
  ' small',
  ' model',
  ' answer',
  ' question',
  ' café',
  ' naïve',
  ' —',
  ' 🚀',
  ' über',
  ' 東京',
  ' ✨',
  ' résumé',
  ' 😀',
  ' Straße',
  ' 👩‍💻',
  ' €5',
  ' <b>',
  ' &',
  ' "quoted"',
  ' 42',
  ' x²',
  ' π',
  ' back\\slash',
  ' tab\there',
]
const thinkingWords = [
  ' so',
  ' the',
  ' user',
  ' wants',
  ' me',
  ' to',
  ' think',
  ' about',
  ' this',
  ' carefully',
  ' first',
  ' maybe',
  ' then',
  ' answer',
  ' step',
  ' by',
  ' — ',
  ' hmm',
  ' naïve',
  ' 🤔',
  ' idea',
  ' check',
  ' again',
]
const sentenceEnds = ['.', '.', '.', '!', '?', '.\n', '.\n\n']
const longLinePattern = 'The quick brown fox jumps over the lazy dog. '

const capitalize = (word: string): string => {
  const trimmed = word.trimStart()
  return trimmed.charAt(0).toUpperCase() + trimmed.slice(1)
}

function wordTokens(random: Random, count: number, words: readonly string[], opening: string): string[] {
  const tokens: string[] = []
  let sentenceLeft = random.between(4, 12)
  let sentenceStart = true
  while (tokens.length < count) {
    if (tokens.length === 0 && opening !== '') {
      tokens.push(opening)
      sentenceStart = false
      continue
    }
    if (sentenceLeft === 0) {
      tokens.push(random.pick(sentenceEnds))
      sentenceLeft = random.between(4, 12)
      sentenceStart = true
      continue
    }
    const word = random.pick(words)
    tokens.push(sentenceStart ? (tokens.length === 0 ? capitalize(word) : ' ' + capitalize(word)) : word)
    sentenceStart = false
    sentenceLeft--
  }
  return tokens
}

let lastLongLine = ''

/** `bytes` of ASCII text for the long-line fault (bytes = characters = JSON length); the last one is reused. */
export function longLineText(bytes: number): string {
  if (lastLongLine.length !== bytes) {
    lastLongLine = longLinePattern.repeat(Math.ceil(bytes / longLinePattern.length)).slice(0, bytes)
  }
  return lastLongLine
}

/** The conversation as (role, content) pairs: a generate request is `system` + `user`. */
export function conversationOf(request: ExpectedRequest): Array<{ role: string; content: string }> {
  if (request.messages) {
    return request.messages.map((message) => ({
      role: message.role.toLowerCase(),
      content: message.content ?? '',
    }))
  }
  const turns: Array<{ role: string; content: string }> = []
  if (request.system) turns.push({ role: 'system', content: request.system })
  turns.push({ role: 'user', content: request.prompt ?? '' })
  return turns
}

/** The text directives are read from: the prompt, or the last chat message's content. */
export function directiveText(request: ExpectedRequest): string {
  if (request.messages) return request.messages.at(-1)?.content ?? ''
  return request.prompt ?? ''
}

/** Prompt token count reported as `prompt_eval_count`. */
export function promptTokenCount(request: ExpectedRequest): number {
  let count = 0
  for (const turn of conversationOf(request)) count += 4 + Math.ceil(turn.content.length / 4)
  return count + 6
}

export interface CompletionPlan extends ExpectedResponse {
  promptEvalCount: number
  seed: number
}

export interface PlanCapabilities {
  thinking: boolean
  tools: boolean
}

/** What a model answers to a request, given what the model can do and the directives in effect. */
export function planCompletion(
  request: ExpectedRequest,
  capabilities: PlanCapabilities,
  directives: Directives,
): CompletionPlan {
  const conversation = conversationOf(request)
  const seedText =
    normalizeModelName(request.model) +
    '\u0000' +
    conversation.map((turn) => turn.role + '\u0000' + turn.content).join('\u0000')
  const seed = hashText(seedText)
  const random = new Random(seed)
  const naturalLength = directives.tokens ?? random.between(24, 96)
  const thinks = capabilities.thinking && request.think !== false
  const thinkingRandom = new Random(seed ^ 0x5bd1e995)
  let thinkingTokens = thinks
    ? wordTokens(thinkingRandom, thinkingRandom.between(8, 32), thinkingWords, 'Okay,')
    : []
  const lastRole = conversation.at(-1)?.role
  const toolCall =
    capabilities.tools && request.messages && request.tools && request.tools.length > 0 && lastRole !== 'tool'
      ? buildToolCall(request.tools, seedText)
      : undefined
  let tokens = toolCall
    ? []
    : isStructuredFormat(request.format)
      ? structuredTokens(request.format, random)
      : directives.style === 'markdown'
        ? markdownTokens(random, naturalLength)
        : wordTokens(random, naturalLength, responseWords, '')
  const fault = directives.fault
  if (fault?.name === 'long-line') {
    const at = Math.min(faultAfter(fault), tokens.length)
    tokens.splice(at, 0, longLineText(fault.bytes ?? 1024 * 1024))
  }
  let doneReason: 'stop' | 'length' = 'stop'
  const limit = request.options?.num_predict
  if (typeof limit === 'number' && limit > 0 && thinkingTokens.length + tokens.length > limit) {
    doneReason = 'length'
    thinkingTokens = thinkingTokens.slice(0, limit)
    tokens = tokens.slice(0, limit - thinkingTokens.length)
  }
  return {
    response: tokens.join(''),
    thinking: thinkingTokens.join(''),
    tokens,
    thinkingTokens,
    toolCalls: toolCall ? [toolCall] : [],
    doneReason,
    promptEvalCount: promptTokenCount(request),
    seed,
  }
}

/**
 * Exactly what the simulator streams for a request: the text is a pure function of the model name
 * (with or without `:latest`), the conversation (system + prompt, or the messages) and the
 * `[sim:...]` directives in it, capped by `options.num_predict`.
 */
export function expectedResponse(
  request: ExpectedRequest,
  options: ExpectedResponseOptions = {},
): ExpectedResponse {
  const model = new ModelRegistry(options.models ?? defaultModels).find(request.model)
  const directives = { ...options.directives, ...parseDirectives(directiveText(request)) }
  const plan = planCompletion(
    request,
    {
      thinking: model !== undefined && hasCapability(model, 'thinking'),
      tools: model !== undefined && hasCapability(model, 'tools'),
    },
    directives,
  )
  return {
    response: plan.response,
    thinking: plan.thinking,
    tokens: plan.tokens,
    thinkingTokens: plan.thinkingTokens,
    toolCalls: plan.toolCalls,
    doneReason: plan.doneReason,
  }
}
