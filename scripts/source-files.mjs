// The source files the house-rule checks read (check-size, check-imports): every file under a
// directory whose name matches `extensions`, outside node_modules, dist and dot folders, no `.d.ts`.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

export function* sourceFiles(directory, extensions) {
  for (const entry of readdirSync(directory)) {
    if (entry === 'node_modules' || entry === 'dist' || entry.startsWith('.')) continue
    const path = join(directory, entry)
    if (statSync(path).isDirectory()) yield* sourceFiles(path, extensions)
    else if (extensions.test(entry) && !entry.endsWith('.d.ts')) yield path
  }
}
