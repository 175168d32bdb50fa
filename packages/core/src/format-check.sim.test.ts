import { expectedResponse } from '@spout/ollama-sim'
import { describe, expect, it } from 'vitest'
import { runPipeline } from './pipeline.ts'
import type { RecordResult, SpoutPlugin } from './plugin.ts'
import { digestTable } from './provenance.ts'
import { useSimulators } from './testing/simulators.ts'

const model = 'llama3.2'
const simulators = useSimulators('spout-format-check-')
const server = () => simulators.server({ numParallel: 4 })

function collect(): { plugin: SpoutPlugin; lines: RecordResult[] } {
  const lines: RecordResult[] = []
  return { plugin: { name: 'collect', recordEnd: (result) => void lines.push(result) }, lines }
}

const verdict = {
  type: 'object',
  properties: { score: { type: 'integer' }, reason: { type: 'string' } },
  required: ['score', 'reason'],
}

describe('structured output against the simulator', () => {
  it('parses each response, and records the options, format and model digest it was made with', async () => {
    const { client } = await server()
    const { plugin, lines } = collect()
    const { models } = await client.list()
    const summary = await runPipeline({
      client,
      model,
      request: { format: verdict, options: { temperature: 0.2, seed: 7 } },
      input: [{ prompt: 'Grade: the sky is blue.' }, { prompt: 'Grade: 2 + 2 = 5.' }],
      concurrency: 2,
      modelDigest: digestTable(models),
      plugins: [plugin],
    })
    expect(summary).toMatchObject({ ok: 2, failed: 0 })
    const digest = models.find((each) => each.name === `${model}:latest`)?.digest
    expect(digest).toMatch(/^[0-9a-f]{64}$/)
    for (const line of lines) {
      const expected = expectedResponse({ model, prompt: line.prompt, format: verdict })
      expect(line.response).toBe(expected.response)
      expect(line.parsed).toEqual(JSON.parse(expected.response))
      expect(line.options).toEqual({ temperature: 0.2, seed: 7 })
      expect(line.format).toEqual(verdict)
      expect(line.model_digest).toBe(digest)
      expect(line.error).toBeUndefined()
    }
  })

  it('fails a record whose JSON breaks the schema, after asking again formatRetries times', async () => {
    const { sim, client } = await server()
    const { plugin, lines } = collect()
    // The simulator writes scores 0–100 and ignores `minimum`; the check does not.
    const strict = {
      ...verdict,
      properties: { ...verdict.properties, score: { type: 'integer', minimum: 1000 } },
    }
    const summary = await runPipeline({
      client,
      model,
      request: { format: strict },
      input: [{ id: 'g1', prompt: 'Grade this.' }],
      formatRetries: 2,
      plugins: [plugin],
    })
    expect(summary).toMatchObject({ ok: 0, failed: 1 })
    expect(sim.counters.completed).toBe(3)
    const [line] = lines
    expect(line!.attempts).toBe(3)
    expect(line!.parsed).toBeUndefined()
    expect(line!.error).toEqual({
      code: 'SPOUT_FORMAT_ERROR',
      message: 'record g1: response does not match the schema at /score: must be >= 1000',
    })
  })

  it('refuses JSON cut off at num_predict (done_reason "length") instead of writing it as ok', async () => {
    const { sim, client } = await server()
    const { plugin, lines } = collect()
    const summary = await runPipeline({
      client,
      model,
      request: { format: 'json', options: { num_predict: 3 } },
      input: [{ id: 'cut', prompt: 'Answer in JSON.' }],
      formatRetries: 0,
      plugins: [plugin],
    })
    expect(summary).toMatchObject({ ok: 0, failed: 1 })
    expect(sim.counters.completed).toBe(1)
    expect(lines[0]!.done_reason).toBe('length')
    expect(lines[0]!.error?.code).toBe('SPOUT_FORMAT_ERROR')
    expect(lines[0]!.error?.message).toMatch(/^record cut: response cut off at the token limit/)
  })

  it('fails the job before any request when the schema cannot be compiled', async () => {
    const { sim, client } = await server()
    const summary = await runPipeline({
      client,
      model,
      request: { format: { type: 'object', properties: { a: { type: 'nope' } } } },
      input: [{ prompt: 'x' }],
    })
    expect(summary.error?.code).toBe('SPOUT_INVALID_OPTION')
    expect(sim.counters.completed).toBe(0)
  })
})
