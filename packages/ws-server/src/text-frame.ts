import { constants, deflateRawSync } from 'node:zlib'

// A tick's frame goes to hundreds of viewers: framed once (RFC 6455 §5.2) and written as is to each
// viewer's socket, instead of `ws` framing it again per viewer (a header buffer and a two-part write each).
// For the viewers that negotiated `permessage-deflate` without context takeover (RFC 7692), it is
// also compressed once: every such viewer can inflate the same bytes.

/** Below this many bytes a payload goes uncompressed: the saving would not pay for the work. */
const minDeflateBytes = 512
/** The 4 octets a sync flush ends with, left off the wire (RFC 7692 §7.2.1). */
const syncFlushTail = 4

/**
 * `payload` as one final, unmasked WebSocket text frame (as a server sends it): header and payload
 * in one buffer. `deflated`: the payload is compressed (RSV1 set).
 */
export function textFrame(payload: Buffer, deflated = false): Buffer {
  const length = payload.length
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10
  const frame = Buffer.allocUnsafe(header + length)
  frame[0] = deflated ? 0xc1 : 0x81 // FIN, RSV1 when compressed, opcode 1 (text)
  if (length < 126) frame[1] = length
  else if (length < 65_536) {
    frame[1] = 126
    frame.writeUInt16BE(length, 2)
  } else {
    frame[1] = 127
    frame.writeBigUInt64BE(BigInt(length), 2)
  }
  payload.copy(frame, header)
  return frame
}

/** Whether a frame made by {@link textFrame} carries a compressed payload (RSV1). */
export function isDeflated(frame: Buffer): boolean {
  return (frame[0]! & 0x40) !== 0
}

/** One tick's payload, framed once in each form some viewer needs: plain, and compressed. */
export class TickFrames {
  readonly payload: Buffer
  #plain: Buffer | undefined
  #deflated: Buffer | undefined

  constructor(payload: Buffer) {
    this.payload = payload
  }

  get plain(): Buffer {
    this.#plain ??= textFrame(this.payload)
    return this.#plain
  }

  /** Compressed (a sync flush, its tail left off), or plain when the payload is too small to pay. */
  get deflated(): Buffer {
    if (this.payload.length < minDeflateBytes) return this.plain
    if (!this.#deflated) {
      const compressed = deflateRawSync(this.payload, { level: 1, finishFlush: constants.Z_SYNC_FLUSH })
      this.#deflated = textFrame(compressed.subarray(0, compressed.length - syncFlushTail), true)
    }
    return this.#deflated
  }
}
