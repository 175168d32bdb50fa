// NDJSON decoding that scans bytes, not strings: time linear in the input, memory linear in the longest
// line (and bounded by `maxLineLength`). Browser-safe: no node:* imports.

import {
  type ByteParser,
  type ByteSource,
  ParserIterator,
  ParserStream,
  PendingBytes,
} from './byte-parser.ts'
import { ParseError } from './errors.ts'

export interface NdjsonOptions {
  /** Longest line accepted, in bytes (without the newline). Default 64 MiB. */
  maxLineLength?: number
  /** Where the bytes come from (a URL or file name), used in error messages. */
  source?: string
  /**
   * Copy the bytes of an unfinished line out of the chunk (default `true`, for sources that reuse their
   * buffers). `false` keeps a view instead: right for Node streams and undici bodies, which never reuse them.
   */
  copyChunks?: boolean
}

export const defaultMaxLineLength = 64 * 1024 * 1024

const newline = 0x0a

/**
 * The synchronous core shared by every decoder form: feed it byte chunks, it appends every complete
 * JSON value to `out`. Blank lines and `\r\n` endings are accepted; a last line without `\n` is parsed
 * by `end()`. Throws `ParseError` (after appending the values that came before the bad line).
 */
export class NdjsonParser implements ByteParser {
  readonly maxLineLength: number
  readonly source: string | undefined
  readonly #decoder = new TextDecoder()
  /** Bytes of the current unfinished line. */
  readonly #pending: PendingBytes
  /** Number of lines finished so far. */
  #line = 0
  /** Byte offset (in the whole stream) of the start of the current unfinished line. */
  #offset = 0

  constructor(options: NdjsonOptions = {}) {
    const limit = options.maxLineLength ?? defaultMaxLineLength
    if (!(limit > 0)) throw new RangeError(`maxLineLength must be a positive number of bytes, got ${limit}`)
    this.maxLineLength = limit
    this.source = options.source
    this.#pending = new PendingBytes(options.copyChunks ?? true)
  }

  /** Number of lines finished so far. */
  get lines(): number {
    return this.#line
  }

  /** Total bytes consumed so far. */
  get bytes(): number {
    return this.#offset + this.#pending.length
  }

  push(chunk: Uint8Array, out: unknown[]): void {
    const length = chunk.length
    if (length === 0) return
    const base = this.#offset + this.#pending.length
    let start = 0
    if (this.#pending.length > 0) {
      const end = chunk.indexOf(newline)
      if (end === -1) {
        this.#appendPending(chunk, 0)
        return
      }
      this.#checkLength(this.#pending.length + end)
      const joined = this.#pending.take(chunk, 0, end)
      this.#parseLine(this.#decoder.decode(joined), out)
      this.#offset = base + end + 1
      start = end + 1
      if (start === length) return
    }
    const last = chunk.lastIndexOf(newline)
    if (last < start) {
      this.#appendPending(chunk, start)
      return
    }
    // Decode every complete line of this chunk at once: a newline byte never occurs inside a UTF-8
    // sequence, so the `\n` characters of the text are exactly the newline bytes.
    const text = this.#decoder.decode(chunk.subarray(start, last))
    const limit = this.maxLineLength
    const checkLengths = last - start > limit
    let from = 0
    let index = 0
    for (;;) {
      const to = text.indexOf('\n', from)
      const line = to === -1 ? text.slice(from) : text.slice(from, to)
      if (checkLengths && line.length * 3 > limit && utf8Length(line) > limit) {
        this.#offset = base + lineStart(chunk, start, index)
        this.#checkLength(limit + 1)
      }
      this.#line += 1
      if (line.length !== 0 && line !== '\r') {
        try {
          out.push(JSON.parse(line))
        } catch (error) {
          if (line.trim() !== '') {
            this.#offset = base + lineStart(chunk, start, index)
            throw this.#parseError(line, error)
          }
        }
      }
      if (to === -1) break
      from = to + 1
      index++
    }
    this.#offset = base + last + 1
    if (last + 1 < length) this.#appendPending(chunk, last + 1)
  }

  /** Parses the last line when the input did not end with a newline. */
  end(out: unknown[]): void {
    if (this.#pending.length === 0) return
    const total = this.#pending.length
    const joined = this.#pending.take()
    this.#parseLine(this.#decoder.decode(joined), out)
    this.#offset += total
  }

  #appendPending(chunk: Uint8Array, start: number): void {
    this.#checkLength(this.#pending.length + chunk.length - start)
    this.#pending.add(chunk, start)
  }

  #checkLength(bytes: number): void {
    if (bytes > this.maxLineLength) {
      this.#pending.clear()
      throw new ParseError({
        code: 'SPOUT_LINE_TOO_LONG',
        message: `NDJSON line longer than ${this.maxLineLength} bytes (maxLineLength)`,
        line: this.#line + 1,
        offset: this.#offset,
        source: this.source,
      })
    }
  }

  /** Parses one whole line; the caller moves the offset on. */
  #parseLine(line: string, out: unknown[]): void {
    this.#line += 1
    if (line.length !== 0 && line !== '\r') {
      try {
        out.push(JSON.parse(line))
      } catch (error) {
        if (line.trim() !== '') throw this.#parseError(line, error)
      }
    }
  }

  /** For the line just counted in `#line`, starting at `#offset`. */
  #parseError(line: string, cause: unknown): ParseError {
    const preview = line.length > 60 ? `${line.slice(0, 60)}…` : line
    return new ParseError({
      code: 'SPOUT_PARSE_ERROR',
      message: `invalid JSON ${JSON.stringify(preview)}`,
      line: this.#line,
      offset: this.#offset,
      source: this.source,
      cause,
    })
  }
}

/** Position in `chunk` of the start of the `index`-th line after `start` (error paths only). */
function lineStart(chunk: Uint8Array, start: number, index: number): number {
  let position = start
  for (let count = 0; count < index; count++) position = chunk.indexOf(newline, position) + 1
  return position
}

/** UTF-8 byte length of a string (lone surrogates count as the 3 bytes of U+FFFD). */
function utf8Length(text: string): number {
  let bytes = text.length
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index)
    if (unit < 0x80) continue
    if (unit < 0x800) bytes += 1
    else if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2
        index++
      } else bytes += 2
    } else bytes += 2
  }
  return bytes
}

/**
 * Decodes an NDJSON byte stream into its values. Objects may be split at any byte and many may
 * arrive in one chunk. Breaking out of the loop calls the source's `return()`.
 */
export function decodeNdjson<T = unknown>(
  source: ByteSource,
  options?: NdjsonOptions,
): AsyncIterableIterator<T> {
  return new ParserIterator<T>(source, new NdjsonParser(options))
}

/** The same decoder as a WHATWG `TransformStream` (browsers, `fetch` bodies). */
export class NdjsonDecoderStream<T = unknown> extends ParserStream<T> {
  constructor(options?: NdjsonOptions) {
    super(new NdjsonParser(options))
  }
}
