import { createHash } from 'node:crypto'

/** A capability as `/api/show` lists it. */
export type ModelCapability = 'completion' | 'thinking' | 'tools' | 'embedding' | 'insert' | 'vision'

/** A model the simulator serves. Only `name` is required. */
export interface SimModel {
  /** `name:tag`; a name without a tag gets `:latest`. */
  name: string
  /** Default `['completion']`. */
  capabilities?: ModelCapability[]
  /** `details.family`, default the name before the first digit or `:` (`llama`, `qwen`). */
  family?: string
  /** `details.parameter_size`, default `'3.2B'`. */
  parameterSize?: string
  /** `details.quantization_level`, default `'Q4_K_M'`. */
  quantizationLevel?: string
  /** Size in bytes (tags, ps, pull progress), default 2019393189. */
  size?: number
  /** Context length (`/api/ps`, `model_info`, cap of the `context` array), default 4096. */
  contextLength?: number
  /** Embedding vector length for `/api/embed`, default 768. */
  embeddingLength?: number
}

/** A model with every default filled in, as the server uses it. */
export interface ResolvedModel {
  name: string
  capabilities: ModelCapability[]
  family: string
  parameterSize: string
  quantizationLevel: string
  size: number
  contextLength: number
  embeddingLength: number
  digest: string
  modifiedAt: number
}

export const defaultModels: readonly SimModel[] = [
  { name: 'llama3.2:latest', capabilities: ['completion'], family: 'llama', parameterSize: '3.2B' },
  {
    name: 'qwen3:latest',
    capabilities: ['completion', 'thinking', 'tools'],
    family: 'qwen3',
    parameterSize: '8.2B',
    size: 5225388164,
    contextLength: 40960,
    embeddingLength: 4096,
  },
  {
    name: 'nomic-embed-text:latest',
    capabilities: ['embedding'],
    family: 'nomic-bert',
    parameterSize: '137M',
    quantizationLevel: 'F16',
    size: 274302450,
    contextLength: 2048,
    embeddingLength: 768,
  },
]

/** `llama3.2` → `llama3.2:latest`; a name with a tag is kept as written. */
export function normalizeModelName(name: string): string {
  const lastSlash = name.lastIndexOf('/')
  return name.indexOf(':', lastSlash + 1) === -1 ? name + ':latest' : name
}

/** The fixed-point sha256 hex of a text (digests, deterministic ids). */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

const fixedModifiedAt = Date.UTC(2025, 4, 4, 17, 37, 44, 706)

export function resolveModel(model: SimModel): ResolvedModel {
  const name = normalizeModelName(model.name)
  return {
    name,
    capabilities: model.capabilities ?? ['completion'],
    family: model.family ?? (/^[a-z-]+/i.exec(name)?.[0] ?? 'llama').replace(/-$/, ''),
    parameterSize: model.parameterSize ?? '3.2B',
    quantizationLevel: model.quantizationLevel ?? 'Q4_K_M',
    size: model.size ?? 2019393189,
    contextLength: model.contextLength ?? 4096,
    embeddingLength: model.embeddingLength ?? 768,
    digest: sha256Hex('model:' + name),
    modifiedAt: fixedModifiedAt,
  }
}

/** The models a simulator serves, looked up with or without `:latest`. */
export class ModelRegistry {
  readonly #models = new Map<string, ResolvedModel>()

  constructor(models: readonly SimModel[]) {
    for (const model of models) {
      const resolved = resolveModel(model)
      this.#models.set(resolved.name, resolved)
    }
  }

  find(name: string): ResolvedModel | undefined {
    return this.#models.get(normalizeModelName(name))
  }

  list(): ResolvedModel[] {
    return [...this.#models.values()]
  }

  add(model: ResolvedModel): void {
    this.#models.set(model.name, model)
  }

  delete(name: string): boolean {
    return this.#models.delete(normalizeModelName(name))
  }
}

export function hasCapability(model: ResolvedModel, capability: ModelCapability): boolean {
  return model.capabilities.includes(capability)
}
