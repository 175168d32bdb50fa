// Test helper (not part of the package build): runs `spout` in-process with captured streams.
import { Readable, Writable } from 'node:stream'
import type { CliIo } from '../io.ts'
import { main } from '../program.ts'

export class CaptureStream extends Writable {
  text = ''
  isTTY: boolean
  columns = 100
  rows = 30
  readonly #waiters: { pattern: RegExp; resolve: () => void }[] = []

  constructor(isTTY = false) {
    super()
    this.isTTY = isTTY
  }

  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.text += chunk.toString()
    for (const waiter of [...this.#waiters]) {
      if (waiter.pattern.test(this.text)) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1)
        waiter.resolve()
      }
    }
    callback()
  }

  /** Resolves once the captured text matches `pattern`. */
  waitFor(pattern: RegExp): Promise<void> {
    if (pattern.test(this.text)) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push({ pattern, resolve }))
  }
}

export interface CliRunOptions {
  cwd: string
  env?: Record<string, string | undefined>
  /** Text (or chunks) on stdin; default: an empty, non-terminal stdin. */
  stdin?: string | string[]
  stdoutTTY?: boolean
  stderrTTY?: boolean
}

export interface CliRun {
  stdout: CaptureStream
  stderr: CaptureStream
  /** Acts as Ctrl-C. */
  interrupt(): void
  /** The exit code. */
  done: Promise<number>
}

/** Starts `spout <argv>` in this process. */
export function startCli(argv: readonly string[], options: CliRunOptions): CliRun {
  const stdout = new CaptureStream(options.stdoutTTY)
  const stderr = new CaptureStream(options.stderrTTY)
  const listeners = new Set<() => void>()
  const stdin = Readable.from(
    options.stdin === undefined ? [] : Array.isArray(options.stdin) ? options.stdin : [options.stdin],
  ) as CliIo['stdin']
  const io: CliIo = {
    stdin,
    stdout,
    stderr,
    env: options.env ?? {},
    cwd: options.cwd,
    onInterrupt(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
  return {
    stdout,
    stderr,
    interrupt: () => {
      for (const listener of [...listeners]) listener()
    },
    done: main(argv, io),
  }
}

/** Runs `spout <argv>` to the end: the exit code and what it wrote. */
export async function runCli(
  argv: readonly string[],
  options: CliRunOptions,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = startCli(argv, options)
  const code = await run.done
  return { code, stdout: run.stdout.text, stderr: run.stderr.text }
}

/** Parses JSONL text into objects. */
export function parseJsonl(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}
