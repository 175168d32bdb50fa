import type { ServerResponse } from 'node:http'
import { goString } from './json.ts'

/** gin's `c.JSON` content type (every non-streamed reply and every pre-stream error). */
export const jsonContentType = 'application/json; charset=utf-8'
/** Content type of an error raised by the model goroutine before the first NDJSON line. */
export const bareJsonContentType = 'application/json'
export const ndjsonContentType = 'application/x-ndjson'

/** OLLAMA_MAX_QUEUE exceeded (two spaces after `again.`, as in Ollama). */
export const serverBusyMessage = 'server busy, please try again.  maximum pending requests exceeded'
/** What a crashed runner reports. */
export const runnerStoppedMessage =
  'model runner has unexpectedly stopped, this may be due to resource limitations or an internal error, check ollama server logs for details'
/** The mid-stream error line's text. */
export const midstreamErrorMessage = 'an error was encountered while running the model'

/** A whole JSON body (no trailing newline, as gin writes it). */
export function sendJson(
  response: ServerResponse,
  status: number,
  json: string,
  contentType = jsonContentType,
): void {
  if (response.headersSent || response.destroyed) return
  const body = Buffer.from(json)
  response.writeHead(status, { 'Content-Type': contentType, 'Content-Length': body.length })
  response.end(body)
}

/** Replies that go through Ollama's OpenAI middleware: it rewrites every error body. */
const openAIReplies = new WeakSet<ServerResponse>()

/** From now on, errors on `response` are written as Ollama's `/v1` routes write them. */
export function useOpenAIErrors(response: ServerResponse): void {
  openAIReplies.add(response)
}

/** The OpenAI error type Ollama's `openai.NewError` gives a status. */
function openAIErrorType(status: number): string {
  if (status === 400) return 'invalid_request_error'
  if (status === 404) return 'not_found_error'
  return 'api_error'
}

/** `{"error":{"message",...}}` as Ollama's `/v1` writes it (json.Encoder: a trailing newline). */
export function openAIErrorJson(status: number, message: string): string {
  return (
    '{"error":{"message":' +
    goString(message) +
    ',"type":"' +
    openAIErrorType(status) +
    '","param":null,"code":null}}\n'
  )
}

/** `{"error":"..."}` with a status (`/v1` routes: the OpenAI error object). */
export function sendError(
  response: ServerResponse,
  status: number,
  message: string,
  contentType = jsonContentType,
): void {
  if (openAIReplies.has(response))
    sendJson(response, status, openAIErrorJson(status, message), 'application/json')
  else sendJson(response, status, '{"error":' + goString(message) + '}', contentType)
}

/** gin's plain-text replies: `404 page not found`, `405 method not allowed`. */
export function sendText(
  response: ServerResponse,
  status: number,
  text: string,
  contentType = 'text/plain',
): void {
  if (response.headersSent || response.destroyed) return
  const body = Buffer.from(text)
  response.writeHead(status, { 'Content-Type': contentType, 'Content-Length': body.length })
  response.end(body)
}

/** An empty 200 (delete, copy). */
export function sendEmpty(response: ServerResponse): void {
  if (response.headersSent || response.destroyed) return
  response.writeHead(200, { 'Content-Length': 0 })
  response.end()
}
