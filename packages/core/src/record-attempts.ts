import { sleep } from './backoff.ts'
import type { ConcurrencyLimit, Permit } from './concurrency-limit.ts'
import { type FormatError, HttpError, PluginError, RecordError } from './errors.ts'
import { FormatChecker } from './format-check.ts'
import type { AttemptPolicy } from './pipeline-options.ts'
import type { PipelineRequest, RecordResult } from './plugin.ts'
import { classifyFailure, recordRetryDelay } from './record-retry.ts'
import { type StreamContext, streamRecord } from './record-stream.ts'

/** What the tries of one record need from their job. */
export interface AttemptContext extends StreamContext {
  readonly policy: AttemptPolicy
  /** Back-pressure of a single host; absent when the client limits itself (a pool). */
  readonly limit: ConcurrencyLimit | undefined
  readonly formats: FormatChecker
  /** True once the job is stopping: no more tries. */
  stopped(): boolean
  /** Fails the whole job (a model the server does not have). */
  failJob(error: unknown): void
}

/**
 * Tries the record until it succeeds, fails for good, or the job stops: transient failures are
 * retried with backoff, a busy server (503) is waited for, a response its `format` refuses is asked
 * for again at once. Throws the error that ended the record.
 */
export async function attemptRecord(
  context: AttemptContext,
  request: PipelineRequest,
  result: RecordResult,
): Promise<void> {
  const { policy, limit } = context
  let failures = 0
  let busy = 0
  let refused = 0
  let refusal: FormatError | undefined
  for (;;) {
    const permit: Permit | undefined = await limit?.acquire()
    result.attempts += 1
    let outcome: 'ok' | 'busy' | 'error' = 'error'
    try {
      await streamRecord(context, request, result)
      outcome = 'ok'
      // A response its `format` refuses is asked for again at once: the server did its part.
      refusal = formatRefusal(context.formats, request, result)
      if (!refusal) return
      refused += 1
      if (refused > policy.formatRetries) throw refusal
      continue
    } catch (error) {
      if (error === refusal) throw error
      if (context.stopped() || error instanceof PluginError || error instanceof RecordError) throw error
      const kind = classifyFailure(error)
      if (kind === 'busy') {
        outcome = 'busy'
        busy += 1
        if (busy > policy.busyRetries) throw error
      } else if (kind === 'retry') {
        failures += 1
        if (failures > policy.retries) throw error
      } else {
        if (isModelNotFound(error) && request.model === policy.model) context.failJob(error)
        throw error
      }
    } finally {
      if (permit) limit!.release(permit, outcome)
    }
    await sleep(recordRetryDelay(failures + busy, policy.retryDelay), context.signal)
  }
}

/**
 * Why the response's `format` refuses it, if it does. Without a `format` nothing is checked; an
 * accepted response's JSON goes to `result.parsed`.
 */
function formatRefusal(
  formats: FormatChecker,
  request: PipelineRequest,
  result: RecordResult,
): FormatError | undefined {
  delete result.parsed
  if (!FormatChecker.applies(request.format)) return undefined
  const outcome = formats.check(request.format, result.response, result.done_reason, result.id)
  if (!outcome.ok) return outcome.error
  result.parsed = outcome.parsed
  return undefined
}

function isModelNotFound(error: unknown): boolean {
  return error instanceof HttpError && error.status === 404
}
