import { access, readFile } from 'node:fs/promises'
import { basename, dirname, resolve } from 'node:path'
import { CliError } from './cli-error.ts'
import { configIssue, type SpoutConfig, spoutConfigSchema } from './config-schema.ts'
import { importUserModule } from './load-module.ts'

export type { HostConfig, SpoutConfig } from './config-schema.ts'

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
  const parsed = spoutConfigSchema.safeParse(value)
  if (!parsed.success) throw new CliError(configIssue(parsed.error, file, value))
  return parsed.data
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
