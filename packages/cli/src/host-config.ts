// One host of a pool as a config file gives it (`hosts`, of the config or of a stage), and its check.
import { CliError } from './cli-error.ts'

/** One host of `hosts`. */
export interface HostConfig {
  /** The host's address, as `--host` takes it. */
  address: string
  /** Its API: Ollama's (`/api`, default) or OpenAI-compatible (`/v1`). */
  api?: 'ollama' | 'openai'
  /** Requests in flight there, fixed. Default: learned from how it answers. */
  concurrency?: number
  /** Preference among hosts with free slots (free slots × weight). Default 1. */
  weight?: number
  /** The models it may serve. Default: every model it lists. */
  models?: string[]
}

const hostKeys = new Set(['address', 'api', 'concurrency', 'weight', 'models'])

/** Checks `hosts` (of the config, or of a stage); messages start with `where`. */
export function checkHosts(hosts: unknown, file: string): void {
  if (!Array.isArray(hosts))
    throw new CliError(`${file}: "hosts" must be an array of addresses or { address, … }`)
  hosts.forEach((entry: unknown, index) => {
    const where = `${file}: hosts[${index}]`
    if (typeof entry === 'string') return
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw new CliError(`${where} must be an address or { address, api, concurrency, weight, models }`)
    const host = entry as Record<string, unknown>
    for (const key of Object.keys(host))
      if (!hostKeys.has(key))
        throw new CliError(`${where}: unknown key "${key}" (known: ${[...hostKeys].join(', ')})`)
    if (typeof host.address !== 'string') throw new CliError(`${where}: "address" must be a string`)
    if (host.api !== undefined && host.api !== 'ollama' && host.api !== 'openai')
      throw new CliError(`${where}: "api" must be "ollama" or "openai"`)
    if (
      host.concurrency !== undefined &&
      !(Number.isInteger(host.concurrency) && (host.concurrency as number) >= 1)
    )
      throw new CliError(`${where}: "concurrency" must be a whole number ≥ 1`)
    if (host.weight !== undefined && !(typeof host.weight === 'number' && host.weight > 0))
      throw new CliError(`${where}: "weight" must be a number > 0`)
    if (
      host.models !== undefined &&
      !(Array.isArray(host.models) && host.models.every((model) => typeof model === 'string'))
    )
      throw new CliError(`${where}: "models" must be an array of model names`)
  })
}
