import { CliError } from './cli-error.ts'

/**
 * The Ollama address to hand to `OllamaClient`: `--host`, then the config's `host`, then `OLLAMA_HOST`,
 * then `http://127.0.0.1:11434`. Core's parser reads it (Ollama's forms: `host`, `host:port`, `:port`, full
 * URLs, quoted); here it is only checked, so a bad one fails as a usage error before any request. Messages
 * show `client.host`, the parsed base URL.
 */
export async function resolveHost(
  flag: string | undefined,
  configured: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string> {
  // Loaded when a command runs: `spout --help` does not pay for undici.
  const { HostError, resolveHost: resolveOllamaHost } = await import('@spout/core')
  const value = flag ?? configured ?? env.OLLAMA_HOST
  try {
    const resolved = resolveOllamaHost(value, {})
    return value === undefined ? resolved.url : value
  } catch (error) {
    if (error instanceof HostError) throw new CliError(error.message, { cause: error })
    throw error
  }
}
