import { tmpdir } from 'node:os'
import { describe, expect, it } from 'vitest'
import packageJson from '../package.json' with { type: 'json' }
import { runCli } from './testing/harness.ts'

const cwd = tmpdir()

describe('spout', () => {
  it('prints its version', async () => {
    const result = await runCli(['--version'], { cwd })
    expect(result.code).toBe(0)
    expect(result.stdout.trim()).toBe(packageJson.version)
  })

  it('has help with examples on every command', async () => {
    for (const command of [
      [],
      ['run'],
      ['generate'],
      ['models'],
      ['ps'],
      ['pull'],
      ['show'],
      ['serve'],
      ['worker'],
    ]) {
      const result = await runCli([...command, '--help'], { cwd })
      expect(result.code, command.join(' ')).toBe(0)
      expect(result.stdout, command.join(' ')).toMatch(/Examples:\n {2}\$ spout /)
    }
  })

  it('exits 2 with a one-line message on a usage error', async () => {
    const unknown = await runCli(['frobnicate'], { cwd })
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/)
    const missing = await runCli(['run'], { cwd })
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/no input: pass a file \(or - for stdin\), or set "input" in spout.config/)
  })
})
