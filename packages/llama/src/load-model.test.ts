import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ContextTooSmallError, ModelFileError } from './errors.ts'
import { LlamaBackend } from './llama-backend.ts'
import { tinyModelBytes, tinyModelPath } from './testing/tiny-model.ts'

const dir = mkdtempSync(join(tmpdir(), 'spout-llama-errors-'))

function loadError(model: string): Promise<unknown> {
  return new LlamaBackend({ model, threads: 1, gpu: false }).load().then(
    () => undefined,
    (error: unknown) => error,
  )
}

describe('model file errors', () => {
  it('a missing file', async () => {
    const path = join(dir, 'nope.gguf')
    const error = await loadError(path)
    expect(error).toBeInstanceOf(ModelFileError)
    expect(error).toMatchObject({ code: 'SPOUT_MODEL_NOT_FOUND', path, message: `[${path}] no such file` })
  })

  it('a file that is not GGUF, and a directory', async () => {
    const path = join(dir, 'notes.gguf')
    writeFileSync(path, 'hello, not a model')
    expect(await loadError(path)).toMatchObject({
      code: 'SPOUT_NOT_GGUF',
      message: `[${path}] not a GGUF file (starts with "hell", expected "GGUF")`,
    })
    expect(await loadError(dir)).toMatchObject({ code: 'SPOUT_NOT_GGUF' })
  })

  it('an architecture llama.cpp does not know', async () => {
    const path = join(dir, 'future.gguf')
    // The same model with general.architecture = "zzzzz" (same length, so every offset stays put).
    const bytes = Buffer.from(tinyModelBytes())
    const at = bytes.indexOf('general.architecture')
    const value = bytes.indexOf('llama', at)
    bytes.write('zzzzz', value, 'latin1')
    writeFileSync(path, bytes)
    const error = await loadError(path)
    expect(error).toMatchObject({ code: 'SPOUT_UNSUPPORTED_ARCHITECTURE' })
    expect((error as Error).message).toBe(
      `[${path}] llama.cpp does not support the architecture "zzzzz" (a newer node-llama-cpp may)`,
    )
  })
})

describe('a prompt longer than the context', () => {
  const backend = new LlamaBackend({ model: tinyModelPath(), contextSize: 256, threads: 1, gpu: false })
  afterAll(() => backend.close())

  it('fails that record with a ContextTooSmallError, and the next record runs', async () => {
    const long = backend.generate({ model: 'tiny', prompt: 'the sky is blue '.repeat(200), stream: true })
    const error = await (async () => {
      for await (const _part of long);
    })().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ContextTooSmallError)
    expect((error as ContextTooSmallError).message).toMatch(
      /^\[.*tiny\.gguf\] the prompt is \d+ tokens, the context holds 256 \(raise num_ctx or shorten the prompt\)$/,
    )
    let last: unknown
    for await (const part of backend.generate({
      model: 'tiny',
      prompt: 'short',
      stream: true,
      options: { num_predict: 3 },
    }))
      last = part
    expect(last).toMatchObject({ done: true, eval_count: 3 })
  })

  it('ends with done_reason length when the context fills before num_predict', async () => {
    let last: { done_reason?: string; eval_count?: number; prompt_eval_count?: number } | undefined
    for await (const part of backend.generate({ model: 'tiny', prompt: 'fill it', stream: true })) last = part
    expect(last).toMatchObject({ done_reason: 'length' })
    expect(last!.eval_count! + last!.prompt_eval_count!).toBe(256)
  })
})
