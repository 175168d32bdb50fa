import { OllamaClient, runPipeline, type SpoutEvent } from '@spout/core'
import { expectedResponse, type Simulator, startSimulator } from '@spout/ollama-sim'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { broadcastSink } from './broadcast-sink.ts'
import { createHub, type Hub } from './hub.ts'
import { TestViewer } from './testing/support.ts'

const model = 'llama3.2'
const input = Array.from({ length: 8 }, (_, index) => ({
  id: `q${index}`,
  prompt: `Question number ${index}?`,
}))
const expected = new Map(
  input.map((record) => [record.id, expectedResponse({ model, prompt: record.prompt }).response]),
)

let simulator: Simulator
let client: OllamaClient
const hubs: Hub[] = []
const viewers: TestViewer[] = []

beforeAll(async () => {
  simulator = await startSimulator({ tokensPerSecond: 400 })
  client = new OllamaClient({ host: simulator.url })
})

afterAll(async () => {
  await client?.close()
  await simulator?.close()
})

afterEach(async () => {
  for (const viewer of viewers.splice(0)) viewer.close()
  await Promise.all(hubs.splice(0).map((hub) => hub.close()))
})

function watch(hub: Hub): TestViewer {
  const viewer = TestViewer.connect(hub.url)
  viewers.push(viewer)
  return viewer
}

/** Per record, the text of the chunks of its last attempt, in order. */
function chunkTexts(events: SpoutEvent[]): Map<string, string> {
  const texts = new Map<string, string>()
  for (const event of events) {
    if (event.type === 'record-start') texts.set(event.recordId, '')
    if (event.type === 'chunk') texts.set(event.recordId, (texts.get(event.recordId) ?? '') + event.text)
  }
  return texts
}

describe('broadcastSink', () => {
  it('streams a real batch to viewers: each record the concatenation of its chunks', async () => {
    const hub = await createHub({ port: 0 })
    hubs.push(hub)
    const early = watch(hub)
    await early.waitFor(() => early.snapshots.length === 1)
    const warnings: string[] = []
    const summary = await runPipeline({
      client,
      model,
      input,
      jobId: 'real-batch',
      concurrency: 3,
      plugins: [broadcastSink({ url: hub.url })],
      logger: { info: () => {}, warn: (message) => warnings.push(message) },
    })
    expect(summary.ok).toBe(input.length)
    await early.jobDone('real-batch')
    const chunks = chunkTexts(early.events)
    for (const [id, response] of expected) {
      expect(early.text('real-batch', id)).toBe(response)
      expect(chunks.get(id)).toBe(response)
    }
    const late = watch(hub)
    await late.jobDone('real-batch')
    for (const [id, response] of expected) expect(late.text('real-batch', id)).toBe(response)
    expect(warnings).toEqual([])
  })

  it('resynchronizes a hub restarted while the batch runs', async () => {
    const first = await createHub({ port: 0 })
    hubs.push(first)
    const port = first.port
    const before = watch(first)
    const warnings: string[] = []
    const running = runPipeline({
      client,
      model,
      input,
      jobId: 'restarted',
      concurrency: 2,
      plugins: [
        broadcastSink({
          url: first.url,
          reconnectDelayMs: 20,
          maxReconnectDelayMs: 100,
          flushTimeoutMs: 20_000,
        }),
      ],
      logger: { info: () => {}, warn: (message) => warnings.push(message) },
    })
    await before.waitFor(() => (before.state.jobs.restarted?.chunkCount ?? 0) >= 10, 'the first chunks')
    await first.close()
    hubs.splice(0)
    const second = await createHub({ port })
    hubs.push(second)
    const after = watch(second)
    const summary = await running
    expect(summary.ok).toBe(input.length)
    await after.jobDone('restarted')
    for (const [id, response] of expected) expect(after.text('restarted', id)).toBe(response)
    expect(after.state.jobs.restarted!.ok).toBe(input.length)
    // The job's own start came through the resync (an implicit job would be named after its id).
    expect(after.state.jobs.restarted!.name).toBe(before.state.jobs.restarted!.name)
    expect(after.state.jobs.restarted!.model).toBe(model)
    expect(warnings).toHaveLength(1)
  })
})
