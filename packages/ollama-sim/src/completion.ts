import { type CompletionReply, type Outcome, streamCompletion } from './completion-stream.ts'
import type { Exchange, SimulatorState } from './exchange.ts'
import { type Chunking, type Directives, faultAfter } from './faults.ts'
import { LineFormat } from './lines.ts'
import type { ResolvedModel } from './models.ts'
import { OpenAIFormat, type OpenAIWire } from './openai-format.ts'
import { hashText, Random } from './random.ts'
import {
  bareJsonContentType,
  jsonContentType,
  midstreamErrorMessage,
  runnerStoppedMessage,
  sendError,
  sendJson,
  serverBusyMessage,
} from './replies.ts'
import { acquireSlot, releaseSlot } from './slot.ts'
import { type CompletionPlan, type ExpectedRequest, planCompletion } from './text.ts'
import { formatGoTime, nanosecondsSince, sleep } from './time.ts'

/** A validated generate or chat request, ready to run. */
export interface CompletionJob {
  endpoint: 'generate' | 'chat'
  /** The model string as the request wrote it (echoed in every line). */
  requestModel: string
  model: ResolvedModel
  request: ExpectedRequest
  stream: boolean
  raw: boolean
  keepAliveMs: number | undefined
  /** Directives in effect; `fault` only when it hits this request. */
  directives: Directives
  chunking: Chunking
  thinking: boolean
  tools: boolean
  /** Set for Ollama's OpenAI-compatible `/v1` routes: the reply is written as they write it. */
  openai?: OpenAIWire
}

/** The `context` array: prompt token ids then generated ones, the last `contextLength` of them. */
function contextJson(plan: CompletionPlan, contextLength: number): string {
  const generated = [...plan.thinkingTokens, ...plan.tokens]
  const total = plan.promptEvalCount + generated.length
  const skip = Math.max(0, total - contextLength)
  const ids: number[] = []
  const random = new Random(plan.seed ^ 0x9e3779b9)
  for (let index = skip; index < plan.promptEvalCount; index++) ids.push(random.between(100, 127_999))
  for (let index = Math.max(0, skip - plan.promptEvalCount); index < generated.length; index++) {
    ids.push(1000 + (hashText(generated[index]!.slice(0, 16)) % 127_000))
  }
  return '[' + ids.join(',') + ']'
}

/** Runs a generate/chat request: queue, first-token delay, then the stream (or one aggregated body). */
export async function runCompletion(
  job: CompletionJob,
  exchange: Exchange,
  state: SimulatorState,
): Promise<void> {
  const { counters, queue } = state
  const fault = job.directives.fault
  if (fault?.name === 'flaky-connect') {
    exchange.destroySocket()
    return
  }
  if (fault?.name === 'http-503') {
    counters.rejected503++
    sendError(exchange.response, 503, serverBusyMessage)
    return
  }
  if (fault?.name === 'http-500') {
    sendError(
      exchange.response,
      500,
      runnerStoppedMessage,
      job.stream ? bareJsonContentType : jsonContentType,
    )
    return
  }
  const result = await acquireSlot(queue, counters, exchange.signal)
  if (result === 'queue-full') {
    counters.rejected503++
    sendError(exchange.response, 503, serverBusyMessage)
    return
  }
  if (result === 'aborted') {
    counters.cancelled++
    return
  }
  let outcome: Outcome = 'faulted'
  try {
    state.loaded.touch(job.model, job.keepAliveMs)
    outcome = await generate(job, exchange, state)
  } finally {
    releaseSlot(queue, counters)
    if (job.keepAliveMs === 0) state.loaded.unload(job.model)
  }
  if (outcome === 'cancelled') counters.cancelled++
  else if (outcome === 'completed') counters.completed++
}

async function generate(job: CompletionJob, exchange: Exchange, state: SimulatorState): Promise<Outcome> {
  const { signal } = exchange
  const fault = job.directives.fault
  const slotAt = performance.now()
  await sleep(state.firstTokenDelayMs + (fault?.name === 'slow-start' ? (fault.ms ?? 1000) : 0), signal)
  if (signal.aborted) return 'cancelled'
  const firstAt = performance.now()
  const plan = planCompletion(job.request, { thinking: job.thinking, tools: job.tools }, job.directives)
  const chunkCount = plan.thinkingTokens.length + plan.tokens.length + plan.toolCalls.length
  const reply: CompletionReply = {
    exchange,
    plan,
    format: job.openai
      ? new OpenAIFormat(job.openai, job.requestModel)
      : new LineFormat(job.endpoint, job.requestModel),
    chunking: job.chunking,
    interval: state.tokensPerSecond > 0 ? 1000 / state.tokensPerSecond : 0,
    chunkCount,
    fault,
    faultIndex:
      fault && ['midstream-error', 'drop', 'stall', 'malformed-line'].includes(fault.name)
        ? Math.min(faultAfter(fault), chunkCount)
        : -1,
    firstAt,
    context: job.endpoint === 'generate' && !job.raw ? contextJson(plan, job.model.contextLength) : undefined,
    metrics: () => {
      const endAt = performance.now()
      return {
        totalDuration: nanosecondsSince(exchange.startedAt, endAt),
        loadDuration: nanosecondsSince(exchange.startedAt, slotAt),
        promptEvalCount: plan.promptEvalCount,
        promptEvalDuration: nanosecondsSince(slotAt, firstAt),
        evalCount: chunkCount,
        evalDuration: nanosecondsSince(firstAt, endAt),
      }
    },
  }
  return job.stream ? streamCompletion(reply) : replyWhole(reply)
}

/** The reply of `stream: false`: one body, once the whole answer would have been generated. */
async function replyWhole(reply: CompletionReply): Promise<Outcome> {
  const { exchange, plan, format, fault, context } = reply
  const { response, signal } = exchange
  const pause =
    reply.interval * Math.max(0, reply.chunkCount - 1) + (fault?.name === 'stall' ? (fault.ms ?? 1000) : 0)
  await sleep(pause, signal)
  if (signal.aborted) return 'cancelled'
  if (fault?.name === 'drop') {
    exchange.destroySocket()
    return 'faulted'
  }
  if (fault?.name === 'midstream-error') {
    sendError(response, 500, midstreamErrorMessage)
    return 'faulted'
  }
  const answer = { response: plan.response, thinking: plan.thinking, toolCalls: plan.toolCalls }
  const body = format.whole(formatGoTime(Date.now()), plan.doneReason, context, reply.metrics(), answer)
  if (fault?.name === 'malformed-line') {
    sendJson(response, 200, body.slice(0, Math.max(1, body.length >> 1)), format.wholeContentType)
    return 'faulted'
  }
  sendJson(response, 200, body, format.wholeContentType)
  return 'completed'
}
