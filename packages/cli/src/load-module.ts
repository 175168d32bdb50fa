import { isAbsolute, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createJiti } from 'jiti'

/**
 * Imports a user module (config file or plugin) the way Node would, plus TypeScript: jiti
 * transpiles `.ts` on the fly. `specifier` is a path (`./x.ts`, `/abs/x.js`) or a package name,
 * resolved from `cwd`. Returns the module's default export (or the module when it has none).
 */
export async function importUserModule(specifier: string, cwd: string): Promise<unknown> {
  const jiti = createJiti(pathToFileURL(join(cwd, 'noop.js')).href, {
    interopDefault: true,
    moduleCache: false,
    fsCache: false,
  })
  const target = isPath(specifier) ? resolve(cwd, specifier) : specifier
  return jiti.import(target, { default: true })
}

/** `./x`, `../x`, `/x`, `C:\x` and anything with a script extension is a path; the rest a package name. */
export function isPath(specifier: string): boolean {
  return (
    specifier.startsWith('.') ||
    isAbsolute(specifier) ||
    /\.(?:[cm]?[jt]s|json)$/.test(specifier) ||
    specifier.startsWith('file:')
  )
}
