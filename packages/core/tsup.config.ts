import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts', 'src/events-entry.ts', 'src/errors-entry.ts', 'src/ndjson-entry.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node22',
})
