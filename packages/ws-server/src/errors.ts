import { SpoutError } from '@spout/core'

/**
 * Errors the hub throws to its caller (bad options, a port it cannot listen on).
 * Codes are documented in docs/protocol.md.
 */
export type HubErrorCode = 'SPOUT_HUB_INSECURE_BIND' | 'SPOUT_HUB_LISTEN' | 'SPOUT_HUB_OPTIONS'

export class HubError extends SpoutError {
  override name = 'HubError'
  declare readonly code: HubErrorCode

  constructor(code: HubErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}
