import { waitForDrain } from './chunk-writer.ts'
import type { Exchange, SimulatorState } from './exchange.ts'
import { goJson, goString } from './json.ts'
import { type ResolvedModel, sha256Hex } from './models.ts'
import { bareJsonContentType, ndjsonContentType, sendError, sendJson } from './replies.ts'
import { parseBody, readBody } from './request-body.ts'
import { sleep } from './time.ts'

/** The error a pull of a model the registry does not have ends with. */
export const pullNotFoundMessage = 'pull model manifest: file does not exist'

interface Progress {
  status: string
  digest?: string
  total?: number
  completed?: number
}

/** The progress objects of a successful pull, in Ollama's order. */
export function pullProgress(model: ResolvedModel): Progress[] {
  const layers = [
    { digest: 'sha256:' + model.digest, size: model.size },
    { digest: 'sha256:' + sha256Hex('template:' + model.name), size: 1429 },
    { digest: 'sha256:' + sha256Hex('license:' + model.name), size: 7711 },
    { digest: 'sha256:' + sha256Hex('params:' + model.name), size: 96 },
  ]
  const progress: Progress[] = [{ status: 'pulling manifest' }]
  for (const layer of layers) {
    const status = 'pulling ' + layer.digest.slice(7, 19)
    const steps = layer.size > 1_000_000 ? 4 : 1
    progress.push({ status, digest: layer.digest, total: layer.size })
    for (let step = 1; step <= steps; step++) {
      progress.push({
        status,
        digest: layer.digest,
        total: layer.size,
        completed: Math.round((layer.size * step) / steps),
      })
    }
  }
  progress.push({ status: 'verifying sha256 digest' }, { status: 'writing manifest' })
  progress.push({ status: 'removing unused layers' }, { status: 'success' })
  return progress
}

/** `POST /api/pull`: progress lines for a known model; an error line after `pulling manifest` otherwise. */
export async function handlePull(exchange: Exchange, state: SimulatorState): Promise<void> {
  const { response, signal } = exchange
  const parsed = parseBody(await readBody(exchange.request), 'PullRequest', {
    model: 'string',
    name: 'string',
    insecure: 'bool',
    stream: 'bool',
  })
  if (!parsed.ok) return sendError(response, 400, parsed.message)
  const body = parsed.body
  const name =
    (typeof body.model === 'string' && body.model) || (typeof body.name === 'string' && body.name) || ''
  if (name === '') return sendError(response, 400, 'model is required')
  const model = state.models.find(name)
  const lines = model ? pullProgress(model) : [{ status: 'pulling manifest' }]
  if (body.stream === false) {
    if (!model) return sendError(response, 500, pullNotFoundMessage, bareJsonContentType)
    return sendJson(response, 200, '{"status":"success"}', bareJsonContentType)
  }
  const interval = state.tokensPerSecond > 0 ? 1000 / state.tokensPerSecond : 0
  response.writeHead(200, { 'Content-Type': ndjsonContentType })
  for (const [index, line] of lines.entries()) {
    if (index > 0) await sleep(interval, signal)
    if (signal.aborted) break
    if (!response.write(goJson(line) + '\n')) await waitForDrain(response, signal)
  }
  if (signal.aborted) {
    state.counters.cancelled++
    return
  }
  if (!model) response.write('{"error":' + goString(pullNotFoundMessage) + '}\n')
  response.end()
}
