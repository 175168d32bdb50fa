// What a pool asks a host besides generating: which models it has, which are loaded, is it there.

import type { Backend } from './backend.ts'
import type { ListResponse, PsResponse, VersionResponse } from './types.ts'

/** How a pool learns about one host. Every call gets a signal and short timeouts of its own. */
export interface HostInspector {
  /** The models the host can serve, as it names them (`/api/tags`, `/v1/models`). */
  models(signal: AbortSignal): Promise<string[]>
  /** The models loaded in memory now (`/api/ps`); hosts that cannot tell leave it out. */
  loaded?(signal: AbortSignal): Promise<string[]>
  /** Resolves when the host answers at all (`/api/version`, `/v1/models`). */
  ping(signal: AbortSignal): Promise<void>
}

interface QuickOptions {
  signal: AbortSignal
  retry: false
  timeouts: { connect: number; firstByte: number; idle: number }
}

/** The methods of `OllamaClient` the pool uses (any object that has them works). */
interface OllamaLike {
  list(options: QuickOptions): Promise<ListResponse>
  ps(options: QuickOptions): Promise<PsResponse>
  version(options: QuickOptions): Promise<VersionResponse>
}

/** The method of an OpenAI-compatible client that lists `/v1/models`. */
interface OpenAILike {
  models(options: QuickOptions): Promise<{ data: { id: string }[] } | string[]>
}

/** How long a pool waits for a host to connect and answer a question about itself. */
export const inspectTimeoutMs = 5_000

function quick(signal: AbortSignal): QuickOptions {
  const limit = inspectTimeoutMs
  return { signal, retry: false, timeouts: { connect: limit, firstByte: limit, idle: limit } }
}

function hasMethods(value: object, names: readonly string[]): boolean {
  return names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
}

/**
 * The inspector of a backend: Ollama's `/api/tags`, `/api/ps` and `/api/version` for an
 * `OllamaClient`, `/v1/models` for a client with `models()`; `undefined` for a backend that has
 * neither (the pool then takes it at its word: every model, always there).
 */
export function inspectorOf(backend: Backend): HostInspector | undefined {
  if (hasMethods(backend, ['list', 'ps', 'version'])) {
    const client = backend as unknown as OllamaLike
    return {
      models: async (signal) => (await client.list(quick(signal))).models.map((model) => model.name),
      loaded: async (signal) => (await client.ps(quick(signal))).models.map((model) => model.name),
      ping: async (signal) => {
        await client.version(quick(signal))
      },
    }
  }
  if (hasMethods(backend, ['models'])) {
    const client = backend as unknown as OpenAILike
    const models = async (signal: AbortSignal) => {
      const answer = await client.models(quick(signal))
      return Array.isArray(answer) ? answer : answer.data.map((model) => model.id)
    }
    return {
      models,
      ping: async (signal) => {
        await models(signal)
      },
    }
  }
  return undefined
}

/** Ollama names a model without a tag `…:latest`; so does this, to compare names. */
export function modelKey(name: string): string {
  const slash = name.lastIndexOf('/')
  return name.indexOf(':', slash + 1) === -1 ? `${name}:latest` : name
}
