import { definePlugin } from '@spout/core'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { defineConfig, type SpoutConfig } from './index.ts'

describe('defineConfig', () => {
  it('returns the config as given and types plugin hooks from context', () => {
    const config = defineConfig({
      model: 'llama3.2',
      think: 'high',
      format: { type: 'object' },
      options: { temperature: 0.2 },
      plugins: [
        {
          name: 'inline',
          buildPrompt(request) {
            expectTypeOf(request.model).toEqualTypeOf<string>()
            return undefined
          },
        },
        definePlugin({ name: 'defined' }),
        false,
      ],
    })
    expectTypeOf(config).toEqualTypeOf<SpoutConfig>()
    expect(config.model).toBe('llama3.2')
    const lazy = defineConfig(async () => ({ model: 'qwen3' }))
    expect(typeof lazy).toBe('function')
  })
})
