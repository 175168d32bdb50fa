/** Helpers for this package's tests: raw HTTP against a running simulator. Not exported. */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'

export interface RawReply {
  status: number
  headers: IncomingHttpHeaders
  /** Body pieces exactly as the socket delivered them. */
  chunks: Buffer[]
  body: Buffer
  text: string
  /** True when the connection ended with an error (dropped) instead of a complete body. */
  aborted: boolean
}

/** One request over node:http; resolves when the body ended or the connection broke. */
export function rawRequest(
  baseUrl: string,
  path: string,
  options: { method?: string; body?: unknown; rawBody?: string } = {},
): Promise<RawReply> {
  const payload = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body))
  const method = options.method ?? (payload === undefined ? 'GET' : 'POST')
  return new Promise((resolve, reject) => {
    const headers = payload === undefined ? {} : { 'Content-Length': Buffer.byteLength(payload) }
    const outgoing = httpRequest(new URL(path, baseUrl), { method, headers, agent: false }, (incoming) => {
      const chunks: Buffer[] = []
      let settled = false
      const finish = (aborted: boolean): void => {
        if (settled) return
        settled = true
        const body = Buffer.concat(chunks)
        resolve({
          status: incoming.statusCode ?? 0,
          headers: incoming.headers,
          chunks,
          body,
          text: body.toString('utf8'),
          aborted,
        })
      }
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
      incoming.on('end', () => finish(false))
      incoming.on('error', () => finish(true))
      incoming.on('close', () => finish(!incoming.complete))
    })
    outgoing.on('error', reject)
    outgoing.end(payload)
  })
}

/** Parses NDJSON text into objects; every line must be JSON and the text must end with `\n`. */
export function parseLines(text: string): Array<Record<string, unknown>> {
  if (text === '') return []
  if (!text.endsWith('\n')) throw new Error(`NDJSON does not end with a newline: …${text.slice(-40)}`)
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

/** The concatenated `response` (generate) or `message.content` (chat) text of parsed lines. */
export function streamedText(
  lines: Array<Record<string, unknown>>,
  field: 'content' | 'thinking' = 'content',
): string {
  let text = ''
  for (const line of lines) {
    const message = line.message as Record<string, unknown> | undefined
    const value = message ? message[field] : line[field === 'content' ? 'response' : 'thinking']
    if (typeof value === 'string') text += value
  }
  return text
}

/** Resolves once `condition()` holds (polls every 10 ms); rejects after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
