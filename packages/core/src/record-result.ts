import type { BackendKind } from './backend.ts'
import type { EventMessage, RecordMetrics } from './events.ts'
import type { InputRecord, PipelineRequest, RecordResult } from './plugin.ts'
import { effectiveSystem, isChatRequest } from './prompt-request.ts'
import { type ModelDigest, recordProvenance } from './provenance.ts'
import type { ChatResponse, GenerateRequest, GenerateResponse } from './types.ts'

/** A result before anything happened: no attempt, no text, not ended yet. */
export function blankResult(
  id: string,
  record: InputRecord,
  model: string,
  backend: BackendKind,
  startedAt: string,
): RecordResult {
  return {
    id,
    input: record,
    model,
    backend,
    system: null,
    response: '',
    done_reason: null,
    metrics: {},
    attempts: 0,
    started_at: startedAt,
    ended_at: '',
  }
}

/** What the result says was sent: the model, the system prompt, the prompt or messages, provenance. */
export function describeRequest(
  result: RecordResult,
  request: PipelineRequest,
  modelDigest: ModelDigest | undefined,
): void {
  result.model = request.model
  result.system = effectiveSystem(request)
  if (isChatRequest(request)) result.messages = (request.messages ?? []) as EventMessage[]
  else result.prompt = (request as GenerateRequest).prompt ?? ''
  recordProvenance(result, request, modelDigest)
}

/** The result with its fields in the documented order (the order of the JSON line). */
export function orderedResult(result: RecordResult): RecordResult {
  const line: RecordResult = {
    id: result.id,
    input: result.input,
    model: result.model,
    backend: result.backend,
  } as RecordResult
  if (result.host !== undefined) line.host = result.host
  line.system = result.system
  if (result.prompt !== undefined) line.prompt = result.prompt
  if (result.messages !== undefined) line.messages = result.messages
  line.response = result.response
  if (result.parsed !== undefined) line.parsed = result.parsed
  if (result.thinking !== undefined) line.thinking = result.thinking
  if (result.tool_calls !== undefined) line.tool_calls = result.tool_calls
  line.done_reason = result.done_reason
  line.metrics = result.metrics
  line.attempts = result.attempts
  if (result.options !== undefined) line.options = result.options
  if (result.format !== undefined) line.format = result.format
  if (result.model_digest !== undefined) line.model_digest = result.model_digest
  line.started_at = result.started_at
  line.ended_at = result.ended_at
  if (result.error !== undefined) line.error = result.error
  return line
}

/** The counts of a stream's final object, with tokens per second when they can be computed. */
export function metricsOf(final: GenerateResponse | ChatResponse): RecordMetrics {
  const metrics: RecordMetrics = {}
  if (final.total_duration !== undefined) metrics.total_duration = final.total_duration
  if (final.load_duration !== undefined) metrics.load_duration = final.load_duration
  if (final.prompt_eval_count !== undefined) metrics.prompt_eval_count = final.prompt_eval_count
  if (final.prompt_eval_duration !== undefined) metrics.prompt_eval_duration = final.prompt_eval_duration
  if (final.eval_count !== undefined) metrics.eval_count = final.eval_count
  if (final.eval_duration !== undefined) metrics.eval_duration = final.eval_duration
  if (metrics.eval_count !== undefined && metrics.eval_duration) {
    metrics.tokens_per_second = Math.round((metrics.eval_count / metrics.eval_duration) * 1e9 * 100) / 100
  }
  return metrics
}
