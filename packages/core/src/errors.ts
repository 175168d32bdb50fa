// Every failure a user of @spout/core can hit: one base class, a few subclasses, each with a `code`.
// Messages are one line and say what failed and where.

/**
 * Every error code of Spout, one naming scheme (`SPOUT_*`) across the packages; each is documented in
 * docs/troubleshooting.md. Hub close codes stay numeric, as WebSocket requires (`hubCloseCodes`).
 */
export type SpoutErrorCode =
  // The client and its transport (errors.ts)
  | 'SPOUT_HTTP_ERROR'
  | 'SPOUT_STREAM_ERROR'
  | 'SPOUT_STREAM_INCOMPLETE'
  | 'SPOUT_PARSE_ERROR'
  | 'SPOUT_LINE_TOO_LONG'
  | 'SPOUT_EVENT_TOO_LONG'
  | 'SPOUT_CONNECT_TIMEOUT'
  | 'SPOUT_FIRST_BYTE_TIMEOUT'
  | 'SPOUT_IDLE_TIMEOUT'
  | 'SPOUT_CONNECTION_ERROR'
  | 'SPOUT_INVALID_HOST'
  | 'SPOUT_NO_HOST'
  // The pipeline and its plugins
  | 'SPOUT_PLUGIN_ERROR'
  | 'SPOUT_INVALID_RECORD'
  | 'SPOUT_INVALID_OPTION'
  | 'SPOUT_ABORTED'
  | 'SPOUT_TEMPLATE_FIELD_MISSING'
  | 'SPOUT_FORMAT_ERROR'
  | 'SPOUT_RESUME_CORRUPT'
  // Stages (teacher → student → judge)
  | 'SPOUT_SPLIT_ERROR'
  | 'SPOUT_STAGE_EMPTY'
  /** On a result line: a failure that was not a `SpoutError` (its message is kept). */
  | 'SPOUT_ERROR'
  // @spout/ws-server (`HubError`)
  | 'SPOUT_HUB_INSECURE_BIND'
  | 'SPOUT_HUB_LISTEN'
  | 'SPOUT_HUB_OPTIONS'
  // @spout/redis (`RedisError`)
  | 'SPOUT_REDIS_URL'
  | 'SPOUT_REDIS_CONNECT'
  | 'SPOUT_REDIS_COMMAND'
  | 'SPOUT_QUEUE_REPLACED'
  // @spout/cli (`CliError`, `InputLineError`)
  | 'SPOUT_USAGE'
  | 'SPOUT_INPUT_ERROR'
  // @spout/llama
  | 'SPOUT_MODEL_NOT_FOUND'
  | 'SPOUT_NOT_GGUF'
  | 'SPOUT_UNSUPPORTED_ARCHITECTURE'
  | 'SPOUT_MODEL_LOAD'
  | 'SPOUT_CONTEXT_TOO_SMALL'
  | 'SPOUT_INVALID_FORMAT'

export class SpoutError extends Error {
  override name = 'SpoutError'
  readonly code: SpoutErrorCode

  constructor(code: SpoutErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/** The server's error text from an `error` member: a string, or an object with a `message`. */
export function errorMessageOf(error: unknown): string {
  if (typeof error === 'string') return error
  const message = (error as { message?: unknown } | null)?.message
  return typeof message === 'string' ? message : JSON.stringify(error)
}

function oneLine(text: string, limit = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > limit ? `${flat.slice(0, limit)}…` : flat
}

/** The server answered with an HTTP error status before any data was streamed. */
export class HttpError extends SpoutError {
  override name = 'HttpError'
  readonly status: number
  readonly method: string
  readonly url: string
  /** The server's `error` text, or the raw body text when it was not JSON (e.g. a proxy's HTML page). */
  readonly body: string

  constructor(init: { status: number; method: string; url: string; body: string; statusText?: string }) {
    const detail = init.body.trim() === '' ? (init.statusText ?? '') : oneLine(init.body)
    super(
      'SPOUT_HTTP_ERROR',
      `[${init.method} ${init.url}] ${init.status}${detail === '' ? '' : `: ${detail}`}`,
    )
    this.status = init.status
    this.method = init.method
    this.url = init.url
    this.body = init.body
  }
}

/** The server sent an `{"error": "..."}` line in the middle of a stream. */
export class StreamError extends SpoutError {
  override name = 'StreamError'
  readonly method: string
  readonly url: string
  /** The server's error text. */
  readonly serverMessage: string
  /** The text (`response` / `message.content`) received before the error. */
  readonly received: string
  /** How many objects were received before the error line. */
  readonly chunks: number

  constructor(init: {
    method: string
    url: string
    serverMessage: string
    received: string
    chunks: number
  }) {
    super(
      'SPOUT_STREAM_ERROR',
      `[${init.method} ${init.url}] error after ${init.chunks} chunks: ${oneLine(init.serverMessage)}`,
    )
    this.method = init.method
    this.url = init.url
    this.serverMessage = init.serverMessage
    this.received = init.received
    this.chunks = init.chunks
  }
}

/** The response body ended without a final `done: true` object (or `status: "success"` for pulls). */
export class IncompleteStreamError extends SpoutError {
  override name = 'IncompleteStreamError'
  readonly method: string
  readonly url: string
  readonly received: string
  readonly chunks: number

  constructor(init: {
    method: string
    url: string
    received: string
    chunks: number
    reason?: string
    cause?: unknown
  }) {
    super(
      'SPOUT_STREAM_INCOMPLETE',
      `[${init.method} ${init.url}] stream ended after ${init.chunks} chunks without a final done object` +
        (init.reason ? ` (${init.reason})` : ''),
      { cause: init.cause },
    )
    this.method = init.method
    this.url = init.url
    this.received = init.received
    this.chunks = init.chunks
  }
}

/**
 * A line or event that is not JSON (`SPOUT_PARSE_ERROR`), an NDJSON line longer than the limit
 * (`SPOUT_LINE_TOO_LONG`), or an SSE event larger than the limit (`SPOUT_EVENT_TOO_LONG`).
 */
export class ParseError extends SpoutError {
  override name = 'ParseError'
  /** 1-based line number. */
  readonly line: number
  /** Byte offset of the start of the line in the whole stream. */
  readonly offset: number
  /** Where the bytes came from (a URL), when known. */
  readonly source: string | undefined

  constructor(init: {
    code: 'SPOUT_PARSE_ERROR' | 'SPOUT_LINE_TOO_LONG' | 'SPOUT_EVENT_TOO_LONG'
    message: string
    line: number
    offset: number
    source?: string
    cause?: unknown
  }) {
    const where = `line ${init.line} (byte ${init.offset})${init.source ? ` of ${init.source}` : ''}`
    super(init.code, `${init.message} at ${where}`, { cause: init.cause })
    this.line = init.line
    this.offset = init.offset
    this.source = init.source
  }
}

export type TimeoutPhase = 'connect' | 'first-byte' | 'idle'

const timeoutCodes = {
  connect: 'SPOUT_CONNECT_TIMEOUT',
  'first-byte': 'SPOUT_FIRST_BYTE_TIMEOUT',
  idle: 'SPOUT_IDLE_TIMEOUT',
} as const satisfies Record<TimeoutPhase, SpoutErrorCode>

const timeoutWhat = {
  connect: 'no connection within',
  'first-byte': 'no response within',
  idle: 'no data for',
} as const satisfies Record<TimeoutPhase, string>

const timeoutOption = {
  connect: 'timeouts.connect',
  'first-byte': 'timeouts.firstByte',
  idle: 'timeouts.idle',
} as const satisfies Record<TimeoutPhase, string>

/** One of the three client timeouts fired. */
export class TimeoutError extends SpoutError {
  override name = 'TimeoutError'
  readonly phase: TimeoutPhase
  /** The timeout that fired, in milliseconds. */
  readonly timeout: number
  readonly method: string
  readonly url: string

  constructor(init: { phase: TimeoutPhase; timeout: number; method: string; url: string }) {
    super(
      timeoutCodes[init.phase],
      `[${init.method} ${init.url}] ${timeoutWhat[init.phase]} ${init.timeout} ms (${timeoutOption[init.phase]})`,
    )
    this.phase = init.phase
    this.timeout = init.timeout
    this.method = init.method
    this.url = init.url
  }
}

/** The server (Ollama, or an OpenAI-compatible one) could not be reached (refused, reset, unknown host, closed before answering). */
export class ConnectionError extends SpoutError {
  override name = 'ConnectionError'
  /** The base URL of the Ollama server. */
  readonly host: string
  readonly method: string
  readonly url: string
  /** Short reason, e.g. `connection refused`. */
  readonly reason: string
  /** How many attempts were made (retries included). */
  readonly attempts: number
  /** True when the server took the connection and then dropped it before a response. */
  readonly connected: boolean

  constructor(init: {
    host: string
    method: string
    url: string
    reason: string
    attempts: number
    connected?: boolean
    /** What the message calls the server. Default `Ollama`. */
    server?: string
    cause?: unknown
  }) {
    super(
      'SPOUT_CONNECTION_ERROR',
      `${init.connected ? 'lost the connection to' : 'cannot reach'} ${init.server ?? 'Ollama'} at ${init.host}: ${init.reason}` +
        (init.attempts > 1 ? ` (${init.attempts} attempts)` : ''),
      { cause: init.cause },
    )
    this.host = init.host
    this.method = init.method
    this.url = init.url
    this.reason = init.reason
    this.connected = init.connected ?? false
    this.attempts = init.attempts
  }
}

/** An Ollama host (`host` option, `--host`, `OLLAMA_HOST`) that is not an http(s) address. */
export class HostError extends SpoutError {
  override name = 'HostError'
  /** The host as given. */
  readonly host: string

  constructor(init: { host: string; reason: string }) {
    super('SPOUT_INVALID_HOST', `not a valid Ollama host ${JSON.stringify(init.host)}: ${init.reason}`)
    this.host = init.host
  }
}

/** A plugin hook threw. Created by the pipeline's plugin driver. */
export class PluginError extends SpoutError {
  override name = 'PluginError'
  readonly plugin: string
  readonly hook: string

  constructor(init: { plugin: string; hook: string; cause: unknown }) {
    const causeMessage = init.cause instanceof Error ? init.cause.message : String(init.cause)
    super('SPOUT_PLUGIN_ERROR', `[plugin ${init.plugin}] ${init.hook}: ${causeMessage}`, {
      cause: init.cause,
    })
    this.plugin = init.plugin
    this.hook = init.hook
  }
}

// The errors of the pipeline, its plugins and backends.

/**
 * One record that cannot run, as a hook judged it (the CLI's malformed input line): thrown from a
 * hook, it fails that record alone with its own `code` and message. The plugin driver passes it
 * through as it is (it is not a `PluginError`), and the pipeline never retries it.
 */
export class RecordError extends SpoutError {
  override name = 'RecordError'
}

/** A record the pipeline cannot send (code `SPOUT_INVALID_RECORD`), or a job stopped (code `SPOUT_ABORTED`). */
export class PipelineError extends SpoutError {
  override name = 'PipelineError'
}

/** A template field the record does not have (code `SPOUT_TEMPLATE_FIELD_MISSING`). */
export class TemplateFieldError extends SpoutError {
  override name = 'TemplateFieldError'
  /** The dotted path, e.g. `a.b`. */
  readonly field: string

  constructor(field: string) {
    super('SPOUT_TEMPLATE_FIELD_MISSING', `the record has no field '${field}' (used as {{${field}}})`)
    this.field = field
  }
}

/** Why a structured response was refused. */
export type FormatFailure =
  /** The text is not JSON. */
  | 'invalid-json'
  /** The JSON does not match the schema. */
  | 'schema'
  /** The model stopped at its token limit (`done_reason: "length"`): the JSON was cut off. */
  | 'length'

/**
 * A response that `format` asked to be JSON (or to match a schema) and that is not (code
 * `SPOUT_FORMAT_ERROR`). The pipeline retries such a record up to `formatRetries` times, then
 * writes it as failed: never as a success.
 */
export class FormatError extends SpoutError {
  override name = 'FormatError'
  readonly failure: FormatFailure
  /** The record's id. */
  readonly recordId: string
  /** JSON pointer of the first schema error (`/answer/score`; `''` for the root), for `schema` failures. */
  readonly path: string | undefined

  constructor(init: { failure: FormatFailure; recordId: string; detail: string; path?: string }) {
    super('SPOUT_FORMAT_ERROR', `record ${init.recordId}: ${init.detail}`)
    this.failure = init.failure
    this.recordId = init.recordId
    this.path = init.path
  }
}

/** An output file that cannot be resumed from (code `SPOUT_RESUME_CORRUPT`). */
export class ResumeError extends SpoutError {
  override name = 'ResumeError'
  readonly path: string
  /** 1-based line number. */
  readonly line: number

  constructor(path: string, line: number, reason: string) {
    super('SPOUT_RESUME_CORRUPT', `${path}:${line}: ${reason}`)
    this.path = path
    this.line = line
  }
}

/** A pool that cannot serve (code `SPOUT_NO_HOST`: no host has the model, or no host given). */
export class HostPoolError extends SpoutError {
  override name = 'HostPoolError'
  /** The hosts asked. */
  readonly hosts: readonly string[]

  constructor(message: string, hosts: readonly string[]) {
    super('SPOUT_NO_HOST', message)
    this.hosts = hosts
  }
}

/**
 * A staged run that cannot go on with a record, or a stage definition that cannot run. Codes:
 * `SPOUT_SPLIT_ERROR` (a stage's response cannot be split into records), `SPOUT_STAGE_EMPTY` (a stage
 * answered with nothing, and a later stage would get an empty prompt), `SPOUT_INVALID_OPTION` (a bad
 * stage definition). The message names the stage.
 */
export class StageError extends SpoutError {
  override name = 'StageError'
  readonly stage: string

  constructor(code: SpoutErrorCode, stage: string, message: string, options?: { cause?: unknown }) {
    super(code, `stage ${stage}: ${message}`, options)
    this.stage = stage
  }
}
