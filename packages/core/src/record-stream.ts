import type { BackendCallOptions, BackendRoute } from './backend.ts'
import { PipelineError } from './errors.ts'
import { chunkEvent, recordStartEvent } from './event-builders.ts'
import type { PipelineClient } from './pipeline-options.ts'
import type { PipelineRequest, RecordResult } from './plugin.ts'
import type { PluginDriver } from './plugin-driver.ts'
import { isChatRequest } from './prompt-request.ts'
import { metricsOf } from './record-result.ts'
import type { ChatResponse, GenerateRequest, GenerateResponse } from './types.ts'

/** What one request of a record needs from its job. */
export interface StreamContext {
  readonly client: PipelineClient
  readonly driver: PluginDriver
  readonly jobId: string
  /** Aborted when the job stops: cancels the request. */
  readonly signal: AbortSignal
}

/**
 * One request of a record: its record-start, each piece of text through the chunk sinks as it
 * arrives, then the final counts into `result`. Throws what the backend throws, and
 * `SPOUT_STREAM_INCOMPLETE` when the stream ends without its final object.
 */
export async function streamRecord(
  context: StreamContext,
  request: PipelineRequest,
  result: RecordResult,
): Promise<void> {
  const { driver, jobId } = context
  const recordId = result.id
  result.response = ''
  delete result.thinking
  delete result.tool_calls
  // The call is made first (streams start on the first read): a pool with a free slot routes it
  // at once, so record-start can name the host.
  let route: BackendRoute | undefined
  const options: BackendCallOptions = {
    signal: context.signal,
    retry: false,
    onRoute: (chosen) => {
      route = chosen
      result.backend = chosen.backend
      result.host = chosen.host
    },
  }
  const chat = isChatRequest(request)
  const stream: AsyncIterable<GenerateResponse | ChatResponse> = chat
    ? context.client.chat({ ...request, stream: true }, options)
    : context.client.generate({ ...(request as GenerateRequest), stream: true }, options)
  // Events are built only for plugins that take them: a batch writing files only allocates none.
  if (driver.has('recordStart')) await announceStart(context, result, route as BackendRoute | undefined)
  const sinks = driver.has('writeChunk')
  let seq = 0
  let response = ''
  let thinking = ''
  let toolCalls: unknown[] | undefined
  let final: GenerateResponse | ChatResponse | undefined
  for await (const part of stream) {
    let text: string
    let thought: string | undefined
    if (chat) {
      const message = (part as ChatResponse).message
      text = message?.content ?? ''
      thought = message?.thinking
      if (message?.tool_calls?.length) {
        toolCalls ??= []
        toolCalls.push(...message.tool_calls)
      }
    } else {
      text = (part as GenerateResponse).response ?? ''
      thought = (part as GenerateResponse).thinking
    }
    if (text !== '' || thought) {
      response += text
      if (thought) thinking += thought
      if (sinks) {
        const written = driver.hookParallel('writeChunk', chunkEvent(jobId, recordId, seq, text, thought))
        if (written) await written
      }
      seq += 1
    }
    if (part.done) final = part
  }
  if (!final) {
    throw new PipelineError(
      'SPOUT_STREAM_INCOMPLETE',
      `record ${recordId}: the stream ended without a final object`,
    )
  }
  result.response = response
  if (thinking !== '') result.thinking = thinking
  if (toolCalls) result.tool_calls = toolCalls
  result.done_reason = final.done_reason ?? null
  result.metrics = metricsOf(final)
}

/** The record-start of an attempt, naming the host when the backend routed the call already. */
async function announceStart(
  context: StreamContext,
  result: RecordResult,
  route: BackendRoute | undefined,
): Promise<void> {
  const start = recordStartEvent(context.jobId, result.id, {
    attempt: result.attempts,
    model: result.model,
    host: route?.host,
    slots: route?.slots,
    system: result.system,
    prompt: result.prompt,
    messages: result.messages,
  })
  const started = context.driver.hookParallel('recordStart', start)
  if (started) await started
}
