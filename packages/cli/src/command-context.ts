import type { CliIo } from './io.ts'

/** What every command gets: the outside world, and where it leaves its exit code. */
export interface CommandContext {
  io: CliIo
  /** The arguments after `spout` (to print a resume command). */
  argv: readonly string[]
  exitCode: number
}
