/** Where the viewer finds the hub's viewer endpoint. */
export interface HubAddress {
  /** The WebSocket URL of the viewer endpoint, e.g. `ws://127.0.0.1:4317/ws`. */
  readonly socketUrl: string
  /** A viewer token, passed through from the page's `?token=`. */
  readonly token?: string
  /** A control token, passed through from the page's `?control=`: the hub then takes stop commands. */
  readonly control?: string
}

/**
 * Works out the hub from the page's address. In order: the page's `?hub=` query parameter (a
 * `ws(s)://` or `http(s)://` address, with or without the `/ws` path), then `fallback` (the
 * `VITE_SPOUT_HUB` build variable, for `vite dev`), then the page's own origin (`spout serve` serves
 * the viewer and the hub on one port).
 */
export function resolveHubAddress(page: URL, fallback?: string): HubAddress {
  const token = page.searchParams.get('token') ?? undefined
  const control = page.searchParams.get('control') || undefined
  const given = page.searchParams.get('hub') || fallback
  const socket = given ? parseGiven(given, page) : undefined
  if (socket) return withTokens(socket.href, token, control)
  const origin = new URL('/ws', page)
  origin.protocol = page.protocol === 'https:' ? 'wss:' : 'ws:'
  origin.search = ''
  origin.hash = ''
  return withTokens(origin.href, token, control)
}

function parseGiven(given: string, page: URL): URL | undefined {
  let url: URL
  try {
    url = new URL(/^[a-z]+:\/\//i.test(given) ? given : `ws://${given}`, page)
  } catch {
    return undefined
  }
  if (url.protocol === 'http:') url.protocol = 'ws:'
  else if (url.protocol === 'https:') url.protocol = 'wss:'
  else if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return undefined
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/ws'
  url.hash = ''
  return url
}

function withTokens(socketUrl: string, token: string | undefined, control: string | undefined): HubAddress {
  return { socketUrl, ...(token ? { token } : {}), ...(control ? { control } : {}) }
}

/**
 * The URL for one connection attempt. With a `hubId` from an earlier snapshot it asks the hub to
 * resume: `?hub=<hubId>&resume=<formatResume(state)>`, so the hub replays only what was missed.
 */
export function socketUrlFor(
  address: HubAddress,
  position: { hubId?: string; resume?: string } = {},
): string {
  const url = new URL(address.socketUrl)
  if (address.token) url.searchParams.set('token', address.token)
  if (address.control) url.searchParams.set('control', address.control)
  if (position.hubId) {
    url.searchParams.set('hub', position.hubId)
    if (position.resume) url.searchParams.set('resume', position.resume)
  }
  return url.href
}
