import type { ResolvedModel } from './models.ts'

const defaultKeepAliveMs = 5 * 60_000
/** Where Go's "forever" lands when formatted (Ollama shows a date centuries ahead). */
const foreverMs = Date.UTC(2318, 0, 1)

interface LoadedModel {
  model: ResolvedModel
  expiresAt: number
}

/** Which models are "in memory" for `/api/ps`: loaded by use, kept for keep_alive, unloaded by keep_alive 0. */
export class LoadedModels {
  readonly #loaded = new Map<string, LoadedModel>()

  /** Marks a model used now; `keepAliveMs` as parsed from the request (undefined = 5m, negative = forever). */
  touch(model: ResolvedModel, keepAliveMs: number | undefined): void {
    const keep = keepAliveMs ?? defaultKeepAliveMs
    const expiresAt = keep < 0 ? foreverMs : Date.now() + keep
    this.#loaded.set(model.name, { model, expiresAt })
  }

  unload(model: ResolvedModel): void {
    this.#loaded.delete(model.name)
  }

  /** Loaded models, longest remaining time first. */
  list(): LoadedModel[] {
    const now = Date.now()
    const alive: LoadedModel[] = []
    for (const [name, entry] of this.#loaded) {
      if (entry.expiresAt <= now) this.#loaded.delete(name)
      else alive.push(entry)
    }
    return alive.sort((first, second) => second.expiresAt - first.expiresAt)
  }
}
