import { HubError } from './errors.ts'

/**
 * The producer endpoint for a hub address as `spout serve` prints it: `http://127.0.0.1:4317` →
 * `ws://127.0.0.1:4317/publish`. Also takes `https:`, `ws:` and `wss:` forms, and addresses that
 * already end in `/publish` (or name the viewer endpoint `/ws`).
 */
export function publishUrl(address: string): string {
  let url: URL
  try {
    url = new URL(address)
  } catch {
    throw new HubError('SPOUT_HUB_OPTIONS', `[broadcast] not a hub address: ${address}`)
  }
  const protocols: Record<string, string> = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' }
  const protocol = protocols[url.protocol]
  if (!protocol) {
    throw new HubError('SPOUT_HUB_OPTIONS', `[broadcast] hub address must be http(s) or ws(s): ${address}`)
  }
  url.protocol = protocol
  const path = url.pathname.replace(/\/+$/, '')
  if (path.endsWith('/publish')) url.pathname = path
  else if (path.endsWith('/ws')) url.pathname = `${path.slice(0, -3)}/publish`
  else url.pathname = `${path}/publish`
  url.hash = ''
  return url.toString()
}
