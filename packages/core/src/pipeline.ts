import { randomBytes } from 'node:crypto'
import type { Backend, BackendCallOptions, BackendRoute } from './backend.ts'
import { sleep } from './backoff.ts'
import { ConcurrencyLimit, type Permit } from './concurrency-limit.ts'
import { type FormatError, HttpError, PipelineError, PluginError, SpoutError } from './errors.ts'
import type {
  ChunkEvent,
  EventError,
  EventMessage,
  JobStartEvent,
  JobSummary,
  RecordMetrics,
  RecordStartEvent,
} from './events.ts'
import { FormatChecker } from './format-check.ts'
import type {
  InputRecord,
  PipelineRequest,
  PluginJob,
  PluginLogger,
  PluginOption,
  RecordResult,
} from './plugin.ts'
import { PluginDriver } from './plugin-driver.ts'
import { effectiveSystem, isChatRequest } from './prompt-request.ts'
import { type ModelDigest, recordProvenance } from './provenance.ts'
import { classifyFailure, type RetryDelay, recordRetryDelay } from './record-retry.ts'
import type { ChatRequest, ChatResponse, GenerateRequest, GenerateResponse } from './types.ts'

/** What the pipeline needs of a client: the `Backend` seam (`OllamaClient`, `OpenAIClient`, a pool). */
export type PipelineClient = Backend

/** Request fields every record starts from (the model comes from `model`). */
export type RequestDefaults = Omit<Partial<GenerateRequest> & Partial<ChatRequest>, 'model' | 'stream'>

export interface PipelineOptions {
  client: PipelineClient
  /** The default model of every request (a prompt builder may change it per record). */
  model: string
  /** Default request fields: `system`, `options`, `format`, `think`, `keep_alive`, … */
  request?: RequestDefaults
  /** The records, pulled one at a time, only when a slot is free. */
  input: AsyncIterable<InputRecord> | Iterable<InputRecord>
  plugins?: PluginOption
  /**
   * Records in flight at most. Default 1 (Ollama's default `OLLAMA_NUM_PARALLEL`). Ignored when the
   * client reports its `capacity` (a `HostPool`): then the pipeline keeps `capacity.slots` in flight.
   */
  concurrency?: number
  /** Retries of a record after a transient failure (connection lost, 5xx, timeout). Default 2. */
  retries?: number
  /** Extra tries of a record the server turned away as busy (503): back-pressure, not failure. Default 10. */
  busyRetries?: number
  /** Extra tries of a record whose response fails its `format` (not JSON, schema mismatch, cut off). Default 2. */
  formatRetries?: number
  /** The model's digest for each line's provenance (`digestTable(await client.list())`). Default: none. */
  modelDigest?: ModelDigest
  /** Backoff between tries. Default `{ base: 500, max: 30_000 }` ms. */
  retryDelay?: RetryDelay
  /** The record field that holds its id. Default `id`; without it, a record's id is its 1-based position. */
  idField?: string
  /** Force an endpoint. Default: `chat` for records with `messages`, `generate` otherwise. A forced `chat` sends a record's `prompt` as a user message. */
  endpoint?: 'generate' | 'chat'
  /** Ids already done (resume): reported as skipped, no request. */
  skip?: ReadonlySet<string>
  /** Job name shown in events. Default `spout`. */
  name?: string
  /** Default: a random id. */
  jobId?: string
  /** Number of records, when known (shown as progress). Default: the length of an array input. */
  total?: number
  /** Stops taking records, cancels requests in flight; the job ends `interrupted`. */
  signal?: AbortSignal
  /** Where plugins' `context.logger` messages go. Default: nowhere. */
  logger?: PluginLogger
}

const silentLogger: PluginLogger = { info() {}, warn() {} }

/**
 * Runs a batch: every record becomes a request through the prompt builders, every token streams
 * through the chunk sinks as it arrives, every record read ends in exactly one `recordEnd`.
 * Resolves to the job summary; never rejects for a record's or a plugin's failure (see
 * `summary.error`).
 */
export async function runPipeline(options: PipelineOptions): Promise<JobSummary> {
  return new PipelineRun(options).run()
}

class PipelineRun {
  readonly #options: PipelineOptions
  readonly #started = performance.now()
  readonly #controller = new AbortController()
  readonly #summary: JobSummary = { ok: 0, failed: 0, skipped: 0, tokens: 0, duration: 0 }
  readonly #job: PluginJob
  /** Back-pressure of a single host; a client with `capacity` handles its own. */
  readonly #limit: ConcurrencyLimit | undefined
  readonly #concurrency: number
  readonly #retries: number
  readonly #busyRetries: number
  readonly #formatRetries: number
  readonly #formats = new FormatChecker()
  readonly #idField: string
  #driver: PluginDriver | undefined
  /** Why the job stopped early: an abort (`SPOUT_ABORTED`) or the job's own failure. */
  #stop: EventError | undefined
  #jobFailed = false
  #inFlight = 0
  #slotFreed: (() => void) | undefined

  constructor(options: PipelineOptions) {
    this.#options = options
    this.#concurrency = positiveInteger(options.concurrency ?? 1, 'concurrency')
    this.#retries = nonNegativeInteger(options.retries ?? 2, 'retries')
    this.#busyRetries = nonNegativeInteger(options.busyRetries ?? 10, 'busyRetries')
    this.#formatRetries = nonNegativeInteger(options.formatRetries ?? 2, 'formatRetries')
    this.#idField = options.idField ?? 'id'
    this.#limit = options.client.capacity ? undefined : new ConcurrencyLimit(this.#concurrency)
    this.#job = {
      jobId: options.jobId ?? `job-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
      name: options.name ?? 'spout',
      model: options.model,
      host: options.client.host,
    }
  }

  async run(): Promise<JobSummary> {
    const signal = this.#options.signal
    // A client with a capacity (a pool) may grow or shrink it: read more records when it grows.
    const unsubscribe = this.#options.client.capacity?.subscribe(() => this.#wakeReader())
    const onAbort = () =>
      this.#halt({ code: 'SPOUT_ABORTED', message: `job interrupted: ${reasonText(signal?.reason)}` })
    if (signal?.aborted) onAbort()
    else signal?.addEventListener('abort', onAbort, { once: true })
    try {
      try {
        const logger = this.#options.logger ?? silentLogger
        this.#driver = new PluginDriver(this.#options.plugins, (plugin) => ({
          signal: this.#controller.signal,
          job: this.#job,
          logger: {
            info: (message) => logger.info(`[plugin ${plugin.name}] ${message}`),
            warn: (message) => logger.warn(`[plugin ${plugin.name}] ${message}`),
          },
        }))
        this.#formats.prepare(this.#options.request?.format)
      } catch (error) {
        this.#failJob(error)
        return this.#finish()
      }
      const total =
        this.#options.total ?? (Array.isArray(this.#options.input) ? this.#options.input.length : undefined)
      const jobStart: JobStartEvent = {
        type: 'job-start',
        jobId: this.#job.jobId,
        name: this.#job.name,
        model: this.#job.model,
        host: this.#job.host,
        startedAt: new Date().toISOString(),
      }
      if (total !== undefined) jobStart.total = total
      try {
        await this.#driver.hookParallel('jobStart', jobStart)
      } catch (error) {
        this.#failJob(error)
      }
      if (!this.#stop) await this.#readInput()
      const summary = this.#finish()
      try {
        await this.#driver.hookParallel('jobEnd', summary)
      } catch (error) {
        summary.error ??= toEventError(error)
      }
      return summary
    } finally {
      signal?.removeEventListener('abort', onAbort)
      unsubscribe?.()
      this.#limit?.close(this.#stop ?? new PipelineError('SPOUT_ABORTED', 'job ended'))
    }
  }

  #finish(): JobSummary {
    const summary = this.#summary
    summary.duration = Math.round(performance.now() - this.#started)
    if (this.#stop && !this.#jobFailed) summary.interrupted = true
    const hosts = this.#options.client.capacity?.report?.()
    if (hosts) summary.hosts = hosts
    if (this.#jobFailed && this.#stop) summary.error = this.#stop
    return summary
  }

  /** Stops taking records and cancels requests in flight. The first reason wins. */
  #halt(reason: EventError): void {
    if (this.#stop) return
    this.#stop = reason
    this.#controller.abort(reason)
    this.#limit?.close(reason)
  }

  #failJob(error: unknown): void {
    if (this.#stop) return
    this.#jobFailed = true
    this.#halt(toEventError(error))
  }

  async #readInput(): Promise<void> {
    const input = this.#options.input
    const iterator: AsyncIterator<InputRecord> | Iterator<InputRecord> =
      Symbol.asyncIterator in input ? input[Symbol.asyncIterator]() : input[Symbol.iterator]()
    // Records in flight are counted (#inFlight), not kept in a collection: nothing long-lived points
    // at them.
    let bug: { error: unknown } | undefined
    let position = 0
    let exhausted = false
    try {
      while (!this.#stop) {
        while (this.#inFlight >= this.#slots()) await this.#slotFreedOnce()
        if (this.#stop) break
        let next: IteratorResult<InputRecord>
        try {
          next = await iterator.next()
        } catch (error) {
          exhausted = true
          this.#failJob(error)
          break
        }
        if (next.done) {
          exhausted = true
          break
        }
        position += 1
        const record = next.value
        const id = recordId(record, this.#idField, position)
        if (this.#options.skip?.has(id)) {
          await this.#skipRecord(id, record)
          continue
        }
        this.#inFlight += 1
        const settled = () => {
          this.#inFlight -= 1
          this.#wakeReader()
        }
        // #processRecord never rejects; should a bug make it, the job fails with that error.
        this.#processRecord(id, record).then(settled, (error: unknown) => {
          bug ??= { error }
          settled()
        })
      }
    } finally {
      while (this.#inFlight > 0) await this.#slotFreedOnce()
      if (!exhausted) {
        try {
          await iterator.return?.()
        } catch {
          // The input's own cleanup failing does not change the outcome of the records.
        }
      }
    }
    const failure = bug as { error: unknown } | undefined
    if (failure) throw failure.error
  }

  /** Records in flight at most now: the client's capacity when it has one, else `concurrency`. */
  #slots(): number {
    const capacity = this.#options.client.capacity
    return capacity ? Math.max(1, capacity.slots) : this.#concurrency
  }

  #wakeReader(): void {
    const wake = this.#slotFreed
    this.#slotFreed = undefined
    wake?.()
  }

  /** Resolves when the next record in flight ends (or the client's capacity changes). */
  #slotFreedOnce(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#slotFreed = resolve
    })
  }

  async #skipRecord(id: string, record: InputRecord): Promise<void> {
    const now = new Date().toISOString()
    const result: RecordResult = { ...this.#blankResult(id, record, now), ended_at: now, skipped: true }
    this.#summary.skipped += 1
    await this.#recordEnd(result)
  }

  /** A result before anything happened: no attempt, no text, not ended yet. */
  #blankResult(id: string, record: InputRecord, startedAt: string): RecordResult {
    return {
      id,
      input: record,
      model: this.#options.model,
      backend: this.#options.client.kind,
      system: null,
      response: '',
      done_reason: null,
      metrics: {},
      attempts: 0,
      started_at: startedAt,
      ended_at: '',
    }
  }

  /** One record, start to end. Never rejects: whatever happens ends in `recordEnd`. */
  async #processRecord(id: string, record: InputRecord): Promise<void> {
    const result = this.#blankResult(id, record, new Date().toISOString())
    try {
      if (this.#stop) throw this.#stop
      const request = await this.#buildRequest(id, record)
      result.model = request.model
      result.system = effectiveSystem(request)
      if (isChatRequest(request)) result.messages = (request.messages ?? []) as EventMessage[]
      else result.prompt = (request as GenerateRequest).prompt ?? ''
      recordProvenance(result, request, this.#options.modelDigest)
      await this.#attempts(request, result)
      this.#summary.ok += 1
      this.#summary.tokens += result.metrics.eval_count ?? 0
    } catch (error) {
      result.error = this.#stop && this.#isStopError(error) ? this.#stop : toEventError(error)
      this.#summary.failed += 1
    }
    result.ended_at = new Date().toISOString()
    await this.#recordEnd(ordered(result))
  }

  /** True for the rejections a stop causes: the abort reason itself, or an `AbortError`. */
  #isStopError(error: unknown): boolean {
    return (
      error === this.#stop ||
      error === this.#controller.signal.reason ||
      (error as Error)?.name === 'AbortError'
    )
  }

  async #recordEnd(result: RecordResult): Promise<void> {
    try {
      await this.#driver!.hookParallel('recordEnd', result)
    } catch (error) {
      // The record may not have reached the output: stop, so that a resume redoes it.
      this.#failJob(error)
    }
  }

  async #buildRequest(id: string, record: InputRecord): Promise<PipelineRequest> {
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new PipelineError('SPOUT_INVALID_RECORD', `record ${id}: not an object`)
    }
    const defaults = this.#options.request ?? {}
    const chat = this.#options.endpoint ? this.#options.endpoint === 'chat' : Array.isArray(record.messages)
    let request: PipelineRequest
    if (chat) {
      const { system, prompt: _prompt, ...rest } = defaults
      const messages: EventMessage[] = Array.isArray(record.messages)
        ? [...(record.messages as EventMessage[])]
        : typeof record.prompt === 'string'
          ? [{ role: 'user', content: record.prompt }]
          : []
      const systemText = typeof record.system === 'string' ? record.system : system
      if (typeof systemText === 'string' && messages[0]?.role !== 'system') {
        messages.unshift({ role: 'system', content: systemText })
      }
      request = { ...rest, model: this.#options.model, messages } as ChatRequest
    } else {
      const { messages: _messages, tools: _tools, ...rest } = defaults
      const generate = { ...rest, model: this.#options.model } as GenerateRequest
      if (typeof record.prompt === 'string') generate.prompt = record.prompt
      if (typeof record.system === 'string') generate.system = record.system
      request = generate
    }
    if (this.#driver!.has('buildPrompt'))
      request = await this.#driver!.hookReduceArg0('buildPrompt', request, record)
    if (typeof request.model !== 'string' || request.model === '') {
      throw new PipelineError('SPOUT_INVALID_RECORD', `record ${id}: the request has no model`)
    }
    if (isChatRequest(request)) {
      if (request.messages?.length === 0) {
        throw new PipelineError('SPOUT_INVALID_RECORD', `record ${id}: no messages to send`)
      }
    } else if (typeof (request as GenerateRequest).prompt !== 'string') {
      throw new PipelineError(
        'SPOUT_INVALID_RECORD',
        `record ${id}: no prompt (give records a \`prompt\` or \`messages\` field, or use a prompt builder such as templatePrompt)`,
      )
    }
    return request
  }

  /** Tries the record until it succeeds, fails for good, or the job stops. */
  async #attempts(request: PipelineRequest, result: RecordResult): Promise<void> {
    const signal = this.#controller.signal
    let failures = 0
    let busy = 0
    let refused = 0
    let refusal: FormatError | undefined
    for (;;) {
      const permit: Permit | undefined = await this.#limit?.acquire()
      result.attempts += 1
      let outcome: 'ok' | 'busy' | 'error' = 'error'
      try {
        await this.#attempt(request, result)
        outcome = 'ok'
        // A response its `format` refuses is asked for again at once: the server did its part.
        refusal = this.#refusal(request, result)
        if (!refusal) return
        refused += 1
        if (refused > this.#formatRetries) throw refusal
        continue
      } catch (error) {
        if (error === refusal) throw error
        if (this.#stop || error instanceof PluginError) throw error
        const kind = classifyFailure(error)
        if (kind === 'busy') {
          outcome = 'busy'
          busy += 1
          if (busy > this.#busyRetries) throw error
        } else if (kind === 'retry') {
          failures += 1
          if (failures > this.#retries) throw error
        } else {
          if (isModelNotFound(error) && request.model === this.#options.model) this.#failJob(error)
          throw error
        }
      } finally {
        if (permit) this.#limit!.release(permit, outcome)
      }
      await sleep(recordRetryDelay(failures + busy, this.#options.retryDelay), signal)
    }
  }

  /**
   * Why the response's `format` refuses it, if it does. Without a `format` nothing is checked; an
   * accepted response's JSON goes to `result.parsed`.
   */
  #refusal(request: PipelineRequest, result: RecordResult): FormatError | undefined {
    delete result.parsed
    if (!FormatChecker.applies(request.format)) return undefined
    const outcome = this.#formats.check(request.format, result.response, result.done_reason, result.id)
    if (!outcome.ok) return outcome.error
    result.parsed = outcome.parsed
    return undefined
  }

  /** One request: record-start, the chunks, the final counts into `result`. */
  async #attempt(request: PipelineRequest, result: RecordResult): Promise<void> {
    const driver = this.#driver!
    const jobId = this.#job.jobId
    const recordId = result.id
    result.response = ''
    delete result.thinking
    delete result.tool_calls
    // The call is made first (streams start on the first read): a pool with a free slot routes it
    // at once, so record-start can name the host.
    let route: BackendRoute | undefined
    const options: BackendCallOptions = {
      signal: this.#controller.signal,
      retry: false,
      onRoute: (chosen) => {
        route = chosen
        result.backend = chosen.backend
        result.host = chosen.host
      },
    }
    const chat = isChatRequest(request)
    const stream: AsyncIterable<GenerateResponse | ChatResponse> = chat
      ? this.#options.client.chat({ ...request, stream: true }, options)
      : this.#options.client.generate({ ...(request as GenerateRequest), stream: true }, options)
    // Events are built only for plugins that take them: a batch writing files only allocates none.
    if (driver.has('recordStart')) {
      const start: RecordStartEvent = {
        type: 'record-start',
        jobId,
        recordId,
        attempt: result.attempts,
        model: result.model,
      }
      if (route) {
        const { host, slots } = route as BackendRoute
        start.host = host
        if (slots !== undefined) start.slots = slots
      }
      if (result.system !== null) start.system = result.system
      if (result.prompt !== undefined) start.prompt = result.prompt
      if (result.messages !== undefined) start.messages = result.messages
      const started = driver.hookParallel('recordStart', start)
      if (started) await started
    }
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
          const chunk: ChunkEvent = { type: 'chunk', jobId, recordId, seq, text }
          if (thought) chunk.thinking = thought
          const written = driver.hookParallel('writeChunk', chunk)
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
}

/** The result with its fields in the documented order (the order of the JSON line). */
function ordered(result: RecordResult): RecordResult {
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

function metricsOf(final: GenerateResponse | ChatResponse): RecordMetrics {
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

/** A record's id: its `idField` value as a string, else its 1-based position in the input. */
export function recordId(record: InputRecord, idField: string, position: number): string {
  const value = typeof record === 'object' && record !== null ? record[idField] : undefined
  if (value === undefined || value === null || value === '') return String(position)
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}

function isModelNotFound(error: unknown): boolean {
  return error instanceof HttpError && error.status === 404
}

/** An error as plain JSON for events and result lines. */
export function toEventError(error: unknown): EventError {
  if (error instanceof SpoutError) return { code: error.code, message: error.message }
  if (isEventError(error)) return { code: error.code, message: error.message }
  if (error instanceof Error) {
    if (error.name === 'AbortError') return { code: 'SPOUT_ABORTED', message: error.message }
    const code = (error as { code?: unknown }).code
    return { code: typeof code === 'string' ? code : 'SPOUT_ERROR', message: error.message }
  }
  return { code: 'SPOUT_ERROR', message: String(error) }
}

function isEventError(value: unknown): value is EventError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as EventError).code === 'string' &&
    typeof (value as EventError).message === 'string'
  )
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message
  return reason === undefined ? 'aborted' : String(reason)
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new PipelineError('SPOUT_INVALID_OPTION', `${name} must be a positive integer, not ${value}`)
  }
  return value
}

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new PipelineError('SPOUT_INVALID_OPTION', `${name} must be a whole number ≥ 0, not ${value}`)
  }
  return value
}
