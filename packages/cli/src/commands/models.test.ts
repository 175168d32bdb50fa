import { tmpdir } from 'node:os'
import { stripVTControlCharacters as stripAnsi } from 'node:util'
import { type Simulator, startSimulator } from '@spout/ollama-sim'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../testing/harness.ts'

let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator()
})
afterAll(async () => {
  await sim.close()
})

const run = (argv: string[], options: { stderrTTY?: boolean } = {}) =>
  runCli(argv, { cwd: tmpdir(), env: { OLLAMA_HOST: sim.url }, ...options })

describe('spout models / ps / show / pull', () => {
  it('lists models with size, parameters and quantization', async () => {
    const result = await run(['models'])
    expect(result.code).toBe(0)
    const [header, ...rows] = result.stdout.trimEnd().split('\n')
    expect(header).toMatch(/^NAME\s+SIZE\s+PARAMETERS\s+QUANTIZATION\s+MODIFIED$/)
    const llama = rows.find((row) => row.startsWith('llama3.2:latest'))
    expect(llama).toMatch(/llama3\.2:latest\s+[\d.]+ [KMG]B\s+\S+\s+\S+\s+.+/)
    const json = await run(['models', '--json'])
    expect(JSON.parse(json.stdout).models.length).toBe(rows.length)
  })

  it('lists loaded models with ps', async () => {
    await run(['generate', '-m', 'llama3.2', 'warm up'])
    const result = await run(['ps'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^NAME\s+SIZE\s+PROCESSOR\s+CONTEXT\s+UNTIL\n/)
    expect(result.stdout).toMatch(/llama3\.2:latest/)
  })

  it('shows a model, and exits 2 for a missing one', async () => {
    const result = await run(['show', 'qwen3'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/ {2}Model\n {4}architecture/)
    expect(result.stdout).toMatch(/ {2}Capabilities\n(?: {4}\w+\n)*? {4}thinking/)
    const missing = await run(['show', 'ghost'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/model 'ghost' not found .*spout pull ghost/)
  })

  it('pulls with plain progress lines when stderr is not a terminal', async () => {
    const result = await run(['pull', 'llama3.2'])
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(/^pulling manifest\n/)
    expect(result.stderr).toMatch(/pulling [0-9a-f]{12}: 100% \([\d.]+ [KMG]?B\/[\d.]+ [KMG]?B/)
    expect(result.stderr).toMatch(/success\n$/)
    expect(result.stderr).not.toMatch(/\x1b/)
    expect(result.stdout).toBe('')
  })

  it('pulls with a redrawn bar on a terminal', async () => {
    const result = await run(['pull', 'llama3.2'], { stderrTTY: true })
    expect(result.code).toBe(0)
    expect(result.stderr).toContain('\r\x1b[2K')
    expect(stripAnsi(result.stderr)).toMatch(/pulling [0-9a-f]{12}: 100% ▕█+▏ [\d.]+ [KMG]?B\/[\d.]+ [KMG]?B/)
  })

  it('fails a pull of a model the library does not have with exit 1', async () => {
    const result = await run(['pull', 'not-in-library'])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/spout: .*file does not exist/)
  })
})
