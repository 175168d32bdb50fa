import type {
  Backend,
  ModelDigest,
  RequestDefaults,
  StageDefinition,
  StageLine,
  StageRecord,
} from '@spout/core'
import type { Format, KeepAlive, Options, Think } from '@spout/core/ollama'
import { CliError } from './cli-error.ts'
import { checkHosts, type HostConfig } from './host-config.ts'

/** One stage of a staged run in `spout.config.ts` (`stages: [...]`). */
export interface StageConfig {
  /** A word: templates of later stages read its result as `{{name.response}}`, `{{name.parsed.x}}`. */
  name: string
  /**
   * Default: `-m`, then the config's `model`. A `.gguf` path runs in this process (`@spout/llama`),
   * as with `spout run -m ./model.gguf`.
   */
  model?: string
  /** Default: `--host`, then the config's `host`, then `OLLAMA_HOST`. A host ending in `/v1` is OpenAI-compatible. */
  host?: string
  /** Several servers for this stage: a pool, as the config's `hosts` (which is the default, after `--host`). */
  hosts?: (string | HostConfig)[]
  /** `ollama`, `openai` (an OpenAI-compatible `/v1` server) or `llama-cpp` (in process). Default: `--api`, then the config's `api`, then picked from the model and host as `spout run` does. */
  api?: 'ollama' | 'openai' | 'llama-cpp'
  /** System prompt template. */
  system?: string
  /** Prompt template over `{{input.field}}`, `{{item}}` (what a split made) and earlier stages. */
  template: string
  /** Default: `-c`, then the config's `concurrency`, then 1. */
  concurrency?: number
  retries?: number
  formatRetries?: number
  chat?: boolean
  think?: Think
  /** `'json'` or a JSON schema: each response is checked, its value is `{{name.parsed}}`. */
  format?: Format
  keepAlive?: KeepAlive
  /** Model options, over the config's `options`; `--option` entries override both. */
  options?: Options
  /** One record per line, per JSON array element, or per element a function returns. */
  split?: 'lines' | 'json-array' | ((result: StageLine, record: StageRecord) => readonly unknown[])
  /** Child ids are `<parent>.<childPrefix><n>`. Default `''`. */
  childPrefix?: string
  /** Return a reason (a string) to drop the record after this stage; it is written with `filtered`. */
  filter?: (record: StageRecord) => string | false | null | undefined
}

const stageKeys = new Set([
  'name',
  'model',
  'host',
  'hosts',
  'api',
  'system',
  'template',
  'concurrency',
  'retries',
  'formatRetries',
  'chat',
  'think',
  'format',
  'keepAlive',
  'options',
  'split',
  'childPrefix',
  'filter',
])

/** Checks `stages` from a config file; the message names the stage and the key. */
export function checkStageConfigs(value: unknown, file: string): StageConfig[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new CliError(`${file}: "stages" must be a non-empty array`)
  return value.map((stage: unknown, index) => {
    const where = `${file}: stages[${index}]`
    if (typeof stage !== 'object' || stage === null || Array.isArray(stage)) {
      throw new CliError(`${where} must be an object`)
    }
    const fields = stage as Record<string, unknown>
    for (const key of Object.keys(fields)) {
      if (!stageKeys.has(key))
        throw new CliError(`${where}: unknown key "${key}" (known: ${[...stageKeys].join(', ')})`)
    }
    const expect = (key: string, type: string, ok: (field: unknown) => boolean) => {
      if (fields[key] !== undefined && !ok(fields[key]))
        throw new CliError(`${where}: "${key}" must be ${type}`)
    }
    const isString = (field: unknown) => typeof field === 'string'
    const count = (minimum: number) => (field: unknown) =>
      Number.isInteger(field) && (field as number) >= minimum
    if (typeof fields.name !== 'string' || !/^[A-Za-z_][\w-]*$/.test(fields.name)) {
      throw new CliError(`${where}: "name" must be a word (letters, digits, _ or -)`)
    }
    if (typeof fields.template !== 'string' || fields.template === '') {
      throw new CliError(`${where} (${fields.name}): "template" is required`)
    }
    for (const key of ['model', 'host', 'system', 'childPrefix']) expect(key, 'a string', isString)
    expect('concurrency', 'a whole number ≥ 1', count(1))
    expect('retries', 'a whole number ≥ 0', count(0))
    expect('formatRetries', 'a whole number ≥ 0', count(0))
    expect('chat', 'a boolean', (field) => typeof field === 'boolean')
    expect('format', '"json" or a JSON schema object', (field) => field === 'json' || isPlainObject(field))
    expect('options', 'an object', isPlainObject)
    expect('api', 'one of ollama, openai, llama-cpp', (field) =>
      ['ollama', 'openai', 'llama-cpp'].includes(field as string),
    )
    if (fields.hosts !== undefined) checkHosts(fields.hosts, where)
    expect(
      'split',
      "'lines', 'json-array' or a function",
      (field) => ['lines', 'json-array'].includes(field as string) || typeof field === 'function',
    )
    expect('filter', 'a function', (field) => typeof field === 'function')
    return stage as StageConfig
  })
}

function isPlainObject(field: unknown): boolean {
  return typeof field === 'object' && field !== null && !Array.isArray(field)
}

/** What the command decided for every stage alike. */
export interface StageDefaults {
  model: string | undefined
  concurrency: number | undefined
  /** The config's `options` (a stage's own win over them). */
  baseOptions: Options | undefined
  /** `--option` entries (they win over every stage's). */
  options: Options
  /** Where a stage runs (its server, its pool, or its model in this process): `openTarget`'s choice. */
  backend: (
    stage: StageConfig,
    model: string,
    options: Options,
  ) => Promise<{ backend: Backend; modelDigest: ModelDigest | undefined }>
}

/** The stage definitions `runStages` takes, each with its backend. */
export async function buildStages(
  configs: readonly StageConfig[],
  defaults: StageDefaults,
): Promise<StageDefinition[]> {
  const stages: StageDefinition[] = []
  for (const stage of configs) {
    const model = stage.model ?? defaults.model
    if (!model) throw new CliError(`stage ${stage.name}: no model (set "model" on the stage, or pass -m)`)
    const request: RequestDefaults = {}
    const options = { ...defaults.baseOptions, ...stage.options, ...defaults.options }
    if (Object.keys(options).length > 0) request.options = options
    if (stage.format !== undefined) request.format = stage.format
    if (stage.think !== undefined) request.think = stage.think
    if (stage.keepAlive !== undefined) request.keep_alive = stage.keepAlive
    const { backend, modelDigest } = await defaults.backend(stage, model, options)
    const definition: StageDefinition = {
      name: stage.name,
      client: backend,
      model,
      template: stage.template,
      request,
      concurrency: stage.concurrency ?? defaults.concurrency ?? 1,
    }
    if (modelDigest) definition.modelDigest = modelDigest
    if (stage.system !== undefined) definition.system = stage.system
    if (stage.retries !== undefined) definition.retries = stage.retries
    if (stage.formatRetries !== undefined) definition.formatRetries = stage.formatRetries
    if (stage.chat) definition.endpoint = 'chat'
    if (stage.split !== undefined) definition.split = stage.split
    if (stage.childPrefix !== undefined) definition.childPrefix = stage.childPrefix
    if (stage.filter !== undefined) definition.filter = stage.filter
    stages.push(definition)
  }
  return stages
}
