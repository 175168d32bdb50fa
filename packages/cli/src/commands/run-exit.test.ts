import type { JobSummary } from '@spout/core'
import { describe, expect, it } from 'vitest'
import { exitCodes } from '../cli-error.ts'
import type { CliIo } from '../io.ts'
import { runExitCode } from './run-exit.ts'

function end(summary: Partial<JobSummary>, cancelled = 0) {
  let stderr = ''
  const io = { stderr: { write: (text: string) => (stderr += text) } } as unknown as CliIo
  const code = runExitCode({
    summary: { ok: 3, failed: 0, skipped: 0, tokens: 30, duration: 1000, ...summary },
    io,
    quiet: false,
    argv: ['run', 'in.jsonl', '-o', 'out.jsonl'],
    output: 'out.jsonl',
    interruptExitCode: 130,
    cancelled,
  })
  return { code, lines: stderr.trim().split('\n') }
}

describe('runExitCode', () => {
  it('says how many failed and how to retry them', () => {
    const { code, lines } = end({ failed: 2 })
    expect(code).toBe(exitCodes.failed)
    expect(lines[0]).toMatch(/^spout: 3 ok, 2 failed · /)
    expect(lines[1]).toBe('spout: 2 failed; run again with --resume to retry only those')
  })

  it('calls records stopped from the viewer cancelled, in the summary and in the hint alike', () => {
    const { code, lines } = end({ failed: 1 }, 1)
    expect(code).toBe(exitCodes.failed)
    expect(lines[0]).toMatch(/^spout: 3 ok, 0 failed, 1 cancelled · /)
    expect(lines[1]).toBe('spout: 1 cancelled; run again with --resume to retry only those')
    expect(end({ failed: 3 }, 1).lines[1]).toBe(
      'spout: 2 failed and 1 cancelled; run again with --resume to retry only those',
    )
  })

  it('exits 0 and says nothing more when every record succeeded', () => {
    const { code, lines } = end({})
    expect(code).toBe(exitCodes.ok)
    expect(lines).toHaveLength(1)
  })
})
