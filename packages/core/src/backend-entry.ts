// The entry `@spout/core/backend`: what a backend is built from (`@spout/llama`, a custom server):
// the seam's types, the request options, retries and timeouts of the HTTP clients, their streams and
// SSE decoder, host addresses, and a pool's inspector.

export type { Backend, BackendCallOptions, BackendCapacity, BackendKind, BackendRoute } from './backend.ts'
export type { ByteParser, ByteSource } from './byte-parser.ts'
export { ParserStream } from './byte-parser.ts'
export type { ResolvedHost } from './host.ts'
export { defaultHost, parseHost, resolveHost } from './host.ts'
export type { HostInspector } from './host-inspector.ts'
export type { LearnedConcurrencyOptions } from './learned-concurrency.ts'
export type { OpenAIModelList } from './openai-client.ts'
export type { HeadersInput, RequestOptions } from './request-call.ts'
export type { RetryOptions } from './request-retry.ts'
export { defaultRetry } from './request-retry.ts'
export { ResponseStream } from './response-stream.ts'
export type { SseEvent, SseOptions } from './sse.ts'
export { decodeSse, SseDecoderStream, SseParser } from './sse.ts'
export type { Timeouts } from './transport.ts'
export { defaultTimeouts } from './transport.ts'
