// How a `spout run` ends: its last lines on stderr and its exit code, in one place.
import type { JobSummary } from '@spout/core'
import { CliError, exitCodes } from '../cli-error.ts'
import { formatCount } from '../format.ts'
import { hostSummaryLines } from '../host-lines.ts'
import type { CliIo } from '../io.ts'
import { resumeCommand, summaryLine } from './run-shared.ts'
import type { StopReason } from './server-watch.ts'

export interface RunEnd {
  summary: JobSummary
  io: CliIo
  quiet: boolean
  /** The arguments after `spout`, for the resume command. */
  argv: readonly string[]
  /** The output file as the user named it; undefined when the dataset went to stdout. */
  output: string | undefined
  /** The exit code of the signal that interrupted the run (130 or 143). */
  interruptExitCode: number
  /** Why the command stopped the job itself, and with which message. */
  stopReason?: StopReason | undefined
  stopMessage?: string
  /** Records cancelled by a stop, and records whose input line was malformed. */
  cancelled?: number
  malformedLines?: number
  /** The input, named in the malformed-lines hint. */
  inputLabel?: string
}

/**
 * Runs the batch; however it ends, the Ctrl-C handling is removed and the display draws its last
 * frame, before anything is said about the end (plain and staged runs alike).
 */
export async function runDisplayed<T>(
  interruption: { stop(): void },
  display: { finish(): void },
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run()
  } finally {
    interruption.stop()
    display.finish()
  }
}

/**
 * The exit code of a run: 0 when every record succeeded, 1 when some failed (the output holds
 * their lines; `--resume` retries them), 2 when the server went away, 130/143 when interrupted.
 * Throws a `CliError` (exit 2) for a missing model or a job that failed as a whole.
 */
export function runExitCode(end: RunEnd): number {
  const { summary, io, quiet, output } = end
  const say = (line: string) => {
    if (!quiet) io.stderr.write(`${line}\n`)
  }
  if (end.stopReason === 'model-missing') throw new CliError(end.stopMessage ?? 'the model is missing')
  if (end.stopReason === 'unreachable') {
    io.stderr.write(`spout: ${end.stopMessage}\n`)
    if (output) say(`spout: then resume with: ${resumeCommand(end.argv)}`)
    return exitCodes.usage
  }
  if (summary.error && !summary.interrupted)
    throw new CliError(summary.error.message.split('\n')[0] ?? 'the run failed')
  say(summaryLine(summary, end.cancelled ?? 0, output))
  if (summary.hosts) for (const line of hostSummaryLines(summary.hosts)) say(line)
  if (summary.interrupted || end.stopReason === 'interrupted') {
    if (output) say(`spout: resume with: ${resumeCommand(end.argv)}`)
    else say('spout: the output went to stdout; write it with -o <file> to be able to resume')
    return end.interruptExitCode
  }
  if (summary.failed > 0) {
    // A resume sends the failed records again; a malformed line fails again until it is fixed.
    const malformed = end.malformedLines ?? 0
    if (malformed > 0)
      say(
        `spout: ${formatCount(malformed)} malformed input line${malformed === 1 ? '' : 's'}: fix ${malformed === 1 ? 'it' : 'them'} in ${end.inputLabel}`,
      )
    // Records stopped from the viewer count as failed in the summary, but the user did that.
    const cancelled = end.cancelled ?? 0
    const counts = [`${summary.failed - cancelled} failed`, `${cancelled} cancelled`].filter(
      (part) => !part.startsWith('0 '),
    )
    if (output) say(`spout: ${counts.join(' and ')}; run again with --resume to retry only those`)
    return exitCodes.failed
  }
  return exitCodes.ok
}
