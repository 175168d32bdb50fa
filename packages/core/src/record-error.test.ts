import { describe, expect, it } from 'vitest'
import type { Backend } from './backend.ts'
import { PluginError, RecordError } from './errors.ts'
import { runPipeline } from './pipeline.ts'
import type { RecordResult, SpoutPlugin } from './plugin.ts'
import { PluginDriver } from './plugin-driver.ts'

const job = { jobId: 'job-1', name: 'test', model: 'm', host: 'http://127.0.0.1:1' }

function driverFor(plugin: SpoutPlugin): PluginDriver {
  const signal = new AbortController().signal
  return new PluginDriver([plugin], () => ({ signal, job, logger: { info() {}, warn() {} } }))
}

describe('RecordError', () => {
  it('passes through the plugin driver as it is; any other throw becomes a PluginError', async () => {
    const verdict = new RecordError('SPOUT_INPUT_ERROR', 'in.jsonl:2: not JSON')
    const failing = (error: Error): SpoutPlugin => ({
      name: 'judge',
      buildPrompt() {
        throw error
      },
    })
    const request = { model: 'm', prompt: 'p' }
    await expect(driverFor(failing(verdict)).hookReduceArg0('buildPrompt', request, {})).rejects.toBe(verdict)
    await expect(
      driverFor(failing(new Error('boom'))).hookReduceArg0('buildPrompt', request, {}),
    ).rejects.toBeInstanceOf(PluginError)
  })

  it('fails its record alone with its own code, without a request', async () => {
    const unreachable = () => {
      throw new Error('no request is made for a record that failed before its prompt')
    }
    const client = { kind: 'ollama', host: 'http://127.0.0.1:1', generate: unreachable, chat: unreachable }
    const results: RecordResult[] = []
    const summary = await runPipeline({
      client: client as unknown as Backend,
      model: 'm',
      input: [{ id: 'a', prompt: 'p' }],
      plugins: [
        {
          name: 'judge',
          buildPrompt() {
            throw new RecordError('SPOUT_INPUT_ERROR', 'in.jsonl:1: not JSON')
          },
        },
        { name: 'collect', recordEnd: (result) => void results.push(result) },
      ],
    })
    expect(summary).toMatchObject({ ok: 0, failed: 1 })
    expect(summary.error).toBeUndefined()
    expect(results[0]).toMatchObject({
      attempts: 0,
      error: { code: 'SPOUT_INPUT_ERROR', message: 'in.jsonl:1: not JSON' },
    })
  })
})
