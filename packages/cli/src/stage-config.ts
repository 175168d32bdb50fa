import type { Backend, ModelDigest, RequestDefaults, StageDefinition } from '@spout/core'
import type { Options } from '@spout/core/ollama'
import { CliError } from './cli-error.ts'
import type { StageConfig } from './config-schema.ts'

export type { StageConfig } from './config-schema.ts'

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
