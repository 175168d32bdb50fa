// `spout run` over Ollama's /api and over the OpenAI-compatible /v1 of the same simulator: the same
// result lines (text, system prompt, thinking, counts, errors), only `backend` differs.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Simulator, startSimulator } from '@spout/ollama-sim'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseJsonl, runCli } from '../testing/harness.ts'

let sim: Simulator
let directory: string

beforeAll(async () => {
  sim = await startSimulator({ numParallel: 2 })
  directory = await mkdtemp(join(tmpdir(), 'spout-run-openai-'))
})
afterAll(async () => {
  await sim.close()
  await rm(directory, { recursive: true, force: true })
})

const run = (argv: string[], env: Record<string, string> = {}) =>
  runCli(argv, { cwd: directory, env: { OLLAMA_HOST: sim.url, ...env } })

async function lines(name: string) {
  return parseJsonl(await readFile(join(directory, name), 'utf8'))
}

/** What must not depend on the wire: everything but the backend, the times and the durations. */
function comparable(line: Record<string, unknown>) {
  const metrics = (line.metrics ?? {}) as Record<string, unknown>
  const error = line.error as { code?: string } | undefined
  return {
    id: line.id,
    model: line.model,
    system: line.system,
    prompt: line.prompt,
    messages: line.messages,
    response: line.response,
    thinking: line.thinking,
    tool_calls: line.tool_calls,
    done_reason: line.done_reason,
    eval_count: metrics.eval_count,
    prompt_eval_count: metrics.prompt_eval_count,
    attempts: line.attempts,
    error: error?.code,
  }
}

function byId(records: Record<string, unknown>[]) {
  return Object.fromEntries(records.map((line) => [line.id as string, line]))
}

describe('spout run over /api and /v1', () => {
  it('writes the same result lines for prompts, system prompts, conversations, retries and failures', async () => {
    const records = [
      { id: 'plain', prompt: 'Why is the sky blue?' },
      { id: 'capped', prompt: 'Count slowly [sim:tokens=40]' },
      { id: 'talk', messages: [{ role: 'user', content: 'Hello, who are you?' }] },
      { id: 'flaky', prompt: 'Once a stream broke [sim:fault=midstream-error,after=2,times=1]' },
      { id: 'broken', prompt: 'Always down [sim:fault=http-500]' },
    ]
    await writeFile(join(directory, 'in.jsonl'), records.map((record) => JSON.stringify(record)).join('\n'))
    const common = ['run', 'in.jsonl', '-m', 'llama3.2', '-c', '2', '--retries', '1', '-q']
    const overApi = await run([...common, '-o', 'api.jsonl'])
    sim.resetFaults()
    const overV1 = await run([...common, '--host', `${sim.url}/v1`, '-o', 'v1.jsonl'])
    expect([overApi.code, overV1.code]).toEqual([1, 1])
    const api = byId(await lines('api.jsonl'))
    const v1 = byId(await lines('v1.jsonl'))
    expect(Object.keys(v1).sort()).toEqual(records.map((record) => record.id).sort())
    for (const id of Object.keys(api)) {
      expect(comparable(v1[id]!), id).toEqual(comparable(api[id]!))
      expect([api[id]!.backend, v1[id]!.backend]).toEqual(['ollama', 'openai'])
    }
    expect(api.flaky).toMatchObject({ attempts: 2, done_reason: 'stop' })
    expect(api.broken).toMatchObject({ error: { code: 'SPOUT_HTTP_ERROR' } })
    expect((v1.broken!.error as { message: string }).message).toContain('/v1/completions] 500')

    // With a system prompt, the bare prompts go to chat over /v1 (completions have no system prompt).
    const withSystem = [
      'run',
      'in.jsonl',
      '-m',
      'llama3.2',
      '-s',
      'Answer like a pirate.',
      '--retries',
      '0',
      '-q',
    ]
    sim.resetFaults()
    await run([...withSystem, '-o', 'api-system.jsonl'])
    sim.resetFaults()
    await run([...withSystem, '--api', 'openai', '--host', sim.url, '-o', 'v1-system.jsonl'])
    const apiSystem = byId(await lines('api-system.jsonl'))
    const v1System = byId(await lines('v1-system.jsonl'))
    for (const id of ['plain', 'capped', 'talk']) {
      expect(comparable(v1System[id]!)).toEqual(comparable(apiSystem[id]!))
      expect(v1System[id]!.system).toBe('Answer like a pirate.')
    }
  })

  it('keeps thinking over /v1 (delta.reasoning), with --chat for bare prompts', async () => {
    await writeFile(
      join(directory, 'think.jsonl'),
      `${JSON.stringify({ id: 't', prompt: 'Think about rivers' })}\n`,
    )
    const common = ['run', 'think.jsonl', '-m', 'qwen3', '--chat', '-q']
    await run([...common, '-o', 'think-api.jsonl'])
    await run([...common, '--host', `${sim.url}/v1`, '-o', 'think-v1.jsonl'])
    const [api] = await lines('think-api.jsonl')
    const [v1] = await lines('think-v1.jsonl')
    expect(v1!.thinking).toBeTruthy()
    expect(comparable(v1!)).toEqual(comparable(api!))
  })

  it('lists /v1/models, and says which server it could not reach', async () => {
    const listed = await run(['models', '--host', `${sim.url}/v1`])
    expect(listed.code).toBe(0)
    expect(listed.stdout).toMatch(/^ID\s+OWNED BY\s+CREATED/)
    expect(listed.stdout).toContain('llama3.2:latest')
    const json = await run(['models', '--api', 'openai', '--json'], { OPENAI_BASE_URL: `${sim.url}/v1` })
    expect(JSON.parse(json.stdout).data.map((model: { id: string }) => model.id)).toContain('qwen3:latest')
    await writeFile(join(directory, 'one.jsonl'), '{"prompt":"hi"}\n')
    const down = await run([
      'run',
      'one.jsonl',
      '-m',
      'm',
      '--host',
      'http://127.0.0.1:9/v1',
      '-o',
      'x.jsonl',
    ])
    expect(down.code).toBe(2)
    expect(down.stderr).toContain('cannot reach the OpenAI-compatible server at http://127.0.0.1:9')
  })
})
