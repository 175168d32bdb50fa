// Ollama's `options` (the CLI's `--option key=value`) as node-llama-cpp's sampling options, with
// Ollama's defaults where node-llama-cpp's differ (it samples greedily unless told otherwise).

import type { Options } from '@spout/core/ollama'

export interface Sampling {
  temperature: number
  topK: number
  topP: number
  minP: number
  seed?: number
  repeatPenalty: { penalty: number; lastTokens: number; presencePenalty?: number; frequencyPenalty?: number }
  customStopTriggers?: string[]
  /** `num_predict`; undefined for no limit but the context. */
  maxTokens?: number
}

/** Ollama's defaults (its Modelfile documentation). */
const defaults = { temperature: 0.8, top_k: 40, top_p: 0.9, min_p: 0, repeat_penalty: 1.1, repeat_last_n: 64 }

export function samplingOf(options: Options | undefined): Sampling {
  const given = options ?? {}
  const sampling: Sampling = {
    temperature: given.temperature ?? defaults.temperature,
    topK: given.top_k ?? defaults.top_k,
    topP: given.top_p ?? defaults.top_p,
    minP: given.min_p ?? defaults.min_p,
    repeatPenalty: {
      penalty: given.repeat_penalty ?? defaults.repeat_penalty,
      lastTokens: given.repeat_last_n ?? defaults.repeat_last_n,
    },
  }
  if (given.seed !== undefined) sampling.seed = given.seed
  if (given.presence_penalty !== undefined) sampling.repeatPenalty.presencePenalty = given.presence_penalty
  if (given.frequency_penalty !== undefined) sampling.repeatPenalty.frequencyPenalty = given.frequency_penalty
  if (given.stop?.length) sampling.customStopTriggers = [...given.stop]
  // Ollama: -1 is "until the context is full", -2 "fill the context"; both mean no limit here.
  if (given.num_predict !== undefined && given.num_predict >= 0) sampling.maxTokens = given.num_predict
  return sampling
}
