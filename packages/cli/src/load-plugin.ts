import type { PluginOption } from '@spout/core'
import { CliError } from './cli-error.ts'
import { firstLine } from './config.ts'
import { importUserModule } from './load-module.ts'

/**
 * Loads a `--plugin` argument: a path (`./my-plugin.js`, `./my-plugin.ts`) or a package name,
 * resolved from the working directory. Its default export is a plugin (an object with a `name`),
 * an array of plugins, or a factory that returns either (called with no arguments).
 */
export async function loadPlugin(specifier: string, cwd: string): Promise<PluginOption> {
  let exported: unknown
  try {
    exported = await importUserModule(specifier, cwd)
  } catch (error) {
    throw new CliError(`--plugin ${specifier}: cannot load it (${firstLine(error)})`, { cause: error })
  }
  let plugin: unknown = exported
  if (typeof exported === 'function') {
    try {
      plugin = await (exported as () => unknown)()
    } catch (error) {
      throw new CliError(`--plugin ${specifier}: its factory threw: ${firstLine(error)}`, { cause: error })
    }
  }
  if (!isPluginOption(plugin)) {
    throw new CliError(
      `--plugin ${specifier}: the default export must be a plugin ({ name, …hooks }) or a function returning one`,
    )
  }
  return plugin
}

function isPluginOption(value: unknown): value is PluginOption {
  if (value === false || value === null || value === undefined) return true
  if (Array.isArray(value)) return value.every(isPluginOption)
  return typeof value === 'object' && typeof (value as { name?: unknown }).name === 'string'
}
