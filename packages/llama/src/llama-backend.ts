// @spout/llama's Backend: one GGUF model in this process, one context with K sequences, so K records
// generate at once without loading the model K times. Streams Ollama-shaped chunks like the Ollama
// and OpenAI-compatible clients, so the pipeline, result lines and the viewer cannot tell it apart.

import type { Backend, BackendCallOptions } from '@spout/core'
import type { ChatRequest, ChatResponse, Format, GenerateRequest, GenerateResponse } from '@spout/core/ollama'
import { type ChatWrapper, type LlamaGrammar, resolveChatWrapper } from 'node-llama-cpp'
import { chatHistoryOf, generateHistoryOf } from './chat-history.ts'
import { ChunkQueue } from './chunk-queue.ts'
import { FormatError } from './errors.ts'
import { type GenerationInput, type GenerationResult, generate, Slot } from './generation.ts'
import { type LoadedModel, type LoadOptions, loadModel } from './load-model.ts'
import { samplingOf } from './sampling.ts'
import { SequencePool } from './sequence-pool.ts'
import { isoNow } from './timestamp.ts'

export interface LlamaBackendOptions extends Omit<LoadOptions, 'sequences'> {
  /** Records generated at once: the context's sequences (the CLI's `-c`). Default 1. */
  sequences?: number
}

interface Engine {
  loaded: LoadedModel
  pool: SequencePool<Slot>
  grammars: Map<string, Promise<LlamaGrammar>>
}

type Request = (GenerateRequest | ChatRequest) & { stream: true }

/** The final chunk's fields besides its (empty) text: why it stopped and Ollama's metrics, measured here. */
interface FinalFields {
  done: true
  done_reason: GenerationResult['doneReason']
  total_duration: number
  load_duration: number
  prompt_eval_count: number
  prompt_eval_duration: number
  eval_count: number
  eval_duration: number
}

export class LlamaBackend implements Backend {
  readonly kind = 'llama-cpp' as const
  /** The model file. */
  readonly host: string
  readonly #options: LoadOptions
  #engine: Promise<Engine> | undefined

  constructor(options: LlamaBackendOptions) {
    this.host = options.model
    this.#options = { ...options, sequences: options.sequences ?? 1 }
  }

  /** Loads the model now (the first call loads it otherwise); rejects with a `ModelFileError`. */
  async load(): Promise<void> {
    await this.#load()
  }

  #load(): Promise<Engine> {
    this.#engine ??= loadModel(this.#options).then((loaded) => {
      let wrapper: ChatWrapper | undefined
      const chatWrapper = () => {
        wrapper ??= resolveChatWrapper(loaded.model)
        return wrapper
      }
      const slots = Array.from(
        { length: this.#options.sequences },
        () => new Slot(loaded.context.getSequence(), chatWrapper),
      )
      return { loaded, pool: new SequencePool(slots), grammars: new Map() }
    })
    return this.#engine
  }

  /** Frees the model and its context. */
  async close(): Promise<void> {
    const engine = this.#engine
    this.#engine = undefined
    if (!engine) return
    const { loaded } = await engine.catch(() => ({ loaded: undefined }))
    await loaded?.context.dispose()
    await loaded?.model.dispose()
  }

  generate(request: GenerateRequest & { stream: true }, options: BackendCallOptions = {}) {
    const model = request.model
    return this.#stream<GenerateResponse>(request, options, (text, thought, final) => {
      if (final) return { model, created_at: isoNow(), response: '', ...final }
      return thought
        ? { model, created_at: isoNow(), response: '', thinking: text, done: false }
        : { model, created_at: isoNow(), response: text, done: false }
    })
  }

  chat(request: ChatRequest & { stream: true }, options: BackendCallOptions = {}) {
    const model = request.model
    return this.#stream<ChatResponse>(request, options, (text, thought, final) => {
      if (final) return { model, created_at: isoNow(), message: { role: 'assistant', content: '' }, ...final }
      const message = thought
        ? { role: 'assistant' as const, content: '', thinking: text }
        : { role: 'assistant' as const, content: text }
      return { model, created_at: isoNow(), message, done: false }
    })
  }

  /** `chunk` makes one chunk object: a text or thought piece, or the final one (`final` set). */
  #stream<T extends GenerateResponse | ChatResponse>(
    request: Request,
    options: BackendCallOptions,
    chunk: (text: string, thought: boolean, final?: FinalFields) => T,
  ): AsyncIterableIterator<T> {
    const stopped = new AbortController()
    const queue = new ChunkQueue<T>(() => stopped.abort(new DOMException('stream closed', 'AbortError')))
    const signal = options.signal ? AbortSignal.any([options.signal, stopped.signal]) : stopped.signal
    options.onRoute?.({ backend: this.kind, host: this.host })
    this.#run(request, signal, (text, thought) => queue.push(chunk(text, thought))).then(
      (final) => {
        queue.push(chunk('', false, final))
        queue.end()
      },
      (error: unknown) => queue.fail(error),
    )
    return queue
  }

  async #run(request: Request, signal: AbortSignal, emit: GenerationInput['emit']): Promise<FinalFields> {
    const started = process.hrtime.bigint()
    signal.throwIfAborted()
    const engine = await this.#load()
    const loaded = process.hrtime.bigint()
    const grammar = request.format === undefined ? undefined : await this.#grammar(engine, request.format)
    const slot = await engine.pool.acquire(signal)
    let result: GenerationResult
    try {
      const raw = 'prompt' in request && request.raw === true
      result = await generate({
        slot,
        path: this.host,
        prompt: raw
          ? (request.prompt ?? '')
          : 'messages' in request
            ? chatHistoryOf(request)
            : generateHistoryOf(request),
        sampling: samplingOf(request.options),
        grammar,
        think: request.think !== false,
        signal,
        emit,
      })
    } finally {
      engine.pool.release(slot)
    }
    return {
      done: true as const,
      done_reason: result.doneReason,
      total_duration: Number(process.hrtime.bigint() - started),
      load_duration: Number(loaded - started),
      prompt_eval_count: result.promptTokens,
      prompt_eval_duration: result.promptEvalDuration,
      eval_count: result.evalCount,
      eval_duration: result.evalDuration,
    }
  }

  #grammar(engine: Engine, format: Format): Promise<LlamaGrammar> {
    const key = typeof format === 'string' ? format : JSON.stringify(format)
    let grammar = engine.grammars.get(key)
    if (!grammar) {
      const { llama } = engine.loaded
      grammar = (
        format === 'json' ? llama.getGrammarFor('json') : llama.createGrammarForJsonSchema(format as never)
      ).catch((error: unknown) => {
        engine.grammars.delete(key)
        throw new FormatError({ path: this.host, cause: error })
      })
      engine.grammars.set(key, grammar)
    }
    return grammar
  }
}
