import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { originAllowed, presentedToken, tokenMatches } from './access.ts'
import type { ResolvedHubOptions } from './options.ts'

/** Who connects on an endpoint: viewers on `/ws`, producers on `/publish`. */
export type HubRole = 'viewer' | 'producer'

export function roleOf(pathname: string): HubRole | undefined {
  if (pathname === '/ws') return 'viewer'
  if (pathname === '/publish') return 'producer'
  return undefined
}

/** Ends a handshake the hub will not upgrade, with a bare HTTP status. */
export function refuseHandshake(socket: Socket, status: '403 Forbidden' | '404 Not Found'): void {
  socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
}

/** Whether an upgraded connection may stay: its `Origin`, then its token for the role. */
export type AdmissionVerdict = 'accept' | 'forbidden-origin' | 'unauthorized'

/**
 * Producers must present `token` when the hub has one. Viewers must present `viewerToken` when
 * the hub has one, or the producers' `token` (which opens everything).
 */
export function admissionVerdict(
  role: HubRole,
  request: IncomingMessage,
  url: URL,
  options: ResolvedHubOptions,
): AdmissionVerdict {
  if (!originAllowed(request, options.allowedOrigins)) return 'forbidden-origin'
  const token = presentedToken(request, url)
  if (role === 'producer') {
    const expected = options.token
    return expected !== undefined && !tokenMatches(token, expected) ? 'unauthorized' : 'accept'
  }
  const { viewerToken, token: publishToken } = options
  const viewerAllowed =
    viewerToken === undefined ||
    tokenMatches(token, viewerToken) ||
    (publishToken !== undefined && tokenMatches(token, publishToken))
  return viewerAllowed ? 'accept' : 'unauthorized'
}
