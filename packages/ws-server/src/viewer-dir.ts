import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The live viewer this package ships (`dist/viewer`, `@spout/web`'s build copied in when the package
 * is built), or `undefined` when it has not been built. Resolved from this module alone, so an
 * installed package serves its own viewer and never one found elsewhere on the disk.
 */
export function bundledViewerDir(): string | undefined {
  // `dist/index.js` and `src/viewer-dir.ts` both sit one folder below the package root.
  const directory = fileURLToPath(new URL('../dist/viewer/', import.meta.url))
  return existsSync(join(directory, 'index.html')) ? directory : undefined
}
