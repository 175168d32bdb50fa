// What every package's build shares: ESM for Node 22, types, source maps, a clean dist. A package's
// tsup.config.ts names its entries (and anything of its own, e.g. ws-server's viewer copy).
import { defineConfig, type Options } from 'tsup'

export function packageConfig(entry: string[], options: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node22',
    ...options,
  })
}
