import { access, readFile } from 'node:fs/promises'
import { basename, dirname, resolve } from 'node:path'
import type { PluginOption, Timeouts } from '@spout/core'
import type { Format, KeepAlive, Options, Think } from '@spout/core/ollama'
import { CliError } from './cli-error.ts'
import { checkHosts, type HostConfig } from './host-config.ts'
import { importUserModule } from './load-module.ts'
import { checkStageConfigs, type StageConfig } from './stage-config.ts'

export type { HostConfig } from './host-config.ts'

/** What `spout.config.*` may set. Command-line flags override each field. */
export interface SpoutConfig {
  /** Model name, e.g. `llama3.2` (`-m`). */
  model?: string
  /** Server base URL (`--host`); default `OLLAMA_HOST`, then `http://127.0.0.1:11434`. */
  host?: string
  /** The backend (`--api`): `ollama`, `openai` (an OpenAI-compatible server), `llama-cpp`. */
  api?: 'ollama' | 'openai' | 'llama-cpp'
  /**
   * Several hosts in one run (a pool; `--host` repeated overrides it): addresses, or objects with
   * the host's `api`, fixed `concurrency` (default: learned), `weight` and `models`.
   */
  hosts?: (string | HostConfig)[]
  /** Requests in flight at once (`-c`); with several hosts, each host's fixed concurrency. */
  concurrency?: number
  /** Extra attempts per record after a retryable failure (`--retries`). */
  retries?: number
  /** System prompt; `{{field}}` placeholders are filled from each record (`-s`). */
  system?: string
  /** Prompt template with `{{field}}` placeholders (`-t`). */
  template?: string
  /** The record field holding each record's id (`--id-field`). */
  idField?: string
  /** Use `/api/chat` instead of `/api/generate` (`--chat`). */
  chat?: boolean
  /** Thinking for models that support it (`--think`). */
  think?: Think
  /** `'json'` or a JSON schema object (`--format`). */
  format?: Format
  /** Extra tries of a response its `format` refuses (`--format-retries`). */
  formatRetries?: number
  /** How long Ollama keeps the model loaded, e.g. `'10m'` or `-1` (`--keep-alive`). */
  keepAlive?: KeepAlive
  /** Ollama model options (`temperature`, `num_ctx`, `seed`, …); `--option` entries override keys. */
  options?: Options
  /** Plugins, run before those given with `--plugin`. Falsy entries are skipped, arrays flattened. */
  plugins?: PluginOption[]
  /** Per-phase limits in ms (`connect`, `firstByte`, `idle`; 0 = none); `--connect-timeout`, … override each. */
  timeouts?: Timeouts
  /** Extra request headers, e.g. `{ Authorization: 'Bearer …' }` for a proxy; `--header` adds or overrides. */
  headers?: Record<string, string>
  /** A staged run (teacher → student → judge): each stage's model, prompt, format, split, filter. */
  stages?: StageConfig[]
  /** The input file when the command names none; relative to the config file. */
  input?: string
  /** The output file when `-o` is not given; relative to the config file. */
  output?: string
}

export type SpoutConfigInput = SpoutConfig | (() => SpoutConfig | Promise<SpoutConfig>)

/**
 * Declares a `spout.config.ts` with types. Identity at runtime.
 *
 * ```ts
 * import { defineConfig } from '@spout/cli'
 * export default defineConfig({ model: 'llama3.2', concurrency: 4 })
 * ```
 */
export function defineConfig(config: SpoutConfig): SpoutConfig
export function defineConfig(
  config: () => SpoutConfig | Promise<SpoutConfig>,
): () => SpoutConfig | Promise<SpoutConfig>
export function defineConfig(config: SpoutConfigInput): SpoutConfigInput {
  return config
}

export const configFileNames = [
  'spout.config.ts',
  'spout.config.mjs',
  'spout.config.js',
  'spout.config.json',
] as const

const knownKeys = new Set<string>([
  'model',
  'host',
  'api',
  'hosts',
  'concurrency',
  'retries',
  'system',
  'template',
  'idField',
  'chat',
  'think',
  'format',
  'formatRetries',
  'keepAlive',
  'options',
  'plugins',
  'timeouts',
  'headers',
  'stages',
  'input',
  'output',
])

export interface LoadedConfig {
  config: SpoutConfig
  /** The file it came from; undefined when there is none. */
  path?: string
}

/**
 * Finds and loads the config: `explicitPath` (`--config`) when given, else the first of
 * `spout.config.{ts,mjs,js,json}` in `cwd`. No file is not an error; a broken one is.
 */
export async function loadConfig(cwd: string, explicitPath?: string): Promise<LoadedConfig> {
  const path = explicitPath ? resolve(cwd, explicitPath) : await findConfig(cwd)
  if (!path) return { config: {} }
  if (explicitPath && !(await exists(path))) throw new CliError(`config file not found: ${explicitPath}`)
  let loaded: unknown
  try {
    loaded = path.endsWith('.json')
      ? (JSON.parse(await readFile(path, 'utf8')) as unknown)
      : await importUserModule(path, cwd)
    if (typeof loaded === 'function') loaded = await (loaded as () => unknown)()
  } catch (error) {
    throw new CliError(`cannot load ${basename(path)}: ${firstLine(error)}`, { cause: error })
  }
  return { config: validateConfig(loaded, basename(path)), path }
}

async function findConfig(cwd: string): Promise<string | undefined> {
  for (const name of configFileNames) {
    const candidate = resolve(cwd, name)
    if (await exists(candidate)) return candidate
  }
  return undefined
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

function validateConfig(value: unknown, file: string): SpoutConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError(`${file}: the default export must be an object (use defineConfig({ … }))`)
  }
  const config = value as Record<string, unknown>
  for (const key of Object.keys(config)) {
    if (!knownKeys.has(key)) {
      throw new CliError(`${file}: unknown key "${key}" (known: ${[...knownKeys].join(', ')})`)
    }
  }
  const expect = (key: string, type: string, ok: (field: unknown) => boolean) => {
    if (config[key] !== undefined && !ok(config[key])) throw new CliError(`${file}: "${key}" must be ${type}`)
  }
  const isString = (field: unknown) => typeof field === 'string'
  const isObject = (field: unknown) => typeof field === 'object' && field !== null && !Array.isArray(field)
  expect('model', 'a string', isString)
  expect('host', 'a string', isString)
  expect('api', 'one of ollama, openai, llama-cpp', (field) =>
    ['ollama', 'openai', 'llama-cpp'].includes(field as string),
  )
  expect('system', 'a string', isString)
  expect('template', 'a string', isString)
  expect('idField', 'a string', isString)
  expect('concurrency', 'a whole number ≥ 1', (field) => Number.isInteger(field) && (field as number) >= 1)
  expect('retries', 'a whole number ≥ 0', (field) => Number.isInteger(field) && (field as number) >= 0)
  expect('formatRetries', 'a whole number ≥ 0', (field) => Number.isInteger(field) && (field as number) >= 0)
  expect('chat', 'a boolean', (field) => typeof field === 'boolean')
  expect('think', 'a boolean or low/medium/high/max', (field) =>
    [true, false, 'low', 'medium', 'high', 'max'].includes(field as string),
  )
  expect('format', '"json" or a JSON schema object', (field) => field === 'json' || isObject(field))
  expect('keepAlive', 'a string or number', (field) => isString(field) || typeof field === 'number')
  expect('options', 'an object', isObject)
  expect('plugins', 'an array', Array.isArray)
  const isMs = (field: unknown) => typeof field === 'number' && Number.isFinite(field) && field >= 0
  expect(
    'timeouts',
    'an object of connect, firstByte, idle (ms ≥ 0)',
    (field) =>
      isObject(field) &&
      Object.entries(field as object).every(
        ([name, ms]) => ['connect', 'firstByte', 'idle'].includes(name) && isMs(ms),
      ),
  )
  expect(
    'headers',
    'an object of header names to string values',
    (field) => isObject(field) && Object.values(field as object).every(isString),
  )
  expect('input', 'a string', isString)
  expect('output', 'a string', isString)
  if (config.stages !== undefined) config.stages = checkStageConfigs(config.stages, file)
  if (config.hosts !== undefined) checkHosts(config.hosts, file)
  return config as SpoutConfig
}

/** The config's `input` or `output`, resolved against the config file's directory. */
export function configPath(loaded: LoadedConfig, key: 'input' | 'output'): string | undefined {
  const value = loaded.config[key]
  if (value === undefined || value === '-') return value
  return loaded.path ? resolve(dirname(loaded.path), value) : value
}

export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.split('\n')[0] ?? message
}
