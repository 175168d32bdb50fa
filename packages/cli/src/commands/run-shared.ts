// What `spout run` shares with and without stages (run-command.ts, run-stages.ts): the summary line,
// the models' digests, the resume command, the hub's producer plugin and the read-ahead.
import { digestTable, type JobSummary, type OllamaClient, type SpoutPlugin } from '@spout/core'
import { broadcastSink } from '@spout/ws-server'
import { CliError } from '../cli-error.ts'
import { firstLine } from '../config.ts'
import { formatCount, formatDuration, formatRate } from '../format.ts'
import { parseInteger } from '../request-options.ts'
import type { RunFlags } from './run-flags.ts'
import { shellQuote } from './shared.ts'

/** `spout: 98 ok, 2 failed, 3 skipped · 12,345 tokens · 35.2 tok/s · 1m 02s → out.jsonl` (cancelled: Ctrl-C) */
export function summaryLine(summary: JobSummary, cancelled: number, output: string | undefined): string {
  const counts = [`${summary.ok} ok`, `${summary.failed - cancelled} failed`]
  if (cancelled > 0) counts.push(`${cancelled} cancelled`)
  if (summary.filtered) counts.push(`${summary.filtered} filtered`)
  if (summary.skipped > 0) counts.push(`${summary.skipped} skipped`)
  const parts = [counts.join(', '), `${formatCount(summary.tokens)} tokens`]
  if (summary.duration > 0 && summary.tokens > 0) {
    parts.push(`${formatRate((summary.tokens * 1000) / summary.duration)} tok/s`)
  }
  parts.push(formatDuration(summary.duration))
  return `spout: ${summary.interrupted ? 'interrupted: ' : ''}${parts.join(' · ')}${output ? ` → ${output}` : ''}`
}

/** Each model's digest for the lines' provenance; none when the server does not list its models. */
export async function modelDigests(client: OllamaClient) {
  try {
    return digestTable((await client.list({ retry: false })).models)
  } catch {
    return undefined
  }
}

/** The same command with `--resume` added (promptfoo prints its resume command the same way). */
export function resumeCommand(argv: readonly string[]): string {
  const words = argv.includes('--resume') ? [...argv] : [...argv, '--resume']
  return ['spout', ...words].map(shellQuote).join(' ')
}

/** The hub's producer plugin for `--broadcast` (an address as `spout serve` prints it, or ws://…). */
export function hubSink(address: string, token: string | undefined): SpoutPlugin {
  try {
    return broadcastSink({ url: /^[a-z]+:\/\//i.test(address) ? address : `ws://${address}`, token })
  } catch (error) {
    throw new CliError(`--broadcast ${address}: ${firstLine(error)}`, { cause: error })
  }
}

/** `--read-ahead`: records waiting for a slot (per stage), shown as queued; 16 when watched live, else 0. */
export function readAheadOf(flags: Pick<RunFlags, 'readAhead' | 'broadcast'>): number {
  return parseInteger(flags.readAhead ?? (flags.broadcast ? 16 : 0), '--read-ahead', 0)
}
