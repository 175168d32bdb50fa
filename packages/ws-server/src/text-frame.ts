// A tick's frame goes to hundreds of viewers: framed once (RFC 6455 §5.2) and written as is to each
// viewer's socket, instead of `ws` framing it again per viewer (a header buffer and a two-part write each).

/** `payload` as one final, unmasked WebSocket text frame (as a server sends it): header and payload in one buffer. */
export function textFrame(payload: Buffer): Buffer {
  const length = payload.length
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10
  const frame = Buffer.allocUnsafe(header + length)
  frame[0] = 0x81 // FIN, opcode 1 (text)
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
