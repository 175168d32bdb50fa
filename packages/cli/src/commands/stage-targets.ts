// Where each stage of a staged run generates, chosen exactly as `spout run` chooses (run-target.ts):
// an Ollama server, an OpenAI-compatible `/v1` server, a pool of hosts, or a `.gguf` model in this
// process. Stages that name the same `.gguf` file share one loaded model.
import { resolve } from 'node:path'
import type { Backend, ModelDigest } from '@spout/core'
import type { Options } from '@spout/core/ollama'
import { CliError } from '../cli-error.ts'
import type { CommandContext } from '../command-context.ts'
import { firstLine, type SpoutConfig } from '../config.ts'
import { resolveConnection } from '../connection.ts'
import { usesLlama } from '../llama.ts'
import type { StageConfig } from '../stage-config.ts'
import type { RunFlags } from './run-flags.ts'
import { modelDigests } from './run-shared.ts'
import { hostSpecs, openTarget, type RunTarget } from './run-target.ts'

export class StageTargets {
  readonly #flags: RunFlags
  readonly #config: SpoutConfig
  readonly #io: CommandContext['io']
  /** `-c`, else the config's `concurrency`: a stage without its own takes it. */
  readonly #concurrencyDefault: number | undefined
  readonly #opened: RunTarget[] = []
  /** One loaded model per `.gguf` file, by its full path. */
  readonly #models = new Map<string, Promise<RunTarget>>()
  /** Each `.gguf` file's sequences: the concurrencies of the stages that use it, added. */
  readonly #sequences = new Map<string, number>()
  /** Each stage's hosts, by stage name (`spout run --queue` runs one worker per host by default). */
  readonly #hostCounts = new Map<string, number>()

  constructor(
    flags: RunFlags,
    config: SpoutConfig,
    io: CommandContext['io'],
    concurrency: number | undefined,
  ) {
    this.#flags = flags
    this.#config = config
    this.#io = io
    this.#concurrencyDefault = concurrency
    for (const stage of config.stages ?? []) {
      const model = stage.model ?? flags.model ?? config.model
      if (!model || !usesLlama(model, this.#api(stage))) continue
      const path = resolve(io.cwd, model)
      this.#sequences.set(path, (this.#sequences.get(path) ?? 0) + this.#concurrency(stage, 1))
    }
  }

  #api(stage: StageConfig): string | undefined {
    return stage.api ?? this.#flags.api ?? this.#config.api
  }

  /** The stage's `concurrency`, else `-c`, else the config's (none: `fallback`). */
  #concurrency<T extends number | undefined>(stage: StageConfig, fallback: T): number | T {
    return stage.concurrency ?? this.#concurrencyDefault ?? fallback
  }

  /**
   * The stage's backend, checked (its server answers, its pool has the model, its file loads), with
   * the model's digest for the lines' provenance: a `CliError` naming the stage when it cannot run.
   */
  async open(
    stage: StageConfig,
    model: string,
    options: Options,
  ): Promise<{ backend: Backend; modelDigest: ModelDigest | undefined }> {
    const api = this.#api(stage)
    let target: RunTarget
    try {
      target = usesLlama(model, api)
        ? await this.#inProcess(stage, model, api, options)
        : await this.#track(this.#open(stage, model, api, options, this.#concurrency(stage, 1)))
      await target.connect(model)
    } catch (error) {
      if (error instanceof CliError)
        throw new CliError(`stage ${stage.name}: ${firstLine(error)}`, { cause: error })
      throw error
    }
    return { backend: target.client, modelDigest: target.lister && (await modelDigests(target.lister)) }
  }

  #inProcess(
    stage: StageConfig,
    model: string,
    api: string | undefined,
    options: Options,
  ): Promise<RunTarget> {
    const path = resolve(this.#io.cwd, model)
    let target = this.#models.get(path)
    if (!target) {
      const sequences = this.#sequences.get(path) ?? this.#concurrency(stage, 1)
      target = this.#track(this.#open(stage, model, api, options, sequences))
      this.#models.set(path, target)
    }
    return target
  }

  /** `openTarget` with this stage's hosts: its `hosts`, its `host`, `--host`, the config's `hosts` or `host`. */
  async #open(
    stage: StageConfig,
    model: string,
    api: string | undefined,
    options: Options,
    sequences: number,
  ): Promise<RunTarget> {
    const flags = this.#flags
    const config = stage.hosts ? { ...this.#config, hosts: stage.hosts } : this.#config
    const hostFlags = stage.hosts ? undefined : stage.host ? [stage.host] : flags.host
    const hosts = await hostSpecs(hostFlags, config, this.#io.env, api)
    this.#hostCounts.set(stage.name, hosts.length)
    return openTarget(model, api, hosts, {
      cwd: this.#io.cwd,
      sequences,
      options,
      concurrency: this.#concurrency(stage, undefined),
      connection: resolveConnection(flags, this.#config),
      openai: {
        host: stage.host ?? flags.host?.[0],
        apiKey: flags.apiKey,
        configuredHost: this.#config.host,
        env: this.#io.env,
      },
    })
  }

  /** How many hosts the stage opened resolves (1 for one server or an in-process model). */
  hostCount(stage: string): number {
    return this.#hostCounts.get(stage) ?? 1
  }

  async #track(opening: Promise<RunTarget>): Promise<RunTarget> {
    const target = await opening
    this.#opened.push(target)
    return target
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#opened.splice(0).map((target) => target.close()))
  }
}
