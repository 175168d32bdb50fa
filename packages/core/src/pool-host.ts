// One host of a pool: its backend, what it serves, its learned concurrency, its health, its counts.

import type { Backend } from './backend.ts'
import type { HostReport } from './events.ts'
import { HostHealth, type HostHealthOptions } from './host-health.ts'
import { type HostInspector, modelKey } from './host-inspector.ts'
import { LearnedConcurrency, type LearnedConcurrencyOptions } from './learned-concurrency.ts'

/** Tokens per second are measured over this window of finished records. */
const rateWindowMs = 10_000

export interface PoolHostInit {
  backend: Backend
  inspector: HostInspector | undefined
  /** Fixed concurrency; learned when left out. */
  concurrency?: number
  weight: number
  /** The models it may serve (names as given); every model the host has when left out. */
  models?: readonly string[]
  learning?: LearnedConcurrencyOptions
  health: Omit<HostHealthOptions, 'probe' | 'onChange'>
  /** Called when the host's state or limit changed. */
  onChange: () => void
}

export class PoolHost {
  readonly backend: Backend
  readonly inspector: HostInspector | undefined
  readonly weight: number
  readonly fixed: number | undefined
  readonly controller: LearnedConcurrency
  readonly health: HostHealth
  inFlight = 0
  /** Model keys the host has (`/api/tags`), or undefined while not known. */
  available: Set<string> | undefined
  /** Model keys loaded in memory (`/api/ps`, and every model that just answered here). */
  readonly loaded = new Set<string>()
  readonly #allowed: Set<string> | undefined
  readonly #onChange: () => void
  records = 0
  failures = 0
  tokens = 0
  /** Finished records of the last `rateWindowMs`: end time and tokens, oldest first. */
  readonly #recent: { at: number; tokens: number }[] = []

  constructor(init: PoolHostInit) {
    this.backend = init.backend
    this.inspector = init.inspector
    this.weight = init.weight
    this.fixed = init.concurrency
    this.controller = new LearnedConcurrency(init.learning)
    this.#allowed = init.models ? new Set(init.models.map(modelKey)) : undefined
    this.#onChange = init.onChange
    this.health = new HostHealth({
      ...init.health,
      probe: () => this.#probe(),
      onChange: (state) => {
        if (state === 'up' && this.fixed === undefined) this.controller.reset()
        this.#onChange()
      },
    })
  }

  get url(): string {
    return this.backend.host
  }

  /** Requests it may have in flight now: the fixed concurrency, else the learned one. */
  get limit(): number {
    return this.fixed ?? this.controller.limit
  }

  /** Free slots for new work (0 unless up). */
  get free(): number {
    return this.health.state === 'up' ? Math.max(0, this.limit - this.inFlight) : 0
  }

  /** True when the host may be asked for this model (a key from `modelKey`). */
  serves(key: string): boolean {
    if (this.#allowed && !this.#allowed.has(key)) return false
    // Without an inspector the host is taken at its word; with one, only what it listed.
    return this.inspector === undefined || this.available === undefined || this.available.has(key)
  }

  /** Asks the host for its models and loaded models. Rejects when it does not answer. */
  async refresh(signal: AbortSignal): Promise<void> {
    if (!this.inspector) return
    const models = await this.inspector.models(signal)
    this.available = new Set(models.map(modelKey))
    const loaded = await this.inspector.loaded?.(signal).catch(() => [] as string[])
    this.loaded.clear()
    for (const name of loaded ?? []) this.loaded.add(modelKey(name))
  }

  /** A record finished here with `tokens` generated. */
  finished(tokens: number, model: string): void {
    this.records += 1
    this.tokens += tokens
    this.loaded.add(model)
    const now = performance.now()
    this.#recent.push({ at: now, tokens })
    while (this.#recent.length > 0 && now - this.#recent[0]!.at > rateWindowMs) this.#recent.shift()
  }

  /** Tokens per second over the last ten seconds of finished records. */
  tokensPerSecond(now = performance.now()): number {
    let tokens = 0
    for (const entry of this.#recent) if (now - entry.at <= rateWindowMs) tokens += entry.tokens
    return Math.round((tokens / (rateWindowMs / 1000)) * 10) / 10
  }

  report(): HostReport {
    const report: HostReport = {
      host: this.url,
      backend: this.backend.kind,
      state: this.health.state,
      slots: this.limit,
      inFlight: this.inFlight,
      records: this.records,
      failures: this.failures,
      tokens: this.tokens,
      tokensPerSecond: this.tokensPerSecond(),
    }
    if (this.fixed !== undefined) report.fixed = true
    if (this.health.state !== 'up' && this.health.reason !== '') report.reason = this.health.reason
    return report
  }

  async #probe(): Promise<void> {
    if (!this.inspector) return
    const controller = new AbortController()
    await this.inspector.ping(controller.signal)
    // A host that was not there at the start has not told its models yet.
    if (this.available === undefined) await this.refresh(controller.signal)
  }
}
