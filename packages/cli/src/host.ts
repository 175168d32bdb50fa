import { CliError } from './cli-error.ts'

export const defaultHost = 'http://127.0.0.1:11434'

/**
 * The Ollama address to use: `--host`, then the config's `host`, then `OLLAMA_HOST`, then
 * `http://127.0.0.1:11434`. Accepts Ollama's forms: `host`, `host:port`, `:port`, full URLs;
 * `0.0.0.0` (a listen address) means this machine.
 */
export function resolveHost(
  flag: string | undefined,
  configured: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const value = flag ?? configured ?? (env.OLLAMA_HOST || undefined)
  return value === undefined ? defaultHost : normalizeHost(value)
}

export function normalizeHost(value: string): string {
  let text = value.trim()
  if (text === '') return defaultHost
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text))
    text = `http://${text.startsWith(':') ? `127.0.0.1${text}` : text}`
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new CliError(`not a valid Ollama address: "${value}" (expected e.g. http://127.0.0.1:11434)`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`not a valid Ollama address: "${value}" (expected http:// or https://)`)
  }
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1'
  if (url.hostname === '[::]') url.hostname = '[::1]'
  if (url.port === '' && !/:\d+(\/|$)/.test(text.replace(/^[a-z]+:\/\//i, ''))) {
    url.port = url.protocol === 'https:' ? '443' : '11434'
  }
  return url.href.replace(/\/+$/, '')
}
