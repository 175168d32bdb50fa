// Where `spout run` generates: one server (Ollama, or an OpenAI-compatible one) as it always did, a
// pool of servers when several are given (`--host` repeated, or `hosts` in the config), or a model
// in this process.
import {
  type Backend,
  type HostPool,
  type HostPoolMember,
  type HostReport,
  OllamaClient,
  type RequestOptions,
} from '@spout/core'
import type { Options } from '@spout/core/ollama'
import { CliError, exitCodes } from '../cli-error.ts'
import { firstLine, type HostConfig, type SpoutConfig } from '../config.ts'
import type { ConnectionOptions } from '../connection.ts'
import { describeError, unreachableMessage, unreachableReason } from '../describe-error.ts'
import { resolveHost } from '../host.ts'
import { openLlama, usesLlama } from '../llama.ts'
import { createOpenAIClient, type OpenAIClientFlags, usesOpenAI } from '../openai.ts'

/** One host as `spout run` takes it. */
export interface HostSpec {
  address: string
  api: 'ollama' | 'openai'
  concurrency?: number
  weight?: number
  models?: string[]
}

export interface RunTarget {
  /** What the pipeline generates through: the server's client, the pool, or an in-process model. */
  readonly client: Backend
  /** The API named in messages (`ollama` for a pool that has an Ollama host). */
  readonly api: 'ollama' | 'openai' | 'llama-cpp'
  /** The address (or the addresses of a pool) for messages. */
  readonly label: string
  /** The Ollama client asked for model digests (the first Ollama host); none for `/v1` only. */
  readonly lister: OllamaClient | undefined
  /** Per-host figures, for a pool. */
  readonly hosts: (() => HostReport[]) | undefined
  /** Checks the host(s) before the input is read: a `CliError` (exit 2) when it cannot run. */
  connect(model: string): Promise<void>
  /** Undefined when a host answers (`/api/version`, `/v1/models`), else why none does. */
  probe(signal: AbortSignal): Promise<string | undefined>
  close(): Promise<void>
}

/**
 * The hosts to use: `--host` (repeatable), else the config's `hosts`, else one host (the config's
 * `host`, `OLLAMA_HOST`, the default). A host's API is its own `api`, else `--api` / the config's
 * `api`, else `openai` for an address ending in `/v1`, else `ollama`.
 */
export async function hostSpecs(
  flags: readonly string[] | undefined,
  config: SpoutConfig,
  env: Readonly<Record<string, string | undefined>>,
  api?: string,
): Promise<HostSpec[]> {
  const apiOf = (address: string | undefined) => (usesOpenAI(api, address) ? 'openai' : 'ollama')
  if (flags && flags.length > 1) {
    return Promise.all(flags.map(async (flag) => ({ address: await checked(flag), api: apiOf(flag) })))
  }
  if (!flags?.length && config.hosts?.length) {
    return Promise.all(config.hosts.map((entry) => specOf(entry, apiOf)))
  }
  const address = flags?.[0] ?? config.host
  return [{ address: await resolveHost(address, undefined, env), api: apiOf(address) }]
}

async function specOf(
  entry: string | HostConfig,
  apiOf: (address: string) => HostSpec['api'],
): Promise<HostSpec> {
  if (typeof entry === 'string') return { address: await checked(entry), api: apiOf(entry) }
  const spec: HostSpec = { address: await checked(entry.address), api: entry.api ?? apiOf(entry.address) }
  if (entry.concurrency !== undefined) spec.concurrency = entry.concurrency
  if (entry.weight !== undefined) spec.weight = entry.weight
  if (entry.models !== undefined) spec.models = [...entry.models]
  return spec
}

async function checked(address: string): Promise<string> {
  return resolveHost(address, undefined, {})
}

export interface RunTargetOptions {
  /** `-c` (or the config's) when given: the fixed concurrency of pool hosts without their own. */
  concurrency: number | undefined
  /** Timeouts and headers (`--*-timeout`, `--header`, the config's) for every host. */
  connection: ConnectionOptions
  /** How a single OpenAI-compatible server is found (`--host`, the config, `OPENAI_BASE_URL`), and the key. */
  openai: OpenAIClientFlags & {
    configuredHost: string | undefined
    env: Readonly<Record<string, string | undefined>>
  }
}

/** What an in-process model needs besides the server options. */
export interface TargetOptions extends RunTargetOptions {
  cwd: string
  /** Records at once: the context's sequences of a `.gguf` model. */
  sequences: number
  /** Model options: `num_ctx`, `num_thread`, `num_gpu: 0` are load-time for a `.gguf` model. */
  options: Options
}

/**
 * Where `model` runs: in this process when it is a `.gguf` path or the API is `llama-cpp`, else on
 * `hosts` (one server, or a pool). `spout run` and each stage of a staged run choose here.
 */
export async function openTarget(
  model: string,
  api: string | undefined,
  hosts: HostSpec[],
  options: TargetOptions,
): Promise<RunTarget> {
  if (usesLlama(model, api)) {
    const { cwd, sequences, options: modelOptions } = options
    return inProcessTarget(await openLlama(model, { cwd, sequences, options: modelOptions }))
  }
  return openRunTarget(hosts, options)
}

/** One server (exactly what `spout run` did before pools), or a pool when several hosts are given. */
export async function openRunTarget(specs: HostSpec[], options: RunTargetOptions): Promise<RunTarget> {
  const [only] = specs
  const plain = only && !only.models && only.weight === undefined && only.concurrency === undefined
  if (specs.length === 1 && only && plain) {
    if (only.api === 'ollama') {
      const client = new OllamaClient({ host: only.address, ...options.connection })
      return singleServer(client, 'ollama', (request) => client.version(request), client)
    }
    const { configuredHost, env, ...flags } = options.openai
    const client = await createOpenAIClient(flags, configuredHost, env, options.connection)
    return singleServer(client, 'openai', (request) => client.models(request), undefined)
  }
  const { HostPool, OpenAIClient } = await import('@spout/core')
  const apiKey = options.openai.apiKey ?? options.openai.env.OPENAI_API_KEY
  const hosts = specs.map((spec) => {
    if (spec.api === 'ollama') {
      const client = new OllamaClient({ host: spec.address, ...options.connection })
      return { spec, client, ollama: client, ask: (request: RequestOptions) => client.version(request) }
    }
    const client = new OpenAIClient({
      host: spec.address,
      ...options.connection,
      ...(apiKey ? { apiKey } : {}),
    })
    return { spec, client, ollama: undefined, ask: (request: RequestOptions) => client.models(request) }
  })
  const members = hosts.map(({ spec, client }): HostPoolMember => {
    const member: HostPoolMember = { backend: client }
    const fixed = spec.concurrency ?? options.concurrency
    if (fixed !== undefined) member.concurrency = fixed
    if (spec.weight !== undefined) member.weight = spec.weight
    if (spec.models !== undefined) member.models = spec.models
    return member
  })
  return hostPool(new HostPool({ hosts: members }), hosts)
}

/** A backend in this process (`@spout/llama`): nothing to reach, nothing to probe. */
export function inProcessTarget(backend: Backend & { close(): Promise<void> }): RunTarget {
  return {
    client: backend,
    api: 'llama-cpp',
    label: backend.host,
    lister: undefined,
    hosts: undefined,
    connect: async () => {},
    probe: async () => undefined,
    close: () => backend.close(),
  }
}

type Ask = (request: RequestOptions) => Promise<unknown>

function singleServer(
  client: Backend & { close(): Promise<void> },
  api: 'ollama' | 'openai',
  ask: Ask,
  lister: OllamaClient | undefined,
): RunTarget {
  return {
    client,
    api,
    label: client.host,
    lister,
    hosts: undefined,
    async connect(model) {
      // Is the server there at all? One line naming the URL and the fix, before reading the input.
      try {
        await ask({})
      } catch (error) {
        const described = describeError(error, { host: client.host, model, api })
        throw new CliError(
          described.exitCode === exitCodes.usage
            ? described.message
            : unreachableMessage(client.host, described.message, api),
        )
      }
    },
    probe: (signal) => probeServer(ask, signal),
    close: () => client.close(),
  }
}

interface PoolHostClient {
  client: Backend & { close(): Promise<void> }
  ollama: OllamaClient | undefined
  ask: Ask
}

function hostPool(pool: HostPool, hosts: PoolHostClient[]): RunTarget {
  const label = hosts.map(({ client }) => client.host).join(', ')
  const lister = hosts.find((host) => host.ollama)?.ollama
  return {
    client: pool,
    api: lister ? 'ollama' : 'openai',
    label,
    lister,
    hosts: () => pool.hosts(),
    async connect(model) {
      await pool.start()
      const reports = pool.hosts()
      if (reports.every((report) => report.state === 'down')) {
        const reasons = reports.map(
          (report) => `${report.host}: ${unreachableReason({ message: report.reason }) ?? 'no answer'}`,
        )
        throw new CliError(unreachableMessage(label, reasons.join('; '), lister ? 'ollama' : 'openai'))
      }
      try {
        pool.requireModel(model)
      } catch (error) {
        throw new CliError(
          `${firstLine(error)}: download it there with \`spout pull ${model} --host <address>\``,
          { cause: error },
        )
      }
    },
    async probe(signal) {
      const reasons = await Promise.all(hosts.map(({ ask }) => probeServer(ask, signal)))
      if (reasons.some((reason) => reason === undefined)) return undefined
      return hosts.map(({ client }, index) => `${client.host}: ${reasons[index]}`).join('; ')
    },
    async close() {
      pool.close()
      await Promise.all(hosts.map(({ client }) => client.close()))
    },
  }
}

/** How long the mid-run check waits for a server to connect and to answer. */
const probeTimeoutMs = 5_000

/**
 * Asks the server once (Ollama its version, an OpenAI-compatible one its models), with short
 * timeouts: resolves to undefined when it answers, else to why it did not (`connection refused`).
 */
async function probeServer(ask: Ask, signal: AbortSignal): Promise<string | undefined> {
  try {
    await ask({
      signal,
      retry: false,
      timeouts: { connect: probeTimeoutMs, firstByte: probeTimeoutMs, idle: probeTimeoutMs },
    })
    return undefined
  } catch (error) {
    return unreachableReason(error) ?? 'no answer'
  }
}
