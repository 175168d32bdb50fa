// The simulator's routes: each request counted, matched to its handler by path and method (404,
// 405 otherwise), and given an exchange whose signal aborts when the client goes away.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { handleEmbed, handleEmbeddings } from './embed.ts'
import type { Exchange, RouteHandler, SimulatorState } from './exchange.ts'
import { handleChat, handleGenerate } from './generation.ts'
import {
  handleCopy,
  handleDelete,
  handlePs,
  handleRoot,
  handleShow,
  handleTags,
  handleVersion,
} from './model-endpoints.ts'
import { handleOpenAIChat, handleOpenAICompletions, handleOpenAIModels } from './openai-endpoints.ts'
import { handlePull } from './pull.ts'
import { sendError, sendText } from './replies.ts'

type Routes = Record<string, Partial<Record<string, RouteHandler>>>

const routes: Routes = {
  '/': { GET: handleRoot, HEAD: handleRoot },
  '/api/version': { GET: handleVersion, HEAD: handleVersion },
  '/api/tags': { GET: handleTags, HEAD: handleTags },
  '/api/ps': { GET: handlePs },
  '/api/show': { POST: handleShow },
  '/api/pull': { POST: handlePull },
  '/api/generate': { POST: handleGenerate },
  '/api/chat': { POST: handleChat },
  '/api/embed': { POST: handleEmbed },
  '/api/embeddings': { POST: handleEmbeddings },
  '/api/delete': { DELETE: handleDelete },
  '/api/copy': { POST: handleCopy },
  '/v1/chat/completions': { POST: handleOpenAIChat },
  '/v1/completions': { POST: handleOpenAICompletions },
  '/v1/models': { GET: handleOpenAIModels },
}

/** The server's request listener. */
export function routeRequests(
  state: SimulatorState,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const startedAt = performance.now()
    const questionMark = request.url?.indexOf('?') ?? -1
    const path = questionMark === -1 ? (request.url ?? '/') : request.url!.slice(0, questionMark)
    state.counters.requests++
    state.counters.byPath[path] = (state.counters.byPath[path] ?? 0) + 1
    const methods = routes[path]
    if (!methods) return sendText(response, 404, '404 page not found')
    const handler = methods[request.method ?? 'GET']
    if (!handler) return sendText(response, 405, '405 method not allowed')
    const controller = new AbortController()
    let destroyedOnPurpose = false
    response.on('close', () => {
      if (!response.writableFinished && !destroyedOnPurpose) controller.abort()
    })
    const exchange: Exchange = {
      request,
      response,
      signal: controller.signal,
      startedAt,
      destroySocket: () => {
        destroyedOnPurpose = true
        const socket = request.socket
        if (socket.writableLength > 0) socket.destroySoon()
        else socket.destroy()
      },
    }
    Promise.resolve()
      .then(() => handler(exchange, state))
      .catch((error: unknown) => {
        if (response.headersSent) response.destroy()
        else sendError(response, 500, error instanceof Error ? error.message : String(error))
      })
  }
}
