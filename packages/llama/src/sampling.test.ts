import { describe, expect, it } from 'vitest'
import { samplingOf } from './sampling.ts'

describe('samplingOf', () => {
  it("uses Ollama's defaults when no option is given", () => {
    expect(samplingOf(undefined)).toEqual({
      temperature: 0.8,
      topK: 40,
      topP: 0.9,
      minP: 0,
      repeatPenalty: { penalty: 1.1, lastTokens: 64 },
    })
  })

  it('maps the --option keys to node-llama-cpp names', () => {
    expect(
      samplingOf({
        temperature: 0,
        seed: 42,
        top_p: 0.5,
        top_k: 5,
        min_p: 0.1,
        num_predict: 10,
        stop: ['\n\n', 'END'],
        repeat_penalty: 1,
        repeat_last_n: 8,
        presence_penalty: 0.2,
        frequency_penalty: 0.3,
      }),
    ).toEqual({
      temperature: 0,
      seed: 42,
      topP: 0.5,
      topK: 5,
      minP: 0.1,
      maxTokens: 10,
      customStopTriggers: ['\n\n', 'END'],
      repeatPenalty: { penalty: 1, lastTokens: 8, presencePenalty: 0.2, frequencyPenalty: 0.3 },
    })
  })

  it('reads a negative num_predict as no limit', () => {
    expect(samplingOf({ num_predict: -1 }).maxTokens).toBeUndefined()
    expect(samplingOf({ num_predict: -2 }).maxTokens).toBeUndefined()
  })
})
