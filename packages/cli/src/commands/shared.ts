import { Option } from 'commander'
import { CliError, exitCodes } from '../cli-error.ts'
import { type CliIo, interruptExitCode } from '../io.ts'
import { apis } from '../llama.ts'

/** Collects a repeatable flag (`--option a=1 --option b=2`) into an array. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

/** `-m, --model <name>` */
export const modelOption = () =>
  new Option(
    '-m, --model <name>',
    'model name, e.g. llama3.2 or qwen3:8b, or a ./model.gguf file (runs in process)',
  )

/** `--api <kind>`: which backend generates. */
export const apiOption = () =>
  new Option(
    '--api <kind>',
    'backend: ollama; openai (any OpenAI-compatible server: vLLM, llama.cpp, LM Studio; default for a --host ending in /v1); or llama-cpp (in process; default for a .gguf model)',
  ).choices(apis)

/** `--api-key <key>`: the bearer key of an OpenAI-compatible server. */
export const apiKeyOption = () =>
  new Option(
    '--api-key <key>',
    'key for an OpenAI-compatible server, sent as a bearer token (default: $OPENAI_API_KEY)',
  )

/** `--host <url>` */
export const hostOption = () =>
  new Option(
    '--host <url>',
    "server address (default: $OLLAMA_HOST, then http://127.0.0.1:11434; with --api openai: $OPENAI_BASE_URL, then Ollama's /v1)",
  )

/** Throws the usage error for a command that needs a model and has none. */
export function requireModel(model: string | undefined, where: string): string {
  if (model) return model
  throw new CliError(
    `no model given: pass -m <name>${where === 'run' ? ' or set "model" in spout.config' : ''}`,
  )
}

/** A word safe to paste into a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}

/** Ctrl-C (and SIGTERM) handling for a command. */
export interface Interruption {
  /** True once Ctrl-C was pressed (or SIGTERM came). */
  readonly interrupted: boolean
  /** The exit code for the signal that came first: 130 (SIGINT) or 143 (SIGTERM). */
  readonly exitCode: 130 | 143
  /** Stops listening for Ctrl-C. */
  stop(): void
}

/**
 * The first Ctrl-C (or SIGTERM) calls `onFirst`, then aborts `controller` with an `interrupted` error; a
 * second one exits at once, with the first one's exit code.
 */
export function abortOnInterrupt(io: CliIo, controller: AbortController, onFirst?: () => void): Interruption {
  let interrupted = false
  let exitCode: 130 | 143 = exitCodes.interrupted
  const stop = io.onInterrupt((signal) => {
    if (interrupted) {
      io.forceExit?.(exitCode)
      return
    }
    interrupted = true
    exitCode = interruptExitCode(signal)
    onFirst?.()
    controller.abort(new CliError('interrupted', { exitCode }))
  })
  return {
    get interrupted() {
      return interrupted
    },
    get exitCode() {
      return exitCode
    },
    stop,
  }
}
