// Child process of the hub bench: runs one hub, either ours (`createHub`, defaults: validation,
// sequence numbers, history on) or a naive `ws` relay that sends each producer frame to each
// viewer as it comes. Reports its port; the bench reads its CPU time from /proc.
import type { AddressInfo } from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createHub } from '@spout/ws-server'
import { type WebSocket, WebSocketServer } from 'ws'

export type HubKind = 'hub' | 'naive'

export type ServerMessage =
  | { type: 'ready'; port: number }
  /** Event-loop delay since `start`, in milliseconds. */
  | { type: 'loop'; p99: number; max: number }

export type ServerCommand = { type: 'start' } | { type: 'stop' }

function reply(message: ServerMessage): void {
  process.send?.(message)
}

async function naiveHub(): Promise<{ port: number }> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  const viewers = new Set<WebSocket>()
  server.on('connection', (socket, request) => {
    if (request.url === '/publish') {
      socket.on('message', (data, isBinary) => {
        for (const viewer of viewers) viewer.send(data, { binary: isBinary })
      })
    } else {
      viewers.add(socket)
      socket.on('close', () => viewers.delete(socket))
    }
  })
  return { port: (server.address() as AddressInfo).port }
}

async function ourHub(): Promise<{ port: number }> {
  const hub = await createHub({ port: 0 })
  return { port: hub.port }
}

const kind = process.argv[2] as HubKind
const server = kind === 'naive' ? await naiveHub() : await ourHub()
const loopDelay = monitorEventLoopDelay({ resolution: 5 })
process.on('message', (command: ServerCommand) => {
  if (command.type === 'start') {
    loopDelay.reset()
    loopDelay.enable()
  } else {
    loopDelay.disable()
    reply({ type: 'loop', p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 })
  }
})
// The bench gone (finished or killed): go too.
process.on('disconnect', () => process.exit(0))
reply({ type: 'ready', port: server.port })
