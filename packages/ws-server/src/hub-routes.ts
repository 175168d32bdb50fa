import type { IncomingMessage, ServerResponse } from 'node:http'
import { hostAllowed } from './access.ts'
import type { JobStore } from './job-store.ts'
import { formatMetrics, type HubMetrics } from './metrics.ts'
import type { ResolvedHubOptions } from './options.ts'
import type { StaticFiles } from './static-files.ts'
import type { ViewerFanOut } from './viewer-fanout.ts'

/** What the hub's HTTP routes read of the running hub. */
export interface HubRoutesContext {
  readonly options: ResolvedHubOptions
  readonly hubId: string
  readonly startedAt: number
  readonly metrics: HubMetrics
  readonly store: JobStore
  readonly fanOut: ViewerFanOut
  readonly staticFiles: StaticFiles | undefined
  closing(): boolean
  producers(): number
  /** The viewers' tick right now, ms (it follows the fan-out's cost). */
  tickMs(): number
}

/**
 * The hub's plain HTTP side: `/healthz`, `/metrics`, a 426 on the WebSocket endpoints, the viewer
 * build (with `staticDir`), else 404. A request with a `Host` the hub does not answer to gets 403.
 */
export async function handleHubRequest(
  context: HubRoutesContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const { options } = context
  if (!hostAllowed(request, options.loopback, options.allowedHosts)) {
    response.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' })
    response.end('forbidden host\n')
    return
  }
  const url = new URL(request.url ?? '/', 'http://hub.invalid')
  switch (url.pathname) {
    case '/healthz':
      return health(context, response)
    case '/metrics':
      return metrics(context, response)
    case '/ws':
    case '/publish':
      response.writeHead(426, { upgrade: 'websocket', 'content-type': 'text/plain; charset=utf-8' })
      response.end('this endpoint takes WebSocket connections\n')
      return
  }
  if (context.staticFiles) {
    await context.staticFiles.handle(request, response, url.pathname)
    return
  }
  response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
  response.end('not found: this hub serves no viewer build (start it with staticDir)\n')
}

function health(context: HubRoutesContext, response: ServerResponse): void {
  const closing = context.closing()
  const body = JSON.stringify({
    status: closing ? 'closing' : 'ok',
    hubId: context.hubId,
    uptimeSeconds: Math.round((Date.now() - context.startedAt) / 1000),
    viewers: context.fanOut.viewers.size,
    producers: context.producers(),
  })
  response.writeHead(closing ? 503 : 200, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  })
  response.end(body)
}

function metrics(context: HubRoutesContext, response: ServerResponse): void {
  const { store, fanOut } = context
  const counts = store.jobCounts()
  const body = formatMetrics(context.metrics, {
    viewers: fanOut.viewers.size,
    viewersBehind: fanOut.behind,
    viewerBufferedBytes: fanOut.bufferedBytes(),
    producers: context.producers(),
    jobsRunning: counts.running,
    jobsFinished: counts.finished,
    recordsHeld: store.recordsHeld,
    historyEvents: store.historyLength,
    historyBytes: store.historyBytes,
    tickMs: context.tickMs(),
  })
  response.writeHead(200, {
    'content-type': 'text/plain; version=0.0.4; charset=utf-8',
    'cache-control': 'no-store',
  })
  response.end(body)
}
