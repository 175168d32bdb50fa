import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'

/** One generate/chat request that went through the proxy. */
export interface LoggedRequest {
  path: string
  /** The generate prompt, or the content of the chat request's last message. */
  prompt: string
  /** The proxy's `round` when the request arrived. */
  round: number
  /** The whole reply, up to the `done: true` object, reached the client. */
  completed: boolean
  /** When the request arrived (`Date.now()`). */
  startedAt: number
  /** When the exchange ended (`Date.now()`): the reply sent, or the connection closed. */
  endedAt?: number
}

/** An HTTP proxy in front of the simulator that logs every generation request by prompt. */
export interface RequestLogProxy {
  readonly url: string
  readonly requests: LoggedRequest[]
  /** Stamped on the requests that arrive from now on (e.g. the number of the CLI run). */
  round: number
  close(): Promise<void>
}

function promptOf(path: string, body: Buffer): string {
  try {
    const value = JSON.parse(body.toString('utf8')) as {
      prompt?: unknown
      messages?: { content?: unknown }[]
    }
    if (path === '/api/chat') {
      const last = value.messages?.at(-1)?.content
      return typeof last === 'string' ? last : ''
    }
    return typeof value.prompt === 'string' ? value.prompt : ''
  } catch {
    return ''
  }
}

/**
 * Starts the proxy on 127.0.0.1 (port 0). It forwards everything to `target` byte for byte and cancels
 * the upstream request when the client goes away (so a killed client cancels at the simulator too).
 */
export async function startRequestLogProxy(target: string): Promise<RequestLogProxy> {
  const upstream = new URL(target)
  const requests: LoggedRequest[] = []
  const proxy = { round: 0 }

  const forward = (incoming: IncomingMessage, outgoing: ServerResponse, body: Buffer): void => {
    const path = (incoming.url ?? '/').split('?')[0]!
    const logged: LoggedRequest | undefined =
      path === '/api/generate' || path === '/api/chat'
        ? { path, prompt: promptOf(path, body), round: proxy.round, completed: false, startedAt: Date.now() }
        : undefined
    if (logged) requests.push(logged)
    const headers: OutgoingHttpHeaders = { ...incoming.headers, host: upstream.host }
    const upstreamRequest = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers,
      },
      (upstreamResponse) => {
        outgoing.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers)
        let tail = ''
        let sawDone = false
        upstreamResponse.on('data', (chunk: Buffer) => {
          if (logged && !sawDone) {
            const text = tail + chunk.toString('utf8')
            if (/"done"\s*:\s*true/.test(text)) sawDone = true
            tail = text.slice(-32)
          }
          outgoing.write(chunk)
        })
        upstreamResponse.on('end', () => {
          outgoing.end(() => {
            if (logged && sawDone && (upstreamResponse.statusCode ?? 500) < 400) logged.completed = true
          })
        })
        upstreamResponse.on('error', () => outgoing.destroy())
      },
    )
    upstreamRequest.on('error', () => outgoing.destroy())
    outgoing.on('close', () => {
      if (logged) logged.endedAt = Date.now()
      if (!outgoing.writableFinished) upstreamRequest.destroy()
    })
    upstreamRequest.end(body)
  }

  const server = createServer((incoming, outgoing) => {
    const parts: Buffer[] = []
    incoming.on('data', (chunk: Buffer) => parts.push(chunk))
    incoming.on('end', () => forward(incoming, outgoing, Buffer.concat(parts)))
    incoming.on('error', () => outgoing.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get round() {
      return proxy.round
    },
    set round(value: number) {
      proxy.round = value
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/**
 * Whether a request for `prompt` was in flight at `time`: it had arrived, and had not ended more than
 * `graceMs` before (a reply just sent whose line its worker had not handed back yet still counts).
 */
export function askedAround(
  requests: readonly LoggedRequest[],
  prompt: string,
  time: number,
  graceMs = 1000,
): boolean {
  return requests.some(
    (request) =>
      request.prompt === prompt &&
      request.startedAt <= time &&
      (request.endedAt === undefined || request.endedAt > time - graceMs),
  )
}
