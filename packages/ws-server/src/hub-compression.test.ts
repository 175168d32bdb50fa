import { afterEach, describe, expect, it } from 'vitest'
import { createHub, type Hub } from './hub.ts'
import {
  jobEvents,
  readMetrics,
  TestProducer,
  TestViewer,
  tokensOf,
  type ViewerOptions,
} from './testing/support.ts'

const hubs: Hub[] = []
const sockets: { close(): unknown }[] = []

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close()
  await Promise.all(hubs.splice(0).map((hub) => hub.close()))
})

async function startHub(options: Parameters<typeof createHub>[0] = {}): Promise<Hub> {
  const hub = await createHub({ port: 0, ...options })
  hubs.push(hub)
  return hub
}

function viewer(hub: Hub, options: ViewerOptions): TestViewer {
  const client = TestViewer.connect(hub.url, '', options)
  sockets.push(client)
  return client
}

/** Publishes a job of 6 records × 300 tokens in frames of 50 events, and waits until every viewer has it whole. */
async function streamJob(hub: Hub, viewers: TestViewer[]): Promise<string[]> {
  await Promise.all(viewers.map((each) => each.waitFor(() => each.hubId !== undefined)))
  const records = Array.from({ length: 6 }, (_, index) => ({
    id: `r${index}`,
    tokens: tokensOf(`wört-${index}-`, 300),
  }))
  const events = jobEvents('job-z', records)
  const producer = new TestProducer(hub.url)
  sockets.push(producer)
  await producer.opened
  for (let index = 0; index < events.length; index += 50) producer.send(events.slice(index, index + 50))
  await Promise.all(viewers.map((each) => each.waitFor(() => each.state.jobs['job-z']?.status === 'done')))
  return records.map((record) => record.tokens.join(''))
}

describe('createHub: ticks compressed once', () => {
  it('sends each tick compressed to the viewers that offered permessage-deflate, plain to the others', async () => {
    const hub = await startHub({ compression: true })
    const plain = viewer(hub, { perMessageDeflate: false })
    const deflating = viewer(hub, {})
    // A viewer that asks for a smaller window than the hub compresses with gets plain ticks.
    const smallWindow = viewer(hub, { perMessageDeflate: { serverMaxWindowBits: 10 } })
    const texts = await streamJob(hub, [plain, deflating, smallWindow])
    for (const each of [plain, deflating, smallWindow]) {
      expect(texts.map((_, index) => each.text('job-z', `r${index}`))).toEqual(texts)
      expect(each.events.map((event) => event.sequence)).toEqual(plain.events.map((event) => event.sequence))
    }
    expect([plain, deflating, smallWindow].map((each) => each.socket.extensions)).toEqual([
      '',
      'permessage-deflate',
      'permessage-deflate',
    ])
    const metrics = await readMetrics(hub.url)
    expect(metrics.get('spout_hub_frames_compressed_total')).toBeGreaterThan(0)
    const bytes = [plain, deflating, smallWindow].map((each) => each.wire?.bytesRead ?? Number.NaN)
    expect(bytes[1]).toBeLessThan(bytes[0]! / 3)
    expect(bytes[2]).toBeGreaterThan(bytes[0]! * 0.9)
  })

  it('compresses nothing by default, and agrees on no extension', async () => {
    const hub = await startHub()
    const plain = viewer(hub, { perMessageDeflate: false })
    const offering = viewer(hub, {})
    const texts = await streamJob(hub, [plain, offering])
    expect(texts.map((_, index) => offering.text('job-z', `r${index}`))).toEqual(texts)
    expect(offering.socket.extensions).toBe('')
    expect((await readMetrics(hub.url)).get('spout_hub_frames_compressed_total')).toBe(0)
    expect(offering.wire?.bytesRead).toBeGreaterThan((plain.wire?.bytesRead ?? 0) * 0.9)
  })
})
