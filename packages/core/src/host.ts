// Where Ollama is: `options.host`, else `OLLAMA_HOST` read the way Ollama reads it
// (ollama/ollama envconfig `Host()`), else http://127.0.0.1:11434. The one host parser of Spout: the CLI
// and the backends call it.
import { HostError } from './errors.ts'

export const defaultHost = 'http://127.0.0.1:11434'

export interface ResolvedHost {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:11434` or `https://proxy.example/ollama`. */
  url: string
  /** `Authorization` header built from `user:password@` in the host, if any (removed from `url`). */
  authorization: string | undefined
}

/**
 * Parses a host the way Ollama parses `OLLAMA_HOST`: surrounding spaces and quotes are ignored; the scheme
 * is optional (default `http`); the port defaults to 11434 without a scheme, 80 for `http://` and 443 for
 * `https://`; a path is kept (for reverse proxies). An empty host or an unspecified address (`0.0.0.0`,
 * `::`, what a server listens on) means this machine, as Go's `net.Dial` (and so Ollama's own CLI)
 * treats it: 127.0.0.1, or ::1 for `::`. A port that is not a number from 0 to 65535 falls back to the
 * default, as in Ollama. Throws `HostError` for a scheme other than http and https.
 */
export function parseHost(value: string): ResolvedHost {
  let text = unquote(value)
  let scheme = 'http'
  let defaultPort = '11434'
  const schemeEnd = text.indexOf('://')
  if (schemeEnd !== -1) {
    scheme = text.slice(0, schemeEnd).toLowerCase()
    text = text.slice(schemeEnd + 3)
    if (scheme === 'http') defaultPort = '80'
    else if (scheme === 'https') defaultPort = '443'
    else throw new HostError({ host: value, reason: `unsupported scheme ${scheme}: use http or https` })
  } else if (text === 'ollama.com') {
    scheme = 'https'
    defaultPort = '443'
  }

  let authority = text
  let path = ''
  const slash = text.indexOf('/')
  if (slash !== -1) {
    authority = text.slice(0, slash)
    path = text.slice(slash).replace(/\/+$/, '')
  }

  let authorization: string | undefined
  const at = authority.lastIndexOf('@')
  if (at !== -1) {
    const credentials = decodeURIComponent(authority.slice(0, at))
    authorization = `Basic ${btoa(credentials)}`
    authority = authority.slice(at + 1)
  }

  let host: string
  let port: string
  const split = splitHostPort(authority)
  if (split) {
    host = split.host
    port = split.port
  } else {
    host = authority.replace(/^\[|\]$/g, '')
    port = defaultPort
  }
  const portNumber = Number(port)
  if (port === '' || !Number.isInteger(portNumber) || portNumber < 0 || portNumber > 65535) port = defaultPort

  if (host === '' || host === '0.0.0.0') host = '127.0.0.1'
  else if (host === '::' || host === '0:0:0:0:0:0:0:0') host = '::1'
  const hostPart = host.includes(':') ? `[${host}]` : host
  return { url: `${scheme}://${hostPart}:${port}${path}`, authorization }
}

/** Go's net.SplitHostPort: `host:port` or `[v6]:port`; a bare IPv6 address has no port. */
function splitHostPort(authority: string): { host: string; port: string } | undefined {
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']')
    if (close === -1 || authority[close + 1] !== ':') return undefined
    return { host: authority.slice(1, close), port: authority.slice(close + 2) }
  }
  const colon = authority.lastIndexOf(':')
  if (colon === -1 || authority.indexOf(':') !== colon) return undefined
  return { host: authority.slice(0, colon), port: authority.slice(colon + 1) }
}

/** `host` if given, else `OLLAMA_HOST` from `environment`, else the default. */
export function resolveHost(
  host: string | undefined,
  environment: Record<string, string | undefined> = typeof process === 'undefined' ? {} : process.env,
): ResolvedHost {
  const value = host ?? environment.OLLAMA_HOST
  if (value === undefined || unquote(value) === '') return { url: defaultHost, authorization: undefined }
  return parseHost(value)
}

/** Surrounding spaces and quotes dropped, as Ollama's envconfig `Var()` does. */
function unquote(value: string): string {
  return value
    .trim()
    .replace(/^["']+|["']+$/g, '')
    .trim()
}
