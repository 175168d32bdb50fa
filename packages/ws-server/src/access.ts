import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/** Compares a presented token with the expected one in constant time. */
export function tokenMatches(presented: string | undefined | null, expected: string): boolean {
  if (presented === undefined || presented === null) return false
  const digest = (value: string) => createHash('sha256').update(value).digest()
  return timingSafeEqual(digest(presented), digest(expected))
}

/** The token a request carries: `Authorization: Bearer T`, else the `token` query parameter. */
export function presentedToken(request: IncomingMessage, url: URL): string | undefined {
  const header = request.headers.authorization
  if (header) {
    const match = /^Bearer\s+(.+)$/i.exec(header.trim())
    if (match) return match[1]
  }
  return url.searchParams.get('token') ?? undefined
}

const loopbackNames = new Set(['localhost', '[::1]'])

function isLoopbackName(name: string): boolean {
  return loopbackNames.has(name) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)
}

/** The host name of a `Host` header value, lower-cased, without the port. */
function hostName(value: string): string {
  const lower = value.toLowerCase()
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1)
  const colon = lower.lastIndexOf(':')
  return colon === -1 ? lower : lower.slice(0, colon)
}

/**
 * DNS-rebinding guard: a hub bound to loopback answers only requests addressed to a loopback
 * name (or a host the operator allowed). A hub bound to another address accepts any `Host`.
 */
export function hostAllowed(
  request: IncomingMessage,
  loopback: boolean,
  allowedHosts: ReadonlySet<string>,
): boolean {
  if (!loopback) return true
  const host = request.headers.host
  if (!host) return true
  const name = hostName(host)
  return isLoopbackName(name) || allowedHosts.has(name) || allowedHosts.has(host)
}

/**
 * Browsers send `Origin` with every WebSocket handshake; it must be the hub's own origin (the page
 * it served), a page served from this machine (`localhost`, `127.x`, `[::1]` on any port, e.g.
 * `vite dev`), or one the operator allowed. Clients without `Origin` (Node, curl) are not browsers
 * and pass. A page on any other site cannot use the visitor's browser to watch or publish.
 */
export function originAllowed(request: IncomingMessage, allowedOrigins: ReadonlySet<string>): boolean {
  const origin = request.headers.origin
  if (origin === undefined) return true
  if (allowedOrigins.has(origin)) return true
  let parsed: URL
  try {
    parsed = new URL(origin)
  } catch {
    return false
  }
  if (isLoopbackName(parsed.hostname.toLowerCase())) return true
  const host = request.headers.host?.toLowerCase()
  return host !== undefined && parsed.host.toLowerCase() === host
}
