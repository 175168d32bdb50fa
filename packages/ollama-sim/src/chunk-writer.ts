import type { ServerResponse } from 'node:http'
import type { Chunking } from './faults.ts'
import { Random } from './random.ts'

/**
 * Cuts NDJSON text into socket writes according to a chunking mode, honouring back-pressure.
 * `write` and `flush` return a promise only when the caller has to wait (a full socket buffer or a
 * paced write), so the hot path costs no promise per chunk.
 */
export interface ChunkWriter {
  write(text: string): Promise<void> | undefined
  /** Sends what is held back (coalesce, random); call before every pause and at the end. */
  flush(): Promise<void> | undefined
}

const coalesceBytes = 64 * 1024
const largeRemainder = 64 * 1024

/** Resolves on 'drain', or as soon as the request is cancelled. */
export function waitForDrain(response: ServerResponse, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    response.once('drain', done)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** Writes one piece and resolves once the socket has taken it (so pieces leave as separate writes). */
function writeAndWait(response: ServerResponse, piece: Uint8Array, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
    response.write(piece, done)
  })
}

class LineWriter implements ChunkWriter {
  readonly response: ServerResponse
  readonly signal: AbortSignal

  constructor(response: ServerResponse, signal: AbortSignal) {
    this.response = response
    this.signal = signal
  }

  write(text: string): Promise<void> | undefined {
    return this.response.write(text) ? undefined : waitForDrain(this.response, this.signal)
  }

  flush(): undefined {
    return undefined
  }
}

class CoalesceWriter implements ChunkWriter {
  #pending = ''
  readonly response: ServerResponse
  readonly signal: AbortSignal

  constructor(response: ServerResponse, signal: AbortSignal) {
    this.response = response
    this.signal = signal
  }

  write(text: string): Promise<void> | undefined {
    this.#pending += text
    return this.#pending.length >= coalesceBytes ? this.flush() : undefined
  }

  flush(): Promise<void> | undefined {
    if (this.#pending === '') return undefined
    const text = this.#pending
    this.#pending = ''
    return this.response.write(text) ? undefined : waitForDrain(this.response, this.signal)
  }
}

class ByteWriter implements ChunkWriter {
  readonly response: ServerResponse
  readonly signal: AbortSignal

  constructor(response: ServerResponse, signal: AbortSignal) {
    this.response = response
    this.signal = signal
  }

  async write(text: string): Promise<void> {
    const bytes = Buffer.from(text)
    for (let index = 0; index < bytes.length && !this.signal.aborted; index++) {
      await writeAndWait(this.response, bytes.subarray(index, index + 1), this.signal)
    }
  }

  flush(): undefined {
    return undefined
  }
}

/** Random cuts anywhere (through UTF-8 sequences and across lines), from a seeded generator. */
class RandomWriter implements ChunkWriter {
  #pending: Buffer = Buffer.alloc(0)
  #nextCut: number
  readonly #random: Random
  readonly response: ServerResponse
  readonly signal: AbortSignal

  constructor(response: ServerResponse, signal: AbortSignal, seed: number) {
    this.response = response
    this.signal = signal
    this.#random = new Random(seed)
    this.#nextCut = this.#drawCut(0)
  }

  #drawCut(remaining: number): number {
    if (remaining > largeRemainder) return this.#random.between(1, largeRemainder)
    return this.#random.next() % 4 === 0 ? this.#random.between(1, 4) : this.#random.between(1, 256)
  }

  /** Half the time, moves a cut to just after the next UTF-8 lead byte, so a character is split. */
  #splitCharacter(size: number): number {
    if (this.#random.next() % 2 === 0) return size
    const end = Math.min(this.#pending.length - 1, size + 64)
    for (let index = size; index < end; index++) {
      if (this.#pending[index]! >= 0xc0) return index + 1
    }
    return size
  }

  write(text: string): Promise<void> | undefined {
    const bytes = Buffer.from(text)
    this.#pending = this.#pending.length === 0 ? bytes : Buffer.concat([this.#pending, bytes])
    return this.#pending.length >= this.#nextCut ? this.#send(false) : undefined
  }

  flush(): Promise<void> | undefined {
    return this.#pending.length === 0 ? undefined : this.#send(true)
  }

  async #send(all: boolean): Promise<void> {
    while (
      !this.signal.aborted &&
      this.#pending.length > 0 &&
      (all || this.#pending.length >= this.#nextCut)
    ) {
      const size = this.#splitCharacter(Math.min(this.#nextCut, this.#pending.length))
      const piece = this.#pending.subarray(0, size)
      this.#pending = this.#pending.subarray(size)
      this.#nextCut = this.#drawCut(this.#pending.length)
      await writeAndWait(this.response, piece, this.signal)
    }
  }
}

export function createChunkWriter(
  response: ServerResponse,
  mode: Chunking,
  seed: number,
  signal: AbortSignal,
): ChunkWriter {
  switch (mode) {
    case 'coalesce':
      return new CoalesceWriter(response, signal)
    case 'byte':
      return new ByteWriter(response, signal)
    case 'random':
      return new RandomWriter(response, signal, seed)
    default:
      return new LineWriter(response, signal)
  }
}
