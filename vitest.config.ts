import { defineConfig } from 'vitest/config'

const conditions = ['@spout/source', 'node', 'import', 'module', 'default']

const node = (name: string, include: string[]) => ({
  extends: true as const,
  test: { name, include, environment: 'node' as const },
})

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@spout/source'] } },
  test: {
    restoreMocks: true,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      node('core', ['packages/core/src/**/*.test.ts']),
      node('ollama-sim', ['packages/ollama-sim/src/**/*.test.ts']),
      node('ws-server', ['packages/ws-server/src/**/*.test.ts']),
      node('cli', ['packages/cli/src/**/*.test.ts']),
      node('llama', ['packages/llama/src/**/*.test.ts']),
      node('redis', ['packages/redis/src/**/*.test.ts']),
      node('e2e', ['tests/**/*.test.ts']),
      'apps/web',
    ],
  },
})
