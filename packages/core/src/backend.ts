import type { HostReport } from './events.ts'
import type { ChatRequest, ChatResponse, GenerateRequest, GenerateResponse } from './types.ts'

/**
 * Which engine produced a record; written as `backend` on every result line. `ollama` (NDJSON
 * `/api`), `openai` (OpenAI-compatible SSE `/v1`), `llama-cpp` (in process); other backends name
 * themselves.
 */
export type BackendKind = 'ollama' | 'openai' | 'llama-cpp' | (string & {})

/** Where one attempt of a record went: a pool learns it only when it picks a host. */
export interface BackendRoute {
  backend: BackendKind
  host: string
  /** The host's slots (learned or fixed concurrency) when the attempt was routed, when known. */
  slots?: number
}

/** Options of one backend call. */
export interface BackendCallOptions {
  signal?: AbortSignal
  /** The pipeline retries by itself: a backend must not retry a call the pipeline made. */
  retry?: false
  /** Called once per call, before the first chunk, when the call knows where it goes. */
  onRoute?: (route: BackendRoute) => void
}

/**
 * What a backend that spreads calls over hosts (a `HostPool`) tells the pipeline: how many calls
 * it can serve at once now. The pipeline keeps that many records in flight (instead of its
 * `concurrency`) and leaves back-pressure (503/429) to the backend.
 */
export interface BackendCapacity {
  /** Calls it can serve at once now (its hosts' learned or fixed slots; at least 1). */
  readonly slots: number
  /** Calls `listener` whenever `slots` may have changed; returns the function that stops it. */
  subscribe(listener: () => void): () => void
  /** Per-host figures, written into the job summary (`summary.hosts`). */
  report?(): HostReport[]
}

/**
 * The seam between the pipeline and whatever generates: Ollama's NDJSON client, an
 * OpenAI-compatible SSE client, an in-process model, or a pool that wraps several of them.
 *
 * A backend streams one record's generation as Ollama-shaped chunks (`response`/`message.content`
 * text, `thinking`, whole `tool_calls`, and a final `done: true` object with `done_reason` and the
 * metrics it has) and fails with the typed errors of `errors.ts` (`HttpError` 503/429 is
 * back-pressure, `ConnectionError`/`TimeoutError` are transient, `IncompleteStreamError` when the
 * stream ends early), so result lines, events, the hub and the viewer do not know which backend
 * produced them.
 */
export interface Backend {
  readonly kind: BackendKind
  /** Where it generates: a URL, a model file, or a pool's summary (`pool(3)`). */
  readonly host: string
  generate(
    request: GenerateRequest & { stream: true },
    options: BackendCallOptions,
  ): AsyncIterable<GenerateResponse>
  chat(request: ChatRequest & { stream: true }, options: BackendCallOptions): AsyncIterable<ChatResponse>
  /** Set by backends that know their capacity (a pool of hosts); see `BackendCapacity`. */
  readonly capacity?: BackendCapacity
}
