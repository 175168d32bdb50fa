import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { TickFrames, textFrame } from './text-frame.ts'

let server: Server | undefined

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined))
  server = undefined
})

/**
 * A server that writes `payloads`, framed by `frame`, straight to the upgraded connection. `deflate`:
 * it negotiates `permessage-deflate` as the hub does (no context takeover; `ws` compresses nothing).
 */
async function serveFramed(
  payloads: string[],
  frame: (payload: Buffer) => Buffer = (payload) => textFrame(payload),
  deflate = false,
): Promise<string> {
  const perMessageDeflate = deflate && { serverNoContextTakeover: true, threshold: Number.POSITIVE_INFINITY }
  const sockets = new WebSocketServer({ noServer: true, perMessageDeflate })
  server = createServer()
  server.on('upgrade', (request, socket, head) => {
    sockets.handleUpgrade(request, socket, head, (webSocket) => {
      for (const payload of payloads) (socket as Socket).write(frame(Buffer.from(payload)))
      webSocket.send('ws after the raw frames')
    })
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** Reads every message until the one `ws` sent after the raw frames. */
function readAll(client: WebSocket, count: number): Promise<string[]> {
  const received: string[] = []
  return new Promise((resolve, reject) => {
    client.on('message', (data, binary) => {
      expect(binary).toBe(false)
      received.push(String(data))
      if (received.length === count) resolve(received)
    })
    client.on('error', reject)
  })
}

// 7-bit, 16-bit and 64-bit lengths, at and around their edges; UTF-8 counted in bytes.
const payloads = [
  '',
  'a',
  'x'.repeat(125),
  'é'.repeat(63),
  'y'.repeat(126),
  'z'.repeat(65_535),
  'w'.repeat(70_000),
]

describe('textFrame', () => {
  it('frames payloads of each length encoding so a ws client reads them whole and in order', async () => {
    const client = new WebSocket(await serveFramed(payloads))
    const received = await readAll(client, payloads.length + 1)
    client.close()
    expect(received).toEqual([...payloads, 'ws after the raw frames'])
  })
})

describe('TickFrames', () => {
  // A tick's events: JSON, repetitive keys, some UTF-8; and one larger than the 16-bit length.
  const tick = (count: number) =>
    JSON.stringify(
      Array.from({ length: count }, (_, seq) => ({
        type: 'chunk',
        jobId: 'j',
        recordId: 'r',
        seq,
        text: ` mot ${seq} é🙂`,
      })),
    )
  const ticks = [...payloads, tick(3), tick(40), tick(2000)]

  it('compresses once what a client that negotiated permessage-deflate inflates whole and in order', async () => {
    const client = new WebSocket(
      await serveFramed(ticks, (payload) => new TickFrames(payload).deflated, true),
    )
    let wire: { bytesRead: number } | undefined
    client.on('upgrade', (response) => {
      wire = response.socket
    })
    const received = await readAll(client, ticks.length + 1)
    const wireBytes = wire?.bytesRead ?? Number.NaN
    client.close()
    expect(client.extensions).toBe('permessage-deflate')
    expect(received).toEqual([...ticks, 'ws after the raw frames'])
    // The large payloads went compressed: far fewer bytes came than their text.
    expect(wireBytes).toBeLessThan(ticks.join('').length / 5)
  })

  it('sends a payload under 512 bytes as it is, and frames each form once', () => {
    const small = new TickFrames(Buffer.from(tick(3)))
    expect(small.deflated).toBe(small.plain)
    expect(small.plain[0]).toBe(0x81)
    const large = new TickFrames(Buffer.from(tick(40)))
    expect(large.deflated).toBe(large.deflated)
    expect(large.deflated[0]).toBe(0xc1) // FIN, RSV1, text
    expect(large.deflated.length).toBeLessThan(large.plain.length / 3)
  })
})
