// The streamed reply of a completion: its chunks paced at the simulator's speed, cut into socket
// writes by the chunking mode, and the fault that hits the stream (an error line, a dropped
// connection, a stall, a malformed line) before the chunk it names.
import { type ChunkWriter, createChunkWriter } from './chunk-writer.ts'
import type { Exchange } from './exchange.ts'
import type { Chunking, FaultSpec } from './faults.ts'
import { type Metrics, tokenJson, type WireFormat } from './lines.ts'
import { bareJsonContentType, midstreamErrorMessage, sendError } from './replies.ts'
import type { CompletionPlan } from './text.ts'
import { createClock, sleep } from './time.ts'

export type Outcome = 'completed' | 'cancelled' | 'faulted'

/** One completion ready to answer: what it says, how it is written and paced, and its fault. */
export interface CompletionReply {
  exchange: Exchange
  plan: CompletionPlan
  format: WireFormat
  chunking: Chunking
  /** ms between chunks (0: as fast as the socket takes them). */
  interval: number
  /** Thinking, response and tool-call chunks. */
  chunkCount: number
  fault: FaultSpec | undefined
  /** The chunk before which a stream fault hits (`chunkCount`: after the last one); -1 for none. */
  faultIndex: number
  /** When the first token was due (`performance.now()`). */
  firstAt: number
  /** The `context` array of a generate reply, as JSON. */
  context: string | undefined
  metrics: () => Metrics
}

/** Writes the reply as a stream of chunks, then the final line. */
export function streamCompletion(reply: CompletionReply): Promise<Outcome> {
  return new ChunkStream(reply).run()
}

class ChunkStream {
  readonly #reply: CompletionReply
  readonly #writer: ChunkWriter
  readonly #clock = createClock()
  #started = false
  /** Chunk i is due at paceOrigin + i * interval; a stall moves the schedule instead of causing a burst. */
  #paceOrigin: number

  constructor(reply: CompletionReply) {
    this.#reply = reply
    const { exchange, chunking, plan } = reply
    this.#writer = createChunkWriter(exchange.response, chunking, plan.seed, exchange.signal)
    this.#paceOrigin = reply.firstAt
  }

  async run(): Promise<Outcome> {
    const { exchange, format, plan, interval, chunkCount, faultIndex, context, metrics } = this.#reply
    const { response, signal } = exchange
    const writer = this.#writer
    for (let index = 0; index <= chunkCount; index++) {
      if (index === faultIndex) {
        const outcome = await this.#fault(index)
        if (outcome) return outcome
      }
      if (index === chunkCount) break
      if (interval > 0 && index > 0) {
        const flushed = writer.flush()
        if (flushed) await flushed
        await sleep(this.#paceOrigin + index * interval - performance.now(), signal)
      }
      if (signal.aborted) return 'cancelled'
      const line = this.#chunk(index)
      this.#start()
      const wait = writer.write(line)
      if (wait) {
        await wait
        if (signal.aborted) return 'cancelled'
      }
    }
    if (!this.#started) response.writeHead(200, { 'Content-Type': format.contentType })
    const last = writer.write(format.streamEnd(this.#clock(), plan.doneReason, context, metrics()))
    if (last) await last
    const rest = writer.flush()
    if (rest) await rest
    if (signal.aborted) return 'cancelled'
    response.end()
    return 'completed'
  }

  /** Chunk `index`: thinking tokens first, then the response's, then the tool calls. */
  #chunk(index: number): string {
    const { format, plan } = this.#reply
    const thinkingCount = plan.thinkingTokens.length
    if (index < thinkingCount)
      return format.thinkingChunk(this.#clock(), tokenJson(plan.thinkingTokens[index]!))
    if (index < thinkingCount + plan.tokens.length)
      return format.responseChunk(this.#clock(), tokenJson(plan.tokens[index - thinkingCount]!))
    return format.toolCallChunk(this.#clock(), plan.toolCalls)
  }

  #start(): void {
    if (this.#started) return
    this.#reply.exchange.response.writeHead(200, { 'Content-Type': this.#reply.format.contentType })
    this.#started = true
  }

  /** The stream fault, before chunk `index`: how the request ended, or nothing when the stream goes on. */
  async #fault(index: number): Promise<Outcome | undefined> {
    const { exchange, format, interval } = this.#reply
    const fault = this.#reply.fault!
    const { response, signal } = exchange
    const writer = this.#writer
    if (!this.#started && (fault.name === 'midstream-error' || fault.name === 'drop')) {
      // Nothing written yet: Ollama answers a failure before the first line with a status.
      if (fault.name === 'drop') exchange.destroySocket()
      else sendError(response, 500, midstreamErrorMessage, bareJsonContentType)
      return 'faulted'
    }
    this.#start()
    const flushed = writer.flush()
    if (flushed) await flushed
    if (signal.aborted) return 'cancelled'
    if (fault.name === 'midstream-error') {
      const wait = writer.write(format.streamError(midstreamErrorMessage))
      if (wait) await wait
      const rest = writer.flush()
      if (rest) await rest
      response.end()
      return 'faulted'
    }
    if (fault.name === 'drop') {
      // Let the written lines leave (http corks the socket until the next tick), then cut.
      await new Promise<void>((resolve) => setImmediate(resolve))
      exchange.destroySocket()
      return 'faulted'
    }
    if (fault.name === 'stall') {
      await sleep(fault.ms ?? 1000, signal)
      if (signal.aborted) return 'cancelled'
      this.#paceOrigin = performance.now() - index * interval
    } else {
      const wait = writer.write(format.malformed(this.#clock()))
      if (wait) await wait
    }
    return undefined
  }
}
