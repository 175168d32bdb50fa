import { createChunkWriter } from './chunk-writer.ts'
import type { Exchange, SimulatorState } from './exchange.ts'
import { type Chunking, type Directives, faultAfter } from './faults.ts'
import { LineFormat, type Metrics, tokenJson, type WireFormat } from './lines.ts'
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
import { createClock, formatGoTime, nanosecondsSince, sleep } from './time.ts'

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

type Outcome = 'completed' | 'cancelled' | 'faulted'

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
  const { response, signal } = exchange
  const fault = job.directives.fault
  const slotAt = performance.now()
  await sleep(state.firstTokenDelayMs + (fault?.name === 'slow-start' ? (fault.ms ?? 1000) : 0), signal)
  if (signal.aborted) return 'cancelled'
  const firstAt = performance.now()
  const plan = planCompletion(job.request, { thinking: job.thinking, tools: job.tools }, job.directives)
  const format: WireFormat = job.openai
    ? new OpenAIFormat(job.openai, job.requestModel)
    : new LineFormat(job.endpoint, job.requestModel)
  const interval = state.tokensPerSecond > 0 ? 1000 / state.tokensPerSecond : 0
  const chunkCount = plan.thinkingTokens.length + plan.tokens.length + plan.toolCalls.length
  const faultIndex =
    fault && ['midstream-error', 'drop', 'stall', 'malformed-line'].includes(fault.name)
      ? Math.min(faultAfter(fault), chunkCount)
      : -1
  const metrics = (): Metrics => {
    const endAt = performance.now()
    return {
      totalDuration: nanosecondsSince(exchange.startedAt, endAt),
      loadDuration: nanosecondsSince(exchange.startedAt, slotAt),
      promptEvalCount: plan.promptEvalCount,
      promptEvalDuration: nanosecondsSince(slotAt, firstAt),
      evalCount: chunkCount,
      evalDuration: nanosecondsSince(firstAt, endAt),
    }
  }
  const context =
    job.endpoint === 'generate' && !job.raw ? contextJson(plan, job.model.contextLength) : undefined

  if (!job.stream) {
    const pause = interval * Math.max(0, chunkCount - 1) + (fault?.name === 'stall' ? (fault.ms ?? 1000) : 0)
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
    const body = format.whole(formatGoTime(Date.now()), plan.doneReason, context, metrics(), answer)
    if (fault?.name === 'malformed-line') {
      sendJson(response, 200, body.slice(0, Math.max(1, body.length >> 1)), format.wholeContentType)
      return 'faulted'
    }
    sendJson(response, 200, body, format.wholeContentType)
    return 'completed'
  }

  const writer = createChunkWriter(response, job.chunking, plan.seed, signal)
  const clock = createClock()
  const thinkingCount = plan.thinkingTokens.length
  const textEnd = thinkingCount + plan.tokens.length
  let started = false
  // Chunk i is due at paceOrigin + i * interval; a stall moves the schedule instead of causing a burst.
  let paceOrigin = firstAt
  for (let index = 0; index <= chunkCount; index++) {
    if (index === faultIndex) {
      if (!started && (fault!.name === 'midstream-error' || fault!.name === 'drop')) {
        // Nothing written yet: Ollama answers a failure before the first line with a status.
        if (fault!.name === 'drop') exchange.destroySocket()
        else sendError(response, 500, midstreamErrorMessage, bareJsonContentType)
        return 'faulted'
      }
      if (!started) {
        response.writeHead(200, { 'Content-Type': format.contentType })
        started = true
      }
      const flushed = writer.flush()
      if (flushed) await flushed
      if (signal.aborted) return 'cancelled'
      if (fault!.name === 'midstream-error') {
        const wait = writer.write(format.streamError(midstreamErrorMessage))
        if (wait) await wait
        const rest = writer.flush()
        if (rest) await rest
        response.end()
        return 'faulted'
      }
      if (fault!.name === 'drop') {
        // Let the written lines leave (http corks the socket until the next tick), then cut.
        await new Promise<void>((resolve) => setImmediate(resolve))
        exchange.destroySocket()
        return 'faulted'
      }
      if (fault!.name === 'stall') {
        await sleep(fault!.ms ?? 1000, signal)
        if (signal.aborted) return 'cancelled'
        paceOrigin = performance.now() - index * interval
      } else {
        const wait = writer.write(format.malformed(clock()))
        if (wait) await wait
      }
    }
    if (index === chunkCount) break
    if (interval > 0 && index > 0) {
      const flushed = writer.flush()
      if (flushed) await flushed
      await sleep(paceOrigin + index * interval - performance.now(), signal)
    }
    if (signal.aborted) return 'cancelled'
    let line: string
    if (index < thinkingCount) line = format.thinkingChunk(clock(), tokenJson(plan.thinkingTokens[index]!))
    else if (index < textEnd)
      line = format.responseChunk(clock(), tokenJson(plan.tokens[index - thinkingCount]!))
    else line = format.toolCallChunk(clock(), plan.toolCalls)
    if (!started) {
      response.writeHead(200, { 'Content-Type': format.contentType })
      started = true
    }
    const wait = writer.write(line)
    if (wait) {
      await wait
      if (signal.aborted) return 'cancelled'
    }
  }
  if (!started) response.writeHead(200, { 'Content-Type': format.contentType })
  const last = writer.write(format.streamEnd(clock(), plan.doneReason, context, metrics()))
  if (last) await last
  const rest = writer.flush()
  if (rest) await rest
  if (signal.aborted) return 'cancelled'
  response.end()
  return 'completed'
}
