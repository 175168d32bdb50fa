import type { ChatResponse, GenerateResponse } from '@spout/core/ollama'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LlamaBackend } from './llama-backend.ts'
import { tinyModelPath } from './testing/tiny-model.ts'

type Part = GenerateResponse | ChatResponse

async function collect<T extends Part>(stream: AsyncIterable<T>): Promise<T[]> {
  const parts: T[] = []
  for await (const part of stream) parts.push(part)
  return parts
}

const textOf = (parts: GenerateResponse[]) => parts.map((part) => part.response).join('')

const generate = (backend: LlamaBackend, prompt: string, options: Record<string, unknown> = {}) =>
  collect(backend.generate({ model: 'tiny', prompt, stream: true, options: { seed: 1, ...options } }))

describe('LlamaBackend on the tiny model', () => {
  let backend: LlamaBackend
  beforeAll(async () => {
    backend = new LlamaBackend({ model: tinyModelPath(), sequences: 1, threads: 1, gpu: false })
    await backend.load()
  })
  afterAll(() => backend.close())

  it('streams chunk by chunk, then a final object with the counts and durations', async () => {
    const routes: unknown[] = []
    const parts = await collect(
      backend.generate(
        {
          model: 'tiny',
          prompt: 'why is the sky blue?',
          stream: true,
          options: { seed: 1, num_predict: 12 },
        },
        { onRoute: (route) => routes.push(route) },
      ),
    )
    expect(routes).toEqual([{ backend: 'llama-cpp', host: tinyModelPath() }])
    const chunks = parts.slice(0, -1)
    const final = parts.at(-1)!
    expect(chunks.length).toBeGreaterThan(1)
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ model: 'tiny', done: false })
      expect(chunk.response).not.toBe('')
    }
    expect(final).toMatchObject({
      model: 'tiny',
      done: true,
      done_reason: 'length',
      response: '',
      eval_count: 12,
    })
    expect(final.prompt_eval_count).toBeGreaterThan(5)
    expect(final.prompt_eval_duration).toBeGreaterThan(0)
    expect(final.eval_duration).toBeGreaterThan(0)
    expect(final.total_duration).toBeGreaterThanOrEqual(final.prompt_eval_duration! + final.eval_duration!)
  })

  it('gives the same text for the same seed, another for another seed', async () => {
    const first = textOf(await generate(backend, 'tell me about the sea', { num_predict: 24 }))
    await generate(backend, 'something else in between', { num_predict: 5, seed: 9 })
    const again = textOf(await generate(backend, 'tell me about the sea', { num_predict: 24 }))
    const other = textOf(await generate(backend, 'tell me about the sea', { num_predict: 24, seed: 2 }))
    expect(again).toBe(first)
    expect(other).not.toBe(first)
  })

  it('applies the GGUF chat template to the system prompt and messages', async () => {
    const bare = (await generate(backend, 'hello', { num_predict: 1 })).at(-1)!
    const chat = await collect(
      backend.chat({
        model: 'tiny',
        stream: true,
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'hello' },
        ],
        options: { seed: 1, num_predict: 6 },
      }),
    )
    const final = chat.at(-1)! as ChatResponse
    expect(chat[0]).toMatchObject({ done: false, message: { role: 'assistant' } })
    expect(final).toMatchObject({
      done: true,
      done_reason: 'length',
      message: { role: 'assistant', content: '' },
    })
    // <|im_start|>system\nYou are terse.<|im_end|>\n adds the system turn's tokens to the prompt.
    expect(final.prompt_eval_count).toBeGreaterThan(bare.prompt_eval_count! + 5)
  })

  it('ends with done_reason stop at a stop sequence, before it', async () => {
    const full = textOf(await generate(backend, 'rain and sun', { num_predict: 30 }))
    const stop = full.slice(10, 13)
    const parts = await generate(backend, 'rain and sun', { num_predict: 30, stop: [stop] })
    expect(parts.at(-1)).toMatchObject({ done: true, done_reason: 'stop' })
    expect(textOf(parts)).toBe(full.slice(0, full.indexOf(stop)))
  })

  it('stops mid-generation on abort, throws the reason, and frees the sequence', async () => {
    const controller = new AbortController()
    const seen: string[] = []
    const stream = backend.generate(
      { model: 'tiny', prompt: 'a long one', stream: true, options: { seed: 1, num_predict: 400 } },
      { signal: controller.signal },
    )
    const run = (async () => {
      for await (const part of stream) {
        seen.push(part.response)
        if (seen.length === 3) controller.abort(new Error('enough'))
      }
    })()
    await expect(run).rejects.toThrow('enough')
    expect(seen.length).toBeGreaterThanOrEqual(3)
    expect(seen.length).toBeLessThan(50)
    // The only sequence is free again.
    expect((await generate(backend, 'after', { num_predict: 2 })).at(-1)).toMatchObject({
      done_reason: 'length',
    })
  })

  it('stops generating when the consumer breaks out of the loop', async () => {
    let count = 0
    for await (const _part of backend.generate({
      model: 'tiny',
      prompt: 'go on',
      stream: true,
      options: { num_predict: 400 },
    })) {
      if (++count === 2) break
    }
    expect((await generate(backend, 'after', { num_predict: 2 })).at(-1)).toMatchObject({ done: true })
  })

  it('follows a JSON schema given as format', async () => {
    const format = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] }
    const parts = await collect(
      backend.generate({
        model: 'tiny',
        prompt: 'ok?',
        format,
        stream: true,
        options: { seed: 3, num_predict: 40 },
      }),
    )
    expect(parts.at(-1)).toMatchObject({ done_reason: 'stop' })
    expect(typeof JSON.parse(textOf(parts as GenerateResponse[])).ok).toBe('boolean')
  })

  it('generates without a template when raw', async () => {
    const raw = await collect(
      backend.generate({
        model: 'tiny',
        prompt: 'hello',
        raw: true,
        stream: true,
        options: { seed: 1, num_predict: 4 },
      }),
    )
    const templated = (await generate(backend, 'hello', { num_predict: 4 })).at(-1)!
    expect(raw.at(-1)).toMatchObject({ done_reason: 'length', eval_count: 4 })
    expect(raw.at(-1)!.prompt_eval_count).toBeLessThan(templated.prompt_eval_count!)
  })
})

describe('LlamaBackend with K sequences', () => {
  it('generates K records at once in one context, and queues the ones beyond K', async () => {
    const backend = new LlamaBackend({ model: tinyModelPath(), sequences: 3, threads: 1, gpu: false })
    try {
      const order: number[] = []
      const runs = [0, 1, 2, 3].map(async (index) => {
        const parts: Part[] = []
        for await (const part of backend.generate({
          model: 'tiny',
          prompt: `record ${index}`,
          stream: true,
          options: { seed: index, num_predict: 16 },
        })) {
          order.push(index)
          parts.push(part)
        }
        return parts
      })
      const results = await Promise.all(runs)
      for (const parts of results) expect(parts.at(-1)).toMatchObject({ done: true, eval_count: 16 })
      // The first three interleave token by token; the fourth starts when a sequence is free.
      const firstEnd = Math.min(...[0, 1, 2].map((index) => order.lastIndexOf(index)))
      const beforeFirstEnd = new Set(order.slice(0, firstEnd))
      expect([...beforeFirstEnd].sort()).toEqual([0, 1, 2])
      expect(order.indexOf(3)).toBeGreaterThan(order.indexOf(0))
    } finally {
      await backend.close()
    }
  })
})
