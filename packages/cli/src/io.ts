import type { Readable, Writable } from 'node:stream'

/** A stream the CLI writes to: a terminal (`isTTY`, `columns`) or a pipe/file. */
export type OutputStream = Writable & { isTTY?: boolean; columns?: number; rows?: number }

/** The signals that stop a command gracefully. */
export type InterruptSignal = 'SIGINT' | 'SIGTERM'

/** The exit code of a command stopped by `signal`: 128 + its number, as shells report it. */
export function interruptExitCode(signal: InterruptSignal = 'SIGINT'): 130 | 143 {
  return signal === 'SIGTERM' ? 143 : 130
}

/** A stream the CLI reads from (stdin). */
export type InputStream = Readable & { isTTY?: boolean }

/**
 * Everything the CLI touches in the outside world. `bin.ts` passes the real process; tests pass
 * their own streams, environment and working directory.
 */
export interface CliIo {
  stdin: InputStream
  stdout: OutputStream
  stderr: OutputStream
  env: Readonly<Record<string, string | undefined>>
  cwd: string
  /**
   * Calls `listener` on each Ctrl-C (SIGINT) or SIGTERM, with the signal (tests may leave it out: it
   * then counts as SIGINT); returns a function that stops listening.
   */
  onInterrupt(listener: (signal?: InterruptSignal) => void): () => void
  /** Ends the process now (a second Ctrl-C). Tests leave it out. */
  forceExit?(code: number): void
}

/** The real process as a {@link CliIo}. */
export function processIo(): CliIo {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    onInterrupt(listener) {
      const onSigint = () => listener('SIGINT')
      const onSigterm = () => listener('SIGTERM')
      process.on('SIGINT', onSigint)
      process.on('SIGTERM', onSigterm)
      return () => {
        process.off('SIGINT', onSigint)
        process.off('SIGTERM', onSigterm)
      }
    },
    forceExit(code) {
      if (process.stderr.isTTY) process.stderr.write('\x1b[?25h')
      process.exit(code)
    },
  }
}

/** Writes and resolves once the stream has taken the bytes (so a slow pipe paces us). */
export function write(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => (error ? reject(error) : resolve()))
  })
}
