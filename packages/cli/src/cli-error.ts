// Loaded by every command, `--help` included: only the error classes of core, not its client.
import { SpoutError, type SpoutErrorCode } from '@spout/core/errors'

/** Exit codes: what a script calling `spout` can rely on. */
export const exitCodes = {
  /** Every record succeeded (or the command did what it was asked). */
  ok: 0,
  /** Some records failed; the output still holds one line per record. */
  failed: 1,
  /** Usage or setup error: bad flags, missing input, Ollama unreachable, model missing. */
  usage: 2,
  /** Interrupted by Ctrl-C (SIGINT): 128 + 2. */
  interrupted: 130,
  /** stdout was closed by its reader (`| head`): 128 + SIGPIPE, as for any Unix tool. */
  brokenPipe: 141,
  /** Stopped by SIGTERM (`kill`, a service manager, a container stop): 128 + 15. */
  terminated: 143,
} as const

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes]

/**
 * An error the CLI reports as one line (`spout: <message>`) and turns into an exit code. A `SpoutError`
 * like the library's (`SPOUT_USAGE` unless told otherwise); library errors are translated by `describeError`.
 */
export class CliError extends SpoutError {
  override readonly name = 'CliError'
  readonly exitCode: ExitCode

  constructor(
    message: string,
    options: { exitCode?: ExitCode; code?: SpoutErrorCode; cause?: unknown } = {},
  ) {
    super(options.code ?? 'SPOUT_USAGE', message, { cause: options.cause })
    this.exitCode = options.exitCode ?? exitCodes.usage
  }
}
