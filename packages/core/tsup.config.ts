import { defineConfig } from 'tsup'

export default defineConfig({
  entry: [
    'src/index.ts',
    'src/events-entry.ts',
    'src/errors-entry.ts',
    'src/ndjson-entry.ts',
    'src/ollama-entry.ts',
    'src/backend-entry.ts',
    'src/plugin-entry.ts',
  ],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node22',
})
