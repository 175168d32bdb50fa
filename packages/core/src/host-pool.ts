// HostPool: a backend that spreads records over several hosts (Ollama, OpenAI-compatible, any
// Backend), with concurrency learned per host, health checks and failover.

import type { Backend, BackendCallOptions, BackendCapacity } from './backend.ts'
import { ConnectionError, HostPoolError, type SpoutError } from './errors.ts'
import type { HostReport } from './events.ts'
import { type HostInspector, inspectorOf, modelKey } from './host-inspector.ts'
import { pickHost } from './host-scheduler.ts'
import type { LearnedConcurrencyOptions } from './learned-concurrency.ts'
import { PoolCall, type PoolCallPort } from './pool-call.ts'
import { PoolHost } from './pool-host.ts'
import type { RetryDelay } from './record-retry.ts'
import type { ChatRequest, ChatResponse, GenerateRequest, GenerateResponse } from './types.ts'

export interface HostPoolMember {
  /** The host's client: an `OllamaClient`, an OpenAI-compatible client, any `Backend`. */
  backend: Backend
  /** Requests in flight at most, fixed. Default: learned (starts at 1). */
  concurrency?: number
  /** Preference among hosts with free slots (free slots × weight). Default 1. */
  weight?: number
  /** The models it may serve. Default: every model the host lists. */
  models?: readonly string[]
  /** How to list its models and check it is there. Default: from the backend (`OllamaClient`, `models()`). */
  inspector?: HostInspector
}

export interface HostPoolOptions {
  hosts: readonly HostPoolMember[]
  /** Tuning of the learned concurrency (start, most, what counts as queueing). */
  learning?: LearnedConcurrencyOptions
  /** Transient failures in a row that take a host out. Default 3. */
  maxFailures?: number
  /** Backoff between probes of a host that is down. Default `{ base: 250, max: 10_000 }` ms. */
  probeDelay?: RetryDelay
}

interface Waiter {
  model: string
  resolve: (host: PoolHost) => void
  reject: (reason: unknown) => void
}

/**
 * A `Backend` over several hosts. Each attempt goes, when it starts, to the host with the most free
 * slots that serves its model (preferring one where the model is loaded); a host's slots are learned
 * from time to first token and 503s unless fixed; a host that stops answering is taken out, probed
 * and put back. Failures reach the caller as the host's typed errors, so the pipeline retries the
 * record (on another host). Call `start()` before the first record.
 */
export class HostPool implements Backend {
  readonly kind = 'pool'
  readonly host: string
  readonly capacity: BackendCapacity
  readonly #hosts: PoolHost[]
  readonly #waiters: Waiter[] = []
  readonly #listeners = new Set<() => void>()
  readonly #port: PoolCallPort
  #closed = false

  constructor(options: HostPoolOptions) {
    if (options.hosts.length === 0) throw new HostPoolError('a host pool needs at least one host', [])
    this.#hosts = options.hosts.map((member) => {
      if (
        member.concurrency !== undefined &&
        !(Number.isInteger(member.concurrency) && member.concurrency >= 1)
      )
        throw new RangeError(
          `concurrency of ${member.backend.host} must be an integer ≥ 1, got ${member.concurrency}`,
        )
      const weight = member.weight ?? 1
      if (!(weight > 0)) throw new RangeError(`weight of ${member.backend.host} must be > 0, got ${weight}`)
      return new PoolHost({
        backend: member.backend,
        inspector: member.inspector ?? inspectorOf(member.backend),
        concurrency: member.concurrency,
        weight,
        models: member.models,
        learning: options.learning,
        health: { maxFailures: options.maxFailures, probeDelay: options.probeDelay },
        onChange: () => this.#changed(),
      })
    })
    this.host = `pool(${this.#hosts.length})`
    const pool = this
    this.capacity = {
      get slots() {
        return Math.max(1, pool.#slots())
      },
      subscribe: (listener) => {
        this.#listeners.add(listener)
        return () => this.#listeners.delete(listener)
      },
      report: () => this.hosts(),
    }
    this.#port = {
      waitForHost: (model, signal) => this.#waitForHost(model, signal),
      routed: () => {},
      release: (host) => {
        host.inFlight -= 1
        this.#changed()
      },
    }
  }

  /**
   * Asks every host for its models (`/api/tags`, `/v1/models`) and loaded models (`/api/ps`). A host
   * that does not answer starts out down (and is probed); with `model`, rejects with a
   * `HostPoolError` naming the hosts asked when none has it.
   */
  async start(options: { model?: string; signal?: AbortSignal } = {}): Promise<void> {
    const signal = options.signal ?? new AbortController().signal
    await Promise.all(
      this.#hosts.map((host) =>
        host.refresh(signal).catch((error: unknown) => {
          host.health.down(error instanceof Error ? error.message : String(error))
        }),
      ),
    )
    if (options.model !== undefined) this.requireModel(options.model)
  }

  /** Throws a `HostPoolError` when no host that answered has `model`, or when no host answered. */
  requireModel(model: string): void {
    const key = modelKey(model)
    const asked = this.#hosts.map((host) => host.url)
    const known = this.#hosts.filter((host) => host.available !== undefined || !host.inspector)
    if (known.length === 0) return // none answered: the first record says so, the way one host does
    if (this.#hosts.some((host) => host.serves(key) && (host.available !== undefined || !host.inspector)))
      return
    throw new HostPoolError(`model '${model}' is on none of the hosts asked: ${asked.join(', ')}`, asked)
  }

  /** Per-host figures now: state, learned slots, in flight, records, tokens/s. */
  hosts(): HostReport[] {
    return this.#hosts.map((host) => host.report())
  }

  generate(
    request: GenerateRequest & { stream: true },
    options: BackendCallOptions,
  ): AsyncIterable<GenerateResponse> {
    return this.#call(request.model, options, (host) =>
      host.backend.generate(request, this.#forward(options)),
    )
  }

  chat(request: ChatRequest & { stream: true }, options: BackendCallOptions): AsyncIterable<ChatResponse> {
    return this.#call(request.model, options, (host) => host.backend.chat(request, this.#forward(options)))
  }

  /** Stops probing and rejects calls waiting for a host. Does not close the hosts' clients. */
  close(): void {
    this.#closed = true
    for (const host of this.#hosts) host.health.close()
    const reason = this.#unreachable('pool closed')
    for (const waiter of this.#waiters.splice(0)) waiter.reject(reason)
  }

  #forward(options: BackendCallOptions): BackendCallOptions {
    return options.signal ? { signal: options.signal, retry: false } : { retry: false }
  }

  #call<T extends GenerateResponse | ChatResponse>(
    model: string,
    options: BackendCallOptions,
    open: (host: PoolHost) => AsyncIterable<T>,
  ): AsyncIterable<T> {
    const key = modelKey(model)
    // Routed at once when a slot is free, so the caller knows the host before the record starts.
    const host = this.#closed || this.#waiters.length > 0 ? undefined : pickHost(this.#hosts, key)
    if (host) host.inFlight += 1
    const port: PoolCallPort = options.onRoute
      ? {
          ...this.#port,
          routed: (chosen) =>
            options.onRoute!({ backend: chosen.backend.kind, host: chosen.url, slots: chosen.limit }),
        }
      : this.#port
    return new PoolCall<T>(port, key, options.signal, open, host)
  }

  #slots(): number {
    let slots = 0
    for (const host of this.#hosts) if (host.health.state === 'up') slots += host.limit
    return slots
  }

  #waitForHost(model: string, signal: AbortSignal | undefined): Promise<PoolHost> {
    if (signal?.aborted) return Promise.reject(signal.reason)
    const unavailable = this.#unavailable(model)
    if (unavailable) return Promise.reject(unavailable)
    const host = pickHost(this.#hosts, model)
    if (host && this.#waiters.length === 0) {
      host.inFlight += 1
      return Promise.resolve(host)
    }
    return new Promise<PoolHost>((resolve, reject) => {
      const waiter: Waiter = {
        model,
        resolve: (chosen) => {
          signal?.removeEventListener('abort', onAbort)
          resolve(chosen)
        },
        reject: (reason) => {
          signal?.removeEventListener('abort', onAbort)
          reject(reason)
        },
      }
      const onAbort = () => {
        const index = this.#waiters.indexOf(waiter)
        if (index !== -1) this.#waiters.splice(index, 1)
        reject(signal!.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#waiters.push(waiter)
    })
  }

  /** Why no host can serve `model` now or soon, as the error the caller gets; else undefined. */
  #unavailable(model: string): SpoutError | undefined {
    if (this.#closed) return this.#unreachable('pool closed')
    const serving = this.#hosts.filter((host) => host.serves(model))
    if (serving.length === 0) {
      const asked = this.#hosts.map((host) => host.url)
      return new HostPoolError(`model '${model}' is on none of the hosts: ${asked.join(', ')}`, asked)
    }
    if (serving.some((host) => host.health.state !== 'down')) return undefined
    const reasons = serving.map((host) => `${host.url} (${host.health.reason || 'down'})`)
    return this.#unreachable(`every host is down: ${reasons.join(', ')}`)
  }

  /** The error of a call no host can take: a `ConnectionError`, transient like one host's. */
  #unreachable(reason: string): ConnectionError {
    return new ConnectionError({ host: this.host, method: 'POST', url: this.host, reason, attempts: 1 })
  }

  /** A host's state, limit or load changed: hand free slots to waiters, tell the listeners. */
  #changed(): void {
    for (let index = 0; index < this.#waiters.length; ) {
      const waiter = this.#waiters[index]!
      const unavailable = this.#unavailable(waiter.model)
      if (unavailable) {
        this.#waiters.splice(index, 1)
        waiter.reject(unavailable)
        continue
      }
      const host = pickHost(this.#hosts, waiter.model)
      if (!host) {
        index += 1
        continue
      }
      this.#waiters.splice(index, 1)
      host.inFlight += 1 // taken now, before the next waiter looks
      waiter.resolve(host)
    }
    for (const listener of this.#listeners) listener()
  }
}
