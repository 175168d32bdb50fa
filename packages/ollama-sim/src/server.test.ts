import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Simulator, startSimulator } from './server.ts'
import { parseLines, rawRequest, streamedText } from './testing/support.ts'
import { expectedResponse } from './text.ts'

let sim: Simulator

beforeAll(async () => {
  sim = await startSimulator()
})
afterAll(async () => {
  await sim.close()
})

const jsonType = 'application/json; charset=utf-8'
const createdAt = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/
const metricKeys = [
  'total_duration',
  'load_duration',
  'prompt_eval_count',
  'prompt_eval_duration',
  'eval_count',
  'eval_duration',
]

describe('plain endpoints', () => {
  it('GET / answers "Ollama is running"', async () => {
    const reply = await rawRequest(sim.url, '/')
    expect(reply.status).toBe(200)
    expect(reply.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(reply.text).toBe('Ollama is running')
  })

  it("unknown paths get gin's 404 and wrong methods its 405, as text/plain", async () => {
    const missing = await rawRequest(sim.url, '/api/nothing')
    expect([missing.status, missing.headers['content-type'], missing.text]).toEqual([
      404,
      'text/plain',
      '404 page not found',
    ])
    const wrong = await rawRequest(sim.url, '/api/generate')
    expect([wrong.status, wrong.headers['content-type'], wrong.text]).toEqual([
      405,
      'text/plain',
      '405 method not allowed',
    ])
  })

  it('HEAD on GET routes answers headers only', async () => {
    const reply = await rawRequest(sim.url, '/api/tags', { method: 'HEAD' })
    expect([reply.status, reply.headers['content-type'], reply.text]).toEqual([200, jsonType, ''])
  })

  it('refuses an unknown simulator-wide fault', async () => {
    await expect(startSimulator({ fault: { name: 'explode' as never } })).rejects.toThrow(RangeError)
  })

  it("version, tags, ps and show have Ollama's shapes and key order", async () => {
    const version = await rawRequest(sim.url, '/api/version')
    expect(version.headers['content-type']).toBe(jsonType)
    expect(version.text).toBe('{"version":"0.12.6"}')

    const tags = JSON.parse((await rawRequest(sim.url, '/api/tags')).text) as {
      models: Array<Record<string, unknown>>
    }
    expect(tags.models.map((model) => model.name)).toEqual([
      'llama3.2:latest',
      'qwen3:latest',
      'nomic-embed-text:latest',
    ])
    expect(Object.keys(tags.models[0]!)).toEqual([
      'name',
      'model',
      'modified_at',
      'size',
      'digest',
      'details',
      'capabilities',
    ])
    expect(Object.keys(tags.models[0]!.details as object)).toEqual([
      'parent_model',
      'format',
      'family',
      'families',
      'parameter_size',
      'quantization_level',
    ])
    expect(tags.models[0]!.digest).toMatch(/^[0-9a-f]{64}$/)

    const show = await rawRequest(sim.url, '/api/show', { body: { model: 'qwen3' } })
    expect(show.status).toBe(200)
    const shown = JSON.parse(show.text) as Record<string, unknown>
    expect(Object.keys(shown)).toEqual([
      'modelfile',
      'parameters',
      'template',
      'details',
      'model_info',
      'capabilities',
      'modified_at',
    ])
    expect(shown.capabilities).toEqual(['completion', 'thinking', 'tools'])
    expect(show.text).toContain('\\u003c|im_start|\\u003e')
    const infoKeys = Object.keys(shown.model_info as object)
    expect(infoKeys).toEqual([...infoKeys].sort())

    const missing = await rawRequest(sim.url, '/api/show', { body: { model: 'nope' } })
    expect([missing.status, missing.text]).toEqual([404, '{"error":"model \'nope\' not found"}'])
    const noModel = await rawRequest(sim.url, '/api/show', { body: {} })
    expect([noModel.status, noModel.text]).toEqual([400, '{"error":"model is required"}'])
  })

  it('ps lists models once used, and keep_alive 0 unloads them', async () => {
    await rawRequest(sim.url, '/api/generate', { body: { model: 'llama3.2' } })
    let ps = JSON.parse((await rawRequest(sim.url, '/api/ps')).text) as {
      models: Array<Record<string, unknown>>
    }
    const entry = ps.models.find((model) => model.name === 'llama3.2:latest')
    expect(entry).toBeDefined()
    expect(Object.keys(entry!)).toEqual([
      'name',
      'model',
      'size',
      'digest',
      'details',
      'expires_at',
      'size_vram',
      'context_length',
    ])
    expect(entry!.context_length).toBe(4096)
    await rawRequest(sim.url, '/api/generate', { body: { model: 'llama3.2', keep_alive: 0 } })
    ps = JSON.parse((await rawRequest(sim.url, '/api/ps')).text) as { models: Array<Record<string, unknown>> }
    expect(ps.models.find((model) => model.name === 'llama3.2:latest')).toBeUndefined()
  })

  it('embed returns one deterministic unit vector per input', async () => {
    const reply = await rawRequest(sim.url, '/api/embed', {
      body: { model: 'nomic-embed-text', input: ['a', 'b'] },
    })
    expect(reply.status).toBe(200)
    const body = JSON.parse(reply.text) as { model: string; embeddings: number[][] }
    expect(Object.keys(body)).toEqual([
      'model',
      'embeddings',
      'total_duration',
      'load_duration',
      'prompt_eval_count',
    ])
    expect(body.model).toBe('nomic-embed-text')
    expect(body.embeddings).toHaveLength(2)
    expect(body.embeddings[0]).toHaveLength(768)
    const norm = Math.hypot(...body.embeddings[0]!)
    expect(norm).toBeCloseTo(1, 4)
    const again = JSON.parse(
      (await rawRequest(sim.url, '/api/embed', { body: { model: 'nomic-embed-text', input: 'a' } })).text,
    )
    expect(again.embeddings[0]).toEqual(body.embeddings[0])
    const empty = await rawRequest(sim.url, '/api/embed', { body: { model: 'nomic-embed-text', input: [] } })
    expect(empty.text).toBe('{"model":"nomic-embed-text","embeddings":[]}')
    const bad = await rawRequest(sim.url, '/api/embed', { body: { model: 'nomic-embed-text', input: [1] } })
    expect([bad.status, bad.text]).toEqual([400, '{"error":"invalid input type"}'])
    const missing = await rawRequest(sim.url, '/api/embed', { body: { model: 'nope', input: 'a' } })
    expect([missing.status, missing.text]).toEqual([
      404,
      '{"error":"model \\"nope\\" not found, try pulling it first"}',
    ])
  })
})

describe('request errors', () => {
  it.each([
    ['missing body', '', 400, '{"error":"missing request body"}'],
    ['truncated JSON', '{"model":', 400, '{"error":"unexpected EOF"}'],
    ['bad JSON', '{"model":x}', 400, '{"error":"invalid character \'x\' looking for beginning of value"}'],
    [
      'wrong type',
      '{"model":1}',
      400,
      '{"error":"json: cannot unmarshal number into Go struct field GenerateRequest.model of type string"}',
    ],
    ['unknown model', '{"model":"nope","prompt":"x"}', 404, '{"error":"model \'nope\' not found"}'],
    ['empty model', '{"prompt":"x"}', 404, '{"error":"model \'\' not found"}'],
    [
      'think on a non-thinking model',
      '{"model":"llama3.2","prompt":"x","think":true}',
      400,
      '{"error":"\\"llama3.2\\" does not support thinking"}',
    ],
    [
      'bad think value',
      '{"model":"qwen3","prompt":"x","think":"lots"}',
      400,
      '{"error":"invalid think value: \\"lots\\" (must be \\"high\\", \\"medium\\", \\"low\\", \\"max\\", true, or false)"}',
    ],
    [
      'embedding model',
      '{"model":"nomic-embed-text","prompt":"x"}',
      400,
      '{"error":"\\"nomic-embed-text\\" does not support generate"}',
    ],
    [
      'suffix on a model without insert',
      '{"model":"llama3.2","prompt":"x","suffix":"y"}',
      400,
      '{"error":"registry.ollama.ai/library/llama3.2:latest does not support insert"}',
    ],
    [
      'top_logprobs out of range',
      '{"model":"llama3.2","prompt":"x","top_logprobs":21}',
      400,
      '{"error":"top_logprobs must be between 0 and 20"}',
    ],
    [
      'raw with system',
      '{"model":"llama3.2","prompt":"x","raw":true,"system":"s"}',
      400,
      '{"error":"raw mode does not support template, system, or context"}',
    ],
    [
      'bad keep_alive',
      '{"model":"llama3.2","prompt":"x","keep_alive":"3600"}',
      400,
      '{"error":"time: missing unit in duration \\"3600\\""}',
    ],
    ['bad directive', '{"model":"llama3.2","prompt":"[sim:fault=nope]"}', 400, undefined],
  ])('generate: %s', async (_name, rawBody, status, text) => {
    const reply = await rawRequest(sim.url, '/api/generate', { method: 'POST', rawBody })
    expect(reply.status).toBe(status)
    expect(reply.headers['content-type']).toBe(jsonType)
    if (text !== undefined) expect(reply.text).toBe(text)
    else expect(JSON.parse(reply.text)).toHaveProperty('error')
  })

  it.each([
    ['no model', { messages: [] }, 400, '{"error":"model is required"}'],
    [
      'unknown model',
      { model: 'nope', messages: [{ role: 'user', content: 'x' }] },
      404,
      '{"error":"model \'nope\' not found"}',
    ],
    [
      'tools on a model without tools',
      {
        model: 'llama3.2',
        messages: [{ role: 'user', content: 'x' }],
        tools: [{ type: 'function', function: { name: 'f' } }],
      },
      400,
      '{"error":"registry.ollama.ai/library/llama3.2:latest does not support tools"}',
    ],
    [
      'content of the wrong type',
      { model: 'llama3.2', messages: [{ role: 'user', content: 5 }] },
      400,
      '{"error":"json: cannot unmarshal number into Go struct field ChatRequest.messages.content of type string"}',
    ],
  ])('chat: %s', async (_name, body, status, text) => {
    const reply = await rawRequest(sim.url, '/api/chat', { body })
    expect([reply.status, reply.text]).toEqual([status, text])
  })
})

describe('generate and chat', () => {
  it('streams generate as NDJSON in Go key order, ending with done_reason, context and metrics', async () => {
    const prompt = 'Why is the sky blue?'
    const reply = await rawRequest(sim.url, '/api/generate', { body: { model: 'llama3.2', prompt } })
    expect(reply.status).toBe(200)
    expect(reply.headers['content-type']).toBe('application/x-ndjson')
    expect(reply.headers['transfer-encoding']).toBe('chunked')
    const lines = parseLines(reply.text)
    const expected = expectedResponse({ model: 'llama3.2', prompt })
    const chunks = lines.slice(0, -1)
    expect(chunks.map((line) => line.response)).toEqual(expected.tokens)
    for (const line of chunks) {
      expect(Object.keys(line)).toEqual(['model', 'created_at', 'response', 'done'])
      expect(line.model).toBe('llama3.2')
      expect(line.created_at).toMatch(createdAt)
      expect(line.done).toBe(false)
    }
    const final = lines.at(-1)!
    expect(Object.keys(final)).toEqual([
      'model',
      'created_at',
      'response',
      'done',
      'done_reason',
      'context',
      ...metricKeys,
    ])
    expect(final).toMatchObject({
      response: '',
      done: true,
      done_reason: 'stop',
      eval_count: expected.tokens.length,
    })
    for (const key of metricKeys) expect(final[key]).toBeGreaterThan(0)
    expect((final.context as number[]).length).toBe(
      (final.prompt_eval_count as number) + expected.tokens.length,
    )
    // Compact, one object per line, no \r.
    expect(reply.text).not.toMatch(/\r|": |, "/)
  })

  it('paces chunks at tokensPerSecond after firstTokenDelayMs (lower bounds only)', async () => {
    const paced = await startSimulator({ tokensPerSecond: 100, firstTokenDelayMs: 50 })
    try {
      const reply = await rawRequest(paced.url, '/api/generate', {
        body: { model: 'llama3.2', prompt: '[sim:tokens=11]' },
      })
      const final = parseLines(reply.text).at(-1)!
      expect(final.prompt_eval_duration).toBeGreaterThanOrEqual(45_000_000)
      expect(final.eval_duration).toBeGreaterThanOrEqual(95_000_000)
    } finally {
      await paced.close()
    }
  })

  it('leaves out context in raw mode', async () => {
    const lines = parseLines(
      (await rawRequest(sim.url, '/api/generate', { body: { model: 'llama3.2', prompt: 'x', raw: true } }))
        .text,
    )
    expect(lines.at(-1)).not.toHaveProperty('context')
  })

  it('streams thinking first, then content, for a thinking model (think on by default)', async () => {
    const prompt = 'Think about it'
    const lines = parseLines(
      (await rawRequest(sim.url, '/api/generate', { body: { model: 'qwen3', prompt } })).text,
    )
    const expected = expectedResponse({ model: 'qwen3', prompt })
    const thinking = lines.filter((line) => 'thinking' in line)
    expect(Object.keys(thinking[0]!)).toEqual(['model', 'created_at', 'response', 'thinking', 'done'])
    expect(thinking.every((line) => line.response === '')).toBe(true)
    expect(streamedText(lines, 'thinking')).toBe(expected.thinking)
    expect(streamedText(lines)).toBe(expected.response)
    expect(lines.at(-1)!.eval_count).toBe(expected.thinkingTokens.length + expected.tokens.length)
    const quiet = parseLines(
      (await rawRequest(sim.url, '/api/generate', { body: { model: 'qwen3', prompt, think: false } })).text,
    )
    expect(streamedText(quiet, 'thinking')).toBe('')
    expect(streamedText(quiet)).toBe(expected.response)
  })

  it('streams chat with message objects in Go key order and no context', async () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello there' },
    ]
    const lines = parseLines(
      (await rawRequest(sim.url, '/api/chat', { body: { model: 'qwen3:latest', messages } })).text,
    )
    const expected = expectedResponse({ model: 'qwen3', messages })
    expect(streamedText(lines)).toBe(expected.response)
    expect(streamedText(lines, 'thinking')).toBe(expected.thinking)
    const contentLine = lines.find((line) => (line.message as { content: string }).content !== '')!
    expect(Object.keys(contentLine)).toEqual(['model', 'created_at', 'message', 'done'])
    expect(contentLine.model).toBe('qwen3:latest')
    expect(Object.keys(contentLine.message as object)).toEqual(['role', 'content'])
    const thinkingLine = lines[0]!
    expect(Object.keys(thinkingLine.message as object)).toEqual(['role', 'content', 'thinking'])
    const final = lines.at(-1)!
    expect(Object.keys(final)).toEqual([
      'model',
      'created_at',
      'message',
      'done',
      'done_reason',
      ...metricKeys,
    ])
    expect(final.message).toEqual({ role: 'assistant', content: '' })
  })

  it('streams one tool-call chunk when a tools-capable model gets tools', async () => {
    const messages = [{ role: 'user', content: 'Weather in Tokyo?' }]
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        },
      },
    ]
    const lines = parseLines(
      (await rawRequest(sim.url, '/api/chat', { body: { model: 'qwen3', messages, tools, think: false } }))
        .text,
    )
    expect(lines).toHaveLength(2)
    const expected = expectedResponse({ model: 'qwen3', messages, tools, think: false })
    expect(Object.keys(lines[0]!.message as object)).toEqual(['role', 'content', 'tool_calls'])
    expect((lines[0]!.message as { tool_calls: unknown }).tool_calls).toEqual(expected.toolCalls)
    expect(lines[1]).toMatchObject({ done: true, done_reason: 'stop' })
  })

  it('answers stream:false with one aggregated object, no trailing newline', async () => {
    const prompt = 'Aggregate me'
    const reply = await rawRequest(sim.url, '/api/generate', {
      body: { model: 'qwen3', prompt, stream: false },
    })
    expect(reply.headers['content-type']).toBe(jsonType)
    expect(reply.text.endsWith('\n')).toBe(false)
    const body = JSON.parse(reply.text) as Record<string, unknown>
    const expected = expectedResponse({ model: 'qwen3', prompt })
    expect(Object.keys(body)).toEqual([
      'model',
      'created_at',
      'response',
      'thinking',
      'done',
      'done_reason',
      'context',
      ...metricKeys,
    ])
    expect(body).toMatchObject({
      response: expected.response,
      thinking: expected.thinking,
      done: true,
      done_reason: 'stop',
    })

    const messages = [{ role: 'user', content: 'Aggregate me' }]
    const chat = JSON.parse(
      (await rawRequest(sim.url, '/api/chat', { body: { model: 'llama3.2', messages, stream: false } })).text,
    )
    expect(chat.message).toEqual({
      role: 'assistant',
      content: expectedResponse({ model: 'llama3.2', messages }).response,
    })
    expect(Object.keys(chat)).toEqual([
      'model',
      'created_at',
      'message',
      'done',
      'done_reason',
      ...metricKeys,
    ])
  })

  it('streams JSON text for format, and answers an invalid format with a 500 before streaming', async () => {
    const format = { type: 'object', properties: { colour: { type: 'string' }, count: { type: 'integer' } } }
    const messages = [{ role: 'user', content: 'Colours as JSON' }]
    const lines = parseLines(
      (await rawRequest(sim.url, '/api/chat', { body: { model: 'llama3.2', messages, format } })).text,
    )
    const text = streamedText(lines)
    expect(text).toBe(expectedResponse({ model: 'llama3.2', messages, format }).response)
    expect(Object.keys(JSON.parse(text))).toEqual(['colour', 'count'])
    const invalid = await rawRequest(sim.url, '/api/generate', {
      body: { model: 'llama3.2', prompt: 'x', format: 'xml' },
    })
    expect([invalid.status, invalid.headers['content-type']]).toEqual([500, 'application/json'])
    expect(JSON.parse(invalid.text).error).toBe(
      'invalid format: "\\"xml\\""; expected "json" or a valid JSON Schema object',
    )
  })

  it('caps at num_predict with done_reason "length"', async () => {
    const lines = parseLines(
      (
        await rawRequest(sim.url, '/api/generate', {
          body: { model: 'llama3.2', prompt: 'x', options: { num_predict: 3 } },
        })
      ).text,
    )
    expect(lines).toHaveLength(4)
    expect(lines.at(-1)).toMatchObject({ done_reason: 'length', eval_count: 3 })
  })

  it('answers load and unload requests with one JSON object even when streaming was asked', async () => {
    const load = await rawRequest(sim.url, '/api/generate', { body: { model: 'llama3.2' } })
    expect(load.headers['content-type']).toBe(jsonType)
    expect(load.text).toMatch(
      /^\{"model":"llama3.2","created_at":"[^"]+","response":"","done":true,"done_reason":"load"\}$/,
    )
    const unload = await rawRequest(sim.url, '/api/generate', {
      body: { model: 'llama3.2', prompt: '', keep_alive: 0 },
    })
    expect(unload.text).toMatch(
      /^\{"model":"llama3.2","created_at":"[^"]+","response":"","done":true,"done_reason":"unload"\}$/,
    )
    const chatLoad = await rawRequest(sim.url, '/api/chat', { body: { model: 'qwen3', messages: [] } })
    expect(chatLoad.text).toMatch(
      /^\{"model":"qwen3","created_at":"[^"]+","message":\{"role":"assistant","content":""\},"done":true,"done_reason":"load"\}$/,
    )
    const chatUnload = await rawRequest(sim.url, '/api/chat', { body: { model: 'qwen3', keep_alive: '0s' } })
    expect(JSON.parse(chatUnload.text)).toMatchObject({ done: true, done_reason: 'unload' })
  })

  it('sim.expectedResponse matches what is streamed for many prompts', async () => {
    for (let index = 0; index < 10; index++) {
      const prompt = `Prompt number ${index} — with é`
      const lines = parseLines(
        (await rawRequest(sim.url, '/api/generate', { body: { model: 'qwen3', prompt } })).text,
      )
      const expected = sim.expectedResponse({ model: 'qwen3', prompt })
      expect(streamedText(lines)).toBe(expected.response)
      expect(streamedText(lines, 'thinking')).toBe(expected.thinking)
    }
  })
})

describe('pull', () => {
  it("streams Ollama's progress sequence for a known model", async () => {
    const reply = await rawRequest(sim.url, '/api/pull', { body: { model: 'llama3.2' } })
    expect(reply.headers['content-type']).toBe('application/x-ndjson')
    const lines = parseLines(reply.text)
    const statuses = lines.map((line) => line.status as string)
    expect(statuses[0]).toBe('pulling manifest')
    expect(statuses.slice(-4)).toEqual([
      'verifying sha256 digest',
      'writing manifest',
      'removing unused layers',
      'success',
    ])
    const layerLines = lines.filter(
      (line) => String(line.status).startsWith('pulling ') && line.status !== 'pulling manifest',
    )
    expect(layerLines.length).toBeGreaterThan(4)
    for (const line of layerLines) {
      expect(line.status).toBe('pulling ' + String(line.digest).slice(7, 19))
      expect(line.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
      expect(line.total).toBeGreaterThan(0)
    }
    expect(layerLines[0]).not.toHaveProperty('completed')
    expect(layerLines.some((line) => line.completed === line.total)).toBe(true)
  })

  it('ends an unknown model\'s pull with an error line after "pulling manifest"', async () => {
    const reply = await rawRequest(sim.url, '/api/pull', { body: { model: 'nope' } })
    expect(reply.status).toBe(200)
    expect(reply.text).toBe(
      '{"status":"pulling manifest"}\n{"error":"pull model manifest: file does not exist"}\n',
    )
  })

  it('answers stream:false with the last status', async () => {
    const reply = await rawRequest(sim.url, '/api/pull', { body: { model: 'qwen3', stream: false } })
    expect([reply.status, reply.headers['content-type'], reply.text]).toEqual([
      200,
      'application/json',
      '{"status":"success"}',
    ])
    const missing = await rawRequest(sim.url, '/api/pull', { body: { model: 'nope', stream: false } })
    expect([missing.status, missing.text]).toEqual([
      500,
      '{"error":"pull model manifest: file does not exist"}',
    ])
  })
})

describe('delete and copy', () => {
  it('copies and deletes models', async () => {
    const local = await startSimulator({ models: [{ name: 'tiny' }] })
    try {
      const copied = await rawRequest(local.url, '/api/copy', {
        body: { source: 'tiny', destination: 'tiny-copy' },
      })
      expect([copied.status, copied.text]).toEqual([200, ''])
      const removed = await rawRequest(local.url, '/api/delete', {
        method: 'DELETE',
        body: { model: 'tiny' },
      })
      expect(removed.status).toBe(200)
      const tags = JSON.parse((await rawRequest(local.url, '/api/tags')).text) as {
        models: Array<{ name: string }>
      }
      expect(tags.models.map((model) => model.name)).toEqual(['tiny-copy:latest'])
      const again = await rawRequest(local.url, '/api/delete', { method: 'DELETE', body: { model: 'tiny' } })
      expect([again.status, again.text]).toEqual([404, '{"error":"model \'tiny\' not found"}'])
    } finally {
      await local.close()
    }
  })
})

describe('counters', () => {
  it('counts requests per path and completed generations, and resets in place', async () => {
    const local = await startSimulator()
    try {
      const counters = local.counters
      await rawRequest(local.url, '/api/version')
      await rawRequest(local.url, '/api/generate', { body: { model: 'llama3.2', prompt: 'a' } })
      await rawRequest(local.url, '/api/chat', {
        body: { model: 'llama3.2', messages: [{ role: 'user', content: 'a' }], stream: false },
      })
      expect(counters).toMatchObject({ requests: 3, completed: 2, cancelled: 0, inFlight: 0, maxInFlight: 1 })
      expect(counters.byPath).toEqual({ '/api/version': 1, '/api/generate': 1, '/api/chat': 1 })
      local.resetCounters()
      expect(local.counters).toBe(counters)
      expect(counters).toMatchObject({ requests: 0, byPath: {}, completed: 0, maxInFlight: 0 })
    } finally {
      await local.close()
    }
  })
})
