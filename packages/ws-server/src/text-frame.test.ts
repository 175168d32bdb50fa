import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { textFrame } from './text-frame.ts'

let server: Server | undefined

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined))
  server = undefined
})

/** A server that writes `payloads`, framed by `textFrame`, straight to the upgraded connection. */
async function serveFramed(payloads: string[]): Promise<string> {
  const sockets = new WebSocketServer({ noServer: true, perMessageDeflate: false })
  server = createServer()
  server.on('upgrade', (request, socket, head) => {
    sockets.handleUpgrade(request, socket, head, (webSocket) => {
      for (const payload of payloads) (socket as Socket).write(textFrame(Buffer.from(payload)))
      webSocket.send('ws after the raw frames')
    })
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('textFrame', () => {
  it('frames payloads of each length encoding so a ws client reads them whole and in order', async () => {
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
    const client = new WebSocket(await serveFramed(payloads))
    const received: string[] = []
    await new Promise<void>((resolve, reject) => {
      client.on('message', (data, binary) => {
        expect(binary).toBe(false)
        received.push(String(data))
        if (received.length === payloads.length + 1) resolve()
      })
      client.on('error', reject)
    })
    client.close()
    expect(received).toEqual([...payloads, 'ws after the raw frames'])
  })
})
