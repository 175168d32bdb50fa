import { CliError, type ExitCode, exitCodes } from './cli-error.ts'
import { firstLine } from './config.ts'

export interface ErrorContext {
  host?: string
  model?: string
  /** `openai` for an OpenAI-compatible server: the lines name it, not Ollama. */
  api?: string
}

export interface DescribedError {
  /** One line, without the `spout: ` prefix. */
  message: string
  exitCode: ExitCode
}

const unreachableCodes = new Set(['SPOUT_CONNECTION_ERROR', 'SPOUT_CONNECT_TIMEOUT'])

/** The Ollama-is-not-there line: the URL and the fix. */
export function unreachableMessage(host: string, reason?: string, api = 'ollama'): string {
  if (api === 'openai') {
    return (
      `cannot reach the OpenAI-compatible server at ${host}${reason ? ` (${reason})` : ''}: ` +
      'start it, or point --host / OPENAI_BASE_URL at a running server'
    )
  }
  return (
    `cannot reach Ollama at ${host}${reason ? ` (${reason})` : ''}: ` +
    'start it with `ollama serve`, or point --host / OLLAMA_HOST at a running server'
  )
}

/** The model-is-missing line, with the command that fixes it. */
export function missingModelMessage(model: string, host: string, api = 'ollama'): string {
  if (api === 'openai')
    return `model '${model}' not found at ${host}: \`spout models --api openai\` lists what it serves`
  return `model '${model}' not found at ${host}: download it with \`spout pull ${model}\``
}

/**
 * True when a request could not get an answer from Ollama (connection refused, reset or closed
 * before a response, connect timeout). Core raises the same codes when the server took the
 * connection and then dropped it, so on its own this does not prove Ollama is gone: ask it
 * (`client.version()`) before giving up on the whole job.
 */
export function isUnreachable(error: { code?: unknown }): boolean {
  return typeof error.code === 'string' && unreachableCodes.has(error.code)
}

/** True for Ollama's 404 "model not found" answer (an HttpError, or its `{ code, message }` form). */
export function isModelNotFound(error: { code?: unknown; status?: unknown; message?: unknown }): boolean {
  if (error.code !== 'SPOUT_HTTP_ERROR') return false
  const message = typeof error.message === 'string' ? error.message : ''
  const status = typeof error.status === 'number' ? error.status : /\] 404\b/.test(message) ? 404 : undefined
  return status === 404 && /not found/i.test(message)
}

/** Turns anything thrown into the one line the user sees and the exit code. */
export function describeError(error: unknown, context: ErrorContext = {}): DescribedError {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode }
  const fields = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown
    status?: unknown
    message?: unknown
    name?: unknown
  }
  if (fields.name === 'AbortError') return { message: 'interrupted', exitCode: exitCodes.interrupted }
  if (typeof fields.code === 'string' && unreachableCodes.has(fields.code)) {
    const host = context.host ?? 'the configured host'
    return {
      message: unreachableMessage(host, unreachableReason(error), context.api),
      exitCode: exitCodes.usage,
    }
  }
  if (isModelNotFound(fields) && context.model) {
    return {
      message: missingModelMessage(context.model, context.host ?? 'Ollama', context.api),
      exitCode: exitCodes.usage,
    }
  }
  return { message: firstLine(error), exitCode: exitCodes.failed }
}

/**
 * Why a request got no answer, in a few words for the parentheses of {@link unreachableMessage}:
 * a ConnectionError's `reason` (`connection refused`), or the gist of its message or of a timeout's
 * (`[GET …] no connection within 5000 ms (timeouts.connect)` → `no connection within 5000 ms`).
 */
export function unreachableReason(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const { reason, message } = error as { reason?: unknown; message?: unknown }
  if (typeof reason === 'string' && reason !== '') return reason
  if (typeof message !== 'string') return undefined
  const line = firstLine(message)
  const connection =
    /^(?:cannot reach|lost the connection to) (?:Ollama|the OpenAI-compatible server) at \S+: (.+)$/.exec(
      line,
    )
  if (connection) return connection[1]
  const request = /^\[[A-Z]+ [^\]]*\] (.+?)(?: \([\w.]+\))?$/.exec(line)
  return request?.[1] ?? (line === '' ? undefined : line)
}
