// Server-Sent Events decoding that scans bytes, with the NDJSON decoder's rules: a chunk may end at
// any byte (also inside a UTF-8 character), the complete lines of a read are decoded at once, memory
// stays linear in the longest event and is bounded by `maxEventSize`. Lines end with `\n`, `\r\n` or
// `\r`; `:` lines are comments (keep-alives); `data:` lines of one event are joined with `\n`; `event:`
// and `id:` are kept; a last event without its blank line is still dispatched when the input ends.
// Browser-safe: no node:* imports.

import {
  type ByteParser,
  type ByteSource,
  ParserIterator,
  ParserStream,
  PendingBytes,
} from './byte-parser.ts'
import { ParseError } from './errors.ts'

/** One dispatched event. */
export interface SseEvent {
  /** The `event:` field; `message` when the event had none. */
  event: string
  /** The event's `data:` lines joined with `\n` (`[DONE]` for OpenAI's end marker). */
  data: string
  /** The last `id:` seen in the stream so far (`''` when none). */
  id: string
}

export interface SseOptions {
  /** Largest event accepted, in bytes: its lines without their line endings. Default 64 MiB. */
  maxEventSize?: number
  /** Where the bytes come from (a URL or file name), used in error messages. */
  source?: string
  /**
   * Copy the bytes of an unfinished line out of the chunk (default `true`, for sources that reuse their
   * buffers). `false` keeps a view instead: right for Node streams and undici bodies, which never reuse them.
   */
  copyChunks?: boolean
  /**
   * Called with each event's data and name instead of appending an `SseEvent` to `out`: for decoders
   * built on this one, which turn the data into their own values (no event object in between).
   */
  onEvent?: (out: unknown[], data: string, event: string | undefined) => void
}

export const defaultMaxEventSize = 64 * 1024 * 1024

const lineFeed = 0x0a
const carriageReturn = 0x0d
const colon = 0x3a
const space = 0x20

/** The synchronous core: feed it byte chunks, it appends every dispatched `SseEvent` to `out`. */
export class SseParser implements ByteParser {
  readonly maxEventSize: number
  readonly source: string | undefined
  readonly #decoder = new TextDecoder()
  /** Bytes of the current unfinished line. */
  readonly #pending: PendingBytes
  /** The last read ended with `\r`: a `\n` opening the next one ends the same line. */
  #skipLineFeed = false
  /** Lines finished so far. */
  #line = 0
  /** Byte offset (in the whole stream) of the start of the current unfinished line. */
  #offset = 0
  /** Where the current event began: its first line's number and byte offset. */
  #eventLine = 1
  #eventStart = 0
  /** Bytes of the current event's lines so far. */
  #eventBytes = 0
  /** The event's first `data:` line; with more lines, all of them are in `#dataLines`. */
  #data: string | undefined
  #dataLines: string[] = []
  readonly #onEvent: SseOptions['onEvent']
  #type: string | undefined
  #lastId = ''

  constructor(options: SseOptions = {}) {
    const limit = options.maxEventSize ?? defaultMaxEventSize
    if (!(limit > 0)) throw new RangeError(`maxEventSize must be a positive number of bytes, got ${limit}`)
    this.maxEventSize = limit
    this.source = options.source
    this.#pending = new PendingBytes(options.copyChunks ?? true)
    this.#onEvent = options.onEvent
  }

  /** Lines finished so far. */
  get lines(): number {
    return this.#line
  }

  /** Bytes consumed so far. */
  get bytes(): number {
    return this.#offset + this.#pending.length
  }

  push(chunk: Uint8Array, out: unknown[]): void {
    const length = chunk.length
    if (length === 0) return
    let start = 0
    if (this.#skipLineFeed) {
      this.#skipLineFeed = false
      if (chunk[0] === lineFeed) {
        if (this.#eventStart === this.#offset) this.#eventStart += 1
        this.#offset += 1
        start = 1
        if (length === 1) return
      }
    }
    if (this.#pending.length > 0) {
      start = this.#finishPending(chunk, start, out)
      if (start >= length) return
    }
    const lastFeed = chunk.lastIndexOf(lineFeed)
    const lastReturn = chunk.lastIndexOf(carriageReturn)
    const last = Math.max(lastFeed, lastReturn)
    if (last < start) {
      this.#appendPending(chunk, start)
      return
    }
    this.#lines(chunk, start, last, lastReturn >= start, out)
    if (chunk[last] === carriageReturn && last + 1 === length) this.#skipLineFeed = true
    if (last + 1 < length) this.#appendPending(chunk, last + 1)
  }

  /** The input ended: the last line without its ending, then the last event without its blank line. */
  end(out: unknown[]): void {
    this.#skipLineFeed = false
    if (this.#pending.length > 0) {
      const total = this.#pending.length
      const joined = this.#pending.take()
      this.#offset += total
      this.#line += 1
      this.#field(this.#decoder.decode(joined), total, out)
    }
    this.#dispatch(out)
  }

  /** Ends the unfinished line with the first line ending of `chunk`; returns where the rest starts. */
  #finishPending(chunk: Uint8Array, start: number, out: unknown[]): number {
    const feed = chunk.indexOf(lineFeed, start)
    const ret = chunk.indexOf(carriageReturn, start)
    const end = ret === -1 || (feed !== -1 && feed < ret) ? feed : ret
    if (end === -1) {
      this.#appendPending(chunk, start)
      return chunk.length
    }
    const total = this.#pending.length + end - start
    this.#checkSize(total)
    const joined = this.#pending.take(chunk, start, end)
    let ending = 1
    if (chunk[end] === carriageReturn) {
      if (end + 1 === chunk.length) this.#skipLineFeed = true
      else if (chunk[end + 1] === lineFeed) ending = 2
    }
    this.#offset += total + ending
    this.#line += 1
    this.#field(this.#decoder.decode(joined), total, out)
    return end + ending
  }

  /** Every complete line of `chunk[start..last]` (`last` is a line ending), decoded at once. */
  #lines(chunk: Uint8Array, start: number, last: number, returns: boolean, out: unknown[]): void {
    // Line-ending bytes never occur inside a UTF-8 sequence: the text's line endings are exactly the bytes'.
    const text = this.#decoder.decode(chunk.subarray(start, last + 1))
    // One UTF-16 unit per byte means every character is one byte: lengths in units are lengths in bytes.
    const ascii = text.length === last + 1 - start
    let bytePosition = start
    let nextFeed = text.indexOf('\n')
    let nextReturn = returns ? text.indexOf('\r') : -1
    let from = 0
    while (from < text.length) {
      if (nextFeed !== -1 && nextFeed < from) nextFeed = text.indexOf('\n', from)
      if (nextReturn !== -1 && nextReturn < from) nextReturn = text.indexOf('\r', from)
      let to: number
      let ending = 1
      if (nextReturn === -1 || (nextFeed !== -1 && nextFeed < nextReturn)) to = nextFeed
      else {
        to = nextReturn
        if (nextFeed === to + 1) ending = 2
      }
      let bytes: number
      if (ascii) bytes = to - from
      else {
        const end = chunk.indexOf(text.charCodeAt(to), bytePosition)
        bytes = end - bytePosition
        bytePosition = end + ending
      }
      this.#offset += bytes + ending
      this.#line += 1
      if (to === from) this.#dispatch(out)
      else if (text.charCodeAt(from) === 0x64 && text.startsWith('data:', from)) {
        // The hot path: a `data:` line is sliced once, straight to its value.
        this.#eventBytes += bytes
        if (this.#eventBytes > this.maxEventSize) this.#tooLong()
        this.#addData(text.slice(text.charCodeAt(from + 5) === space ? from + 6 : from + 5, to))
      } else this.#field(text.slice(from, to), bytes, out)
      from = to + ending
    }
  }

  /** One whole line: a blank line dispatches, a comment is skipped, a field is kept. */
  #field(line: string, bytes: number, out: unknown[]): void {
    if (line.length === 0) {
      this.#dispatch(out)
      return
    }
    this.#eventBytes += bytes
    if (this.#eventBytes > this.maxEventSize) this.#tooLong()
    const first = line.charCodeAt(0)
    if (first === colon) return
    if (first === 0x64 && line.startsWith('data:')) {
      this.#addData(line.charCodeAt(5) === space ? line.slice(6) : line.slice(5))
      return
    }
    const at = line.indexOf(':')
    const name = at === -1 ? line : line.slice(0, at)
    const value = at === -1 ? '' : line.slice(line.charCodeAt(at + 1) === space ? at + 2 : at + 1)
    if (name === 'data') this.#addData(value)
    else if (name === 'event') this.#type = value
    else if (name === 'id' && !value.includes('\u0000')) this.#lastId = value
    // `retry:` and unknown fields are ignored, as EventSource does.
  }

  #dispatch(out: unknown[]): void {
    this.#eventBytes = 0
    this.#eventStart = this.#offset
    this.#eventLine = this.#line + 1
    const first = this.#data
    if (first !== undefined) {
      const lines = this.#dataLines
      const data = lines.length === 0 ? first : lines.join('\n')
      this.#data = undefined
      lines.length = 0
      const type = this.#type
      this.#type = undefined
      if (this.#onEvent) this.#onEvent(out, data, type)
      else out.push({ event: type ?? 'message', data, id: this.#lastId } satisfies SseEvent)
      return
    }
    this.#type = undefined
  }

  #addData(value: string): void {
    if (this.#data === undefined) this.#data = value
    else if (this.#dataLines.length === 0) this.#dataLines.push(this.#data, value)
    else this.#dataLines.push(value)
  }

  #appendPending(chunk: Uint8Array, start: number): void {
    this.#checkSize(this.#pending.length + chunk.length - start)
    this.#pending.add(chunk, start)
  }

  /** An unfinished line of `bytes` would make the event too large. */
  #checkSize(bytes: number): void {
    if (this.#eventBytes + bytes > this.maxEventSize) this.#tooLong()
  }

  #tooLong(): never {
    this.#pending.clear()
    this.#data = undefined
    this.#dataLines.length = 0
    throw new ParseError({
      code: 'SPOUT_EVENT_TOO_LONG',
      message: `SSE event larger than ${this.maxEventSize} bytes (maxEventSize)`,
      line: this.#eventLine,
      offset: this.#eventStart,
      source: this.source,
    })
  }
}

/**
 * Decodes a Server-Sent Events byte stream into its events. Events may be split at any byte and many
 * may arrive in one chunk. Breaking out of the loop calls the source's `return()`.
 */
export function decodeSse(source: ByteSource, options?: SseOptions): AsyncIterableIterator<SseEvent> {
  return new ParserIterator<SseEvent>(source, new SseParser(options))
}

/** The same decoder as a WHATWG `TransformStream` (browsers, `fetch` bodies). */
export class SseDecoderStream extends ParserStream<SseEvent> {
  constructor(options?: SseOptions) {
    super(new SseParser(options))
  }
}
