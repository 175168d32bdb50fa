// The official `openai` package is the judge of the `/v1` routes, as ollama-js is of `/api`.
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Simulator, startSimulator } from './server.ts'
import { rawRequest } from './testing/support.ts'

let sim: Simulator
let openai: OpenAI

beforeAll(async () => {
  sim = await startSimulator({ numParallel: 4 })
  openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'ollama', maxRetries: 0 })
})
afterAll(async () => {
  await sim.close()
})

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
}

/** Reads a streamed chat: the text, the reasoning, the tool calls by index, the finish reason, the usage. */
async function readChat(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
  let content = ''
  let reasoning = ''
  let finish: string | null = null
  let usage: OpenAI.CompletionUsage | null | undefined
  let chunks = 0
  const calls: Array<{ id?: string; name: string; arguments: string }> = []
  for await (const chunk of stream) {
    chunks += 1
    if (chunk.usage) usage = chunk.usage
    const choice = chunk.choices[0]
    if (!choice) continue
    content += choice.delta.content ?? ''
    reasoning += (choice.delta as { reasoning?: string }).reasoning ?? ''
    for (const call of choice.delta.tool_calls ?? []) {
      calls[call.index] ??= { name: '', arguments: '' }
      const slot = calls[call.index]!
      if (call.id) slot.id = call.id
      slot.name += call.function?.name ?? ''
      slot.arguments += call.function?.arguments ?? ''
    }
    if (choice.finish_reason) finish = choice.finish_reason
  }
  return { content, reasoning, calls, finish, usage, chunks }
}

describe('/v1 through the openai package', () => {
  it('streams a chat with usage, the same text /api/chat streams', async () => {
    const messages = [
      { role: 'system' as const, content: 'Be brief.' },
      { role: 'user' as const, content: 'Why is the sky blue?' },
    ]
    const expected = sim.expectedResponse({ model: 'llama3.2', messages })
    const read = await readChat(
      await openai.chat.completions.create({
        model: 'llama3.2',
        messages,
        stream: true,
        stream_options: { include_usage: true },
      }),
    )
    expect(read.content).toBe(expected.response)
    expect(read.finish).toBe(expected.doneReason)
    expect(read.usage?.completion_tokens).toBe(expected.tokens.length)
    expect(read.usage!.prompt_tokens).toBeGreaterThan(0)
    expect(read.usage!.total_tokens).toBe(read.usage!.prompt_tokens + read.usage!.completion_tokens)
    // One event per token, the finish event, the usage event.
    expect(read.chunks).toBe(expected.tokens.length + 2)
  })

  it('streams without a usage event unless asked, and caps with max_tokens (finish_reason length)', async () => {
    const read = await readChat(
      await openai.chat.completions.create({
        model: 'llama3.2',
        messages: [{ role: 'user', content: 'Count.' }],
        stream: true,
        max_tokens: 3,
      }),
    )
    expect(read.usage).toBeUndefined()
    expect(read.finish).toBe('length')
    expect(read.content).toBe(
      sim.expectedResponse({
        model: 'llama3.2',
        messages: [{ role: 'user', content: 'Count.' }],
        options: { num_predict: 3 },
      }).response,
    )
  })

  it('answers a chat in one object when not streamed', async () => {
    const messages = [{ role: 'user' as const, content: 'Hello there' }]
    const completion = await openai.chat.completions.create({ model: 'llama3.2', messages })
    const expected = sim.expectedResponse({ model: 'llama3.2', messages })
    expect(completion.object).toBe('chat.completion')
    expect(completion.id).toMatch(/^chatcmpl-\d+$/)
    expect(completion.choices[0]?.message.content).toBe(expected.response)
    expect(completion.choices[0]?.finish_reason).toBe('stop')
    expect(completion.usage?.completion_tokens).toBe(expected.tokens.length)
  })

  it('streams reasoning as delta.reasoning and tool calls whole, finishing with tool_calls', async () => {
    const messages = [{ role: 'user' as const, content: 'Weather in Paris?' }]
    const thought = await readChat(
      await openai.chat.completions.create({ model: 'qwen3', messages, stream: true }),
    )
    const expected = sim.expectedResponse({ model: 'qwen3', messages })
    expect(thought.reasoning).toBe(expected.thinking)
    expect(thought.reasoning).not.toBe('')
    expect(thought.content).toBe(expected.response)

    const called = await readChat(
      await openai.chat.completions.create({ model: 'qwen3', messages, tools: [weatherTool], stream: true }),
    )
    const toolCall = sim.expectedResponse({ model: 'qwen3', messages, tools: [weatherTool] }).toolCalls[0]!
    expect(called.finish).toBe('tool_calls')
    expect(called.calls).toHaveLength(1)
    expect(called.calls[0]!.id).toBe(toolCall.id)
    expect(called.calls[0]!.name).toBe('get_weather')
    expect(JSON.parse(called.calls[0]!.arguments)).toEqual(toolCall.function.arguments)
  })

  it('serves /v1/completions streamed and not, the same text /api/generate gives', async () => {
    const expected = sim.expectedResponse({ model: 'llama3.2', prompt: 'Tell me a story' })
    let text = ''
    let usage: OpenAI.CompletionUsage | undefined
    let finish: string | null = null
    const stream = await openai.completions.create({
      model: 'llama3.2',
      prompt: 'Tell me a story',
      stream: true,
      stream_options: { include_usage: true },
    })
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? ''
      finish = chunk.choices[0]?.finish_reason ?? finish
      if (chunk.usage && chunk.usage.total_tokens > 0) usage = chunk.usage
    }
    expect(text).toBe(expected.response)
    expect(finish).toBe('stop')
    expect(usage?.completion_tokens).toBe(expected.tokens.length)
    const whole = await openai.completions.create({ model: 'llama3.2', prompt: 'Tell me a story' })
    expect(whole.object).toBe('text_completion')
    expect(whole.choices[0]?.text).toBe(expected.response)
  })

  it('lists the models', async () => {
    const ids: string[] = []
    for await (const model of openai.models.list()) {
      expect(model).toMatchObject({ object: 'model', owned_by: 'library' })
      ids.push(model.id)
    }
    expect(ids).toEqual(['llama3.2:latest', 'qwen3:latest', 'nomic-embed-text:latest'])
  })

  it('turns errors into the OpenAI error object: unknown model 404, busy 503, bad request 400', async () => {
    const missing = await openai.chat.completions
      .create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] })
      .catch((error: unknown) => error)
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError)
    expect((missing as InstanceType<typeof OpenAI.NotFoundError>).message).toContain("model 'nope' not found")
    const busy = await openai.completions
      .create({ model: 'llama3.2', prompt: '[sim:fault=http-503] x', stream: true })
      .catch((error: unknown) => error)
    expect(busy).toBeInstanceOf(OpenAI.APIError)
    expect((busy as InstanceType<typeof OpenAI.APIError>).status).toBe(503)
    const empty = await openai.chat.completions
      .create({ model: 'llama3.2', messages: [] })
      .catch((error: unknown) => error)
    expect(empty).toBeInstanceOf(OpenAI.BadRequestError)
    expect((empty as Error).message).toContain("[] is too short - 'messages'")
  })

  it('a mid-stream error arrives as an error event the package throws, after the text before it', async () => {
    let text = ''
    const error = await (async () => {
      const stream = await openai.chat.completions.create({
        model: 'llama3.2',
        messages: [{ role: 'user', content: '[sim:fault=midstream-error,after=3] go' }],
        stream: true,
      })
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    })().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect((error as Error).message).toContain('an error was encountered while running the model')
    expect(text).not.toBe('')
  })

  it('keeps the text whatever the chunking (byte, random, coalesce)', async () => {
    for (const chunking of ['byte', 'random', 'coalesce']) {
      const messages = [{ role: 'user' as const, content: `[sim:chunking=${chunking}] Hi ${chunking}` }]
      const read = await readChat(
        await openai.chat.completions.create({ model: 'llama3.2', messages, stream: true }),
      )
      expect(read.content).toBe(sim.expectedResponse({ model: 'llama3.2', messages }).response)
    }
  })
})

describe('/v1 wire', () => {
  it('writes data events, a usage event without choices, then [DONE], as text/event-stream', async () => {
    const reply = await rawRequest(sim.url, '/v1/chat/completions', {
      body: {
        model: 'llama3.2',
        messages: [{ role: 'user', content: '[sim:tokens=2] hi' }],
        stream: true,
        stream_options: { include_usage: true },
      },
    })
    expect(reply.status).toBe(200)
    expect(reply.headers['content-type']).toBe('text/event-stream')
    const events = reply.text.split('\n\n')
    expect(events.pop()).toBe('')
    expect(events.pop()).toBe('data: [DONE]')
    const objects = events.map((event) => JSON.parse(event.replace(/^data: /, '')))
    expect(objects).toHaveLength(4)
    expect(Object.keys(objects[0])).toEqual([
      'id',
      'object',
      'created',
      'model',
      'system_fingerprint',
      'choices',
    ])
    expect(objects[0].choices[0]).toMatchObject({
      index: 0,
      delta: { role: 'assistant' },
      finish_reason: null,
    })
    expect(objects[2].choices[0]).toEqual({
      index: 0,
      delta: { role: 'assistant', content: '' },
      finish_reason: 'stop',
    })
    expect(objects[3].choices).toEqual([])
    expect(objects[3].usage.completion_tokens).toBe(2)
  })

  it('answers errors as {"error":{message,type,param,code}} with application/json', async () => {
    const reply = await rawRequest(sim.url, '/v1/completions', { body: { model: 'nope', prompt: 'x' } })
    expect(reply.status).toBe(404)
    expect(reply.headers['content-type']).toBe('application/json')
    expect(JSON.parse(reply.text)).toEqual({
      error: { message: "model 'nope' not found", type: 'not_found_error', param: null, code: null },
    })
  })
})
