import type { Exchange, SimulatorState } from './exchange.ts'
import { goString } from './json.ts'
import type { ResolvedModel } from './models.ts'
import { hashText, Random } from './random.ts'
import { sendError, sendJson, serverBusyMessage } from './replies.ts'
import { parseBody, readBody } from './request-body.ts'
import { acquireSlot, releaseSlot } from './slot.ts'
import { nanosecondsSince } from './time.ts'

/** A deterministic unit-length vector for a text (float32 precision, as Ollama returns). */
export function embeddingOf(modelName: string, text: string, dimensions: number): number[] {
  const random = new Random(hashText(modelName + '\u0000' + text))
  const vector: number[] = []
  let squares = 0
  for (let index = 0; index < dimensions; index++) {
    const value = random.next() / 0x80000000 - 1
    vector.push(value)
    squares += value * value
  }
  const norm = Math.sqrt(squares) || 1
  return vector.map((value) => Number(Math.fround(value / norm).toPrecision(8)))
}

async function withSlot<T>(exchange: Exchange, state: SimulatorState, work: () => T): Promise<T | undefined> {
  const result = await acquireSlot(state.queue, state.counters, exchange.signal)
  if (result === 'queue-full') {
    state.counters.rejected503++
    sendError(exchange.response, 503, serverBusyMessage)
    return undefined
  }
  if (result === 'aborted') return undefined
  try {
    return work()
  } finally {
    releaseSlot(state.queue, state.counters)
  }
}

function findModel(exchange: Exchange, state: SimulatorState, name: unknown): ResolvedModel | undefined {
  if (typeof name !== 'string' || name === '') {
    sendError(exchange.response, 400, 'model is required')
    return undefined
  }
  const model = state.models.find(name)
  if (!model) sendError(exchange.response, 404, `model "${name}" not found, try pulling it first`)
  return model
}

/** `POST /api/embed`: `{"model","embeddings":[[…]],"total_duration","load_duration","prompt_eval_count"}`. */
export async function handleEmbed(exchange: Exchange, state: SimulatorState): Promise<void> {
  const parsed = parseBody(await readBody(exchange.request), 'EmbedRequest', {
    model: 'string',
    input: 'any',
    truncate: 'bool',
    dimensions: 'number',
    keep_alive: 'any',
    options: 'object',
  })
  if (!parsed.ok) return sendError(exchange.response, 400, parsed.message)
  const body = parsed.body
  const model = findModel(exchange, state, body.model)
  if (!model) return
  const input = body.input
  let texts: string[]
  if (input === undefined || input === null) texts = []
  else if (typeof input === 'string') texts = input === '' ? [] : [input]
  else if (Array.isArray(input) && input.every((item) => typeof item === 'string')) texts = input as string[]
  else return sendError(exchange.response, 400, 'invalid input type')
  const modelJson = goString(body.model as string)
  state.loaded.touch(model, undefined)
  if (texts.length === 0)
    return sendJson(exchange.response, 200, '{"model":' + modelJson + ',"embeddings":[]}')
  const dimensions =
    typeof body.dimensions === 'number' && body.dimensions > 0
      ? Math.min(body.dimensions, model.embeddingLength)
      : model.embeddingLength
  const json = await withSlot(exchange, state, () => {
    const vectors = texts.map((text) => '[' + embeddingOf(model.name, text, dimensions).join(',') + ']')
    const promptEvalCount = texts.reduce((sum, text) => sum + Math.ceil(text.length / 4) + 2, 0)
    const duration = nanosecondsSince(exchange.startedAt)
    return (
      '{"model":' +
      modelJson +
      ',"embeddings":[' +
      vectors.join(',') +
      '],"total_duration":' +
      duration +
      ',"load_duration":' +
      Math.max(1, duration >> 3) +
      ',"prompt_eval_count":' +
      promptEvalCount +
      '}'
    )
  })
  if (json !== undefined) sendJson(exchange.response, 200, json)
}

/** Legacy `POST /api/embeddings`: `{"embedding":[…]}`. */
export async function handleEmbeddings(exchange: Exchange, state: SimulatorState): Promise<void> {
  const parsed = parseBody(await readBody(exchange.request), 'EmbeddingRequest', {
    model: 'string',
    prompt: 'string',
    keep_alive: 'any',
    options: 'object',
  })
  if (!parsed.ok) return sendError(exchange.response, 400, parsed.message)
  const body = parsed.body
  const model = findModel(exchange, state, body.model)
  if (!model) return
  const prompt = typeof body.prompt === 'string' ? body.prompt : ''
  state.loaded.touch(model, undefined)
  if (prompt === '') return sendJson(exchange.response, 200, '{"embedding":[]}')
  const json = await withSlot(
    exchange,
    state,
    () => '{"embedding":[' + embeddingOf(model.name, prompt, model.embeddingLength).join(',') + ']}',
  )
  if (json !== undefined) sendJson(exchange.response, 200, json)
}
