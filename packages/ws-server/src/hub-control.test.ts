import type { ControlCommand, HubControlFrame, HubErrorFrame, SpoutEvent } from '@spout/core/events'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createHub, type Hub } from './hub.ts'
import { TestProducer } from './testing/support.ts'

let hub: Hub | undefined
afterEach(async () => {
  await hub?.close()
  hub = undefined
})

const start: SpoutEvent = { type: 'job-start', jobId: 'j1', name: 'n', model: 'm', host: 'h', startedAt: 't' }

/** A viewer socket that keeps every non-event frame it gets. */
function controller(base: string, query: string) {
  const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/ws${query}`)
  const frames: (HubControlFrame | HubErrorFrame)[] = []
  socket.on('message', (data) => {
    const frame = JSON.parse(String(data)) as { type?: string }
    if (frame.type === 'hub-control' || frame.type === 'hub-error') frames.push(frame as HubControlFrame)
  })
  const opened = new Promise<void>((resolve) => socket.once('open', () => resolve()))
  return { socket, frames, opened }
}

const until = async (check: () => boolean) => {
  for (let tries = 0; !check(); tries++) {
    if (tries > 500) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe('the control channel', () => {
  it("forwards a controlling viewer's command to the job's producer", async () => {
    hub = await createHub({ port: 0, controlToken: 'k' })
    const producer = new TestProducer(hub.url)
    const commands: ControlCommand[] = []
    producer.socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type?: string }
      if (frame.type === 'control') commands.push(frame as ControlCommand)
    })
    await producer.opened
    producer.send([start])
    const viewer = controller(hub.url, '?control=k')
    await viewer.opened
    await until(() => viewer.frames.length > 0)
    expect(viewer.frames[0]).toEqual({ type: 'hub-control', allowed: true })
    // The job's producer is known once its events arrived: keep asking until it is.
    const command: ControlCommand = { type: 'control', action: 'stop-record', jobId: 'j1', recordId: 'r7' }
    viewer.socket.send(JSON.stringify(command))
    await until(() => commands.length > 0 || viewer.frames.length > 1)
    expect(commands).toEqual([command])
    viewer.socket.send(JSON.stringify({ type: 'control', action: 'stop-job', jobId: 'nope' }))
    viewer.socket.send(JSON.stringify({ type: 'control', action: 'explode', jobId: 'j1' }))
    await until(() => viewer.frames.length >= 3)
    expect(viewer.frames.slice(1).map((frame) => (frame as HubErrorFrame).code)).toEqual([
      'control-no-producer',
      'control-invalid',
    ])
    viewer.socket.close()
    await producer.close()
  })

  it('ignores commands from a viewer without the right token, and says why', async () => {
    hub = await createHub({ port: 0, controlToken: 'k' })
    const producer = new TestProducer(hub.url)
    let forwarded = 0
    producer.socket.on('message', (data) => {
      if (String(data).includes('"control"')) forwarded += 1
    })
    await producer.opened
    producer.send([start])
    const wrong = controller(hub.url, '?control=guess')
    const plain = controller(hub.url, '')
    await Promise.all([wrong.opened, plain.opened])
    await until(() => wrong.frames.length > 0)
    expect(wrong.frames[0]).toEqual({ type: 'hub-control', allowed: false, reason: 'wrong control token' })
    for (const viewer of [wrong, plain])
      viewer.socket.send(JSON.stringify({ type: 'control', action: 'stop-job', jobId: 'j1' }))
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(forwarded).toBe(0)
    expect(plain.frames).toEqual([])
    wrong.socket.close()
    plain.socket.close()
    await producer.close()
  })

  it('is off on a hub without a control token', async () => {
    hub = await createHub({ port: 0 })
    const viewer = controller(hub.url, '?control=k')
    await viewer.opened
    await until(() => viewer.frames.length > 0)
    expect(viewer.frames[0]).toMatchObject({ type: 'hub-control', allowed: false })
    viewer.socket.close()
  })
})
