import { tmpdir } from 'node:os'
import { expectedResponse, type Simulator, startSimulator } from '@spout/ollama-sim'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseJsonl, runCli, startCli } from '../testing/harness.ts'

let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator()
})
afterAll(async () => {
  await sim.close()
})

const run = (argv: string[], options: { stdin?: string; env?: Record<string, string> } = {}) =>
  runCli(argv, { cwd: tmpdir(), env: { OLLAMA_HOST: sim.url, ...options.env }, stdin: options.stdin })

describe('spout generate', () => {
  it('streams the response to stdout, ending with a newline', async () => {
    const result = await run(['generate', '-m', 'llama3.2', 'Why', 'is', 'the', 'sky', 'blue?'])
    expect(result.code).toBe(0)
    const expected = expectedResponse({ model: 'llama3.2', prompt: 'Why is the sky blue?' }).response
    expect(result.stdout).toBe(expected.endsWith('\n') ? expected : `${expected}\n`)
    expect(result.stderr).toBe('')
  })

  it('reads the prompt from stdin when none is given (alias gen)', async () => {
    const result = await run(['gen', '-m', 'llama3.2', '-s', 'Be brief.'], { stdin: 'Summarise this.\n' })
    expect(result.code).toBe(0)
    const expected = expectedResponse({ model: 'llama3.2', prompt: 'Summarise this.', system: 'Be brief.' })
    expect(result.stdout.trimEnd()).toBe(expected.response.trimEnd())
  })

  it('sends thinking to stderr and the answer to stdout', async () => {
    const result = await run(['generate', '-m', 'qwen3', '--think', 'How many r in strawberry?'])
    expect(result.code).toBe(0)
    const expected = expectedResponse({ model: 'qwen3', prompt: 'How many r in strawberry?', think: true })
    expect(expected.thinking).not.toBe('')
    expect(result.stderr.trim()).toBe(expected.thinking.trim())
    expect(result.stdout.trimEnd()).toBe(expected.response.trimEnd())
  })

  it('prints raw chunk objects as NDJSON with --json, options typed', async () => {
    const result = await run(['generate', '-m', 'llama3.2', '--json', '--option', 'num_predict=4', 'Hi'])
    expect(result.code).toBe(0)
    const chunks = parseJsonl(result.stdout)
    expect(chunks.at(-1)).toMatchObject({ done: true, done_reason: 'length' })
    const text = chunks.map((chunk) => chunk.response).join('')
    expect(text).toBe(
      expectedResponse({ model: 'llama3.2', prompt: 'Hi', options: { num_predict: 4 } }).response,
    )
  })

  it('exits 2 with one line for a missing model, an unreachable host and no prompt', async () => {
    const missing = await run(['generate', '-m', 'ghost', 'hello'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/^spout: model 'ghost' not found at .*spout pull ghost`\n$/)
    const unreachable = await run(['generate', '-m', 'llama3.2', '--host', '127.0.0.1:1', 'hello'])
    expect(unreachable.code).toBe(2)
    expect(unreachable.stderr).toMatch(/^spout: cannot reach Ollama at http:\/\/127\.0\.0\.1:1.*ollama serve/)
    const empty = await run(['generate', '-m', 'llama3.2'], { stdin: '  \n' })
    expect(empty.code).toBe(2)
    expect(empty.stderr).toBe('spout: the prompt is empty\n')
  })

  it('exits 1 when the stream breaks mid-way, keeping what arrived', async () => {
    const result = await run(['generate', '-m', 'llama3.2', 'x [sim:fault=midstream-error,after=2]'])
    expect(result.code).toBe(1)
    expect(result.stdout.length).toBeGreaterThan(0)
    expect(result.stderr).toMatch(/^spout: /)
  })

  it('stops on Ctrl-C with exit 130, cancelling the request', async () => {
    const slow = await startSimulator({ tokensPerSecond: 20 })
    try {
      const running = startCli(['generate', '-m', 'llama3.2', '--host', slow.url, 'a long story please'], {
        cwd: tmpdir(),
      })
      await running.stdout.waitFor(/\S/)
      running.interrupt()
      expect(await running.done).toBe(130)
      expect(running.stdout.text.endsWith('\n')).toBe(true)
      while (slow.counters.cancelled < 1) await new Promise((resolve) => setTimeout(resolve, 20))
    } finally {
      await slow.close()
    }
  })
})
