import { hubCloseCodes, parseEvent, type SpoutEvent } from '@spout/core/events'
import { WebSocket } from 'ws'
import type { HubMetrics } from './metrics.ts'

/** Error codes of `hub-error` frames. */
export const hubErrorCodes = {
  invalidJson: 'invalid-json',
  invalidEvent: 'invalid-event',
  invalidFrame: 'invalid-frame',
} as const

/** One connected producer. */
export interface Producer {
  readonly socket: WebSocket
  alive: boolean
  invalidFrames: number
}

/**
 * The producers' side of the hub: takes their frames (one event or an array of events, as JSON
 * text), checks every event against the schema and hands whole frames on. A bad frame is dropped
 * whole and answered with a `hub-error`; past `maxInvalidFrames` the producer is closed (4400).
 */
export class ProducerIntake {
  readonly producers = new Set<Producer>()
  readonly #metrics: HubMetrics
  readonly #maxInvalidFrames: number
  readonly #onEvents: (events: SpoutEvent[], producer: Producer) => void

  constructor(
    metrics: HubMetrics,
    maxInvalidFrames: number,
    onEvents: (events: SpoutEvent[], producer: Producer) => void,
  ) {
    this.#metrics = metrics
    this.#maxInvalidFrames = maxInvalidFrames
    this.#onEvents = onEvents
  }

  accept(socket: WebSocket): void {
    const producer: Producer = { socket, alive: true, invalidFrames: 0 }
    this.producers.add(producer)
    socket.on('pong', () => {
      producer.alive = true
    })
    socket.on('close', () => this.producers.delete(producer))
    socket.on('message', (data, isBinary) => {
      producer.alive = true
      try {
        this.#receive(producer, data as Buffer | Buffer[] | ArrayBuffer, isBinary)
      } catch {
        socket.terminate()
      }
    })
  }

  #receive(producer: Producer, data: Buffer | Buffer[] | ArrayBuffer, isBinary: boolean): undefined {
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)
    this.#metrics.framesIn += 1
    this.#metrics.bytesIn += bytes.length
    if (isBinary)
      return this.#reject(producer, hubErrorCodes.invalidFrame, 'frames must be JSON text, not binary')
    let value: unknown
    try {
      value = JSON.parse(bytes.toString('utf8'))
    } catch (error) {
      return this.#reject(
        producer,
        hubErrorCodes.invalidJson,
        `frame is not JSON: ${(error as Error).message}`,
      )
    }
    const items = Array.isArray(value) ? value : [value]
    if (items.length === 0)
      return this.#reject(producer, hubErrorCodes.invalidFrame, 'frame is an empty array')
    const events: SpoutEvent[] = new Array(items.length)
    for (let index = 0; index < items.length; index++) {
      const result = parseEvent(items[index])
      if (!result.ok) {
        const where = Array.isArray(value) ? `event ${index}: ` : ''
        return this.#reject(producer, hubErrorCodes.invalidEvent, `${where}${result.message} (frame dropped)`)
      }
      events[index] = result.event
    }
    this.#metrics.eventsIn += events.length
    this.#onEvents(events, producer)
    return undefined
  }

  #reject(producer: Producer, code: string, message: string): undefined {
    this.#metrics.invalidFrames += 1
    producer.invalidFrames += 1
    const socket = producer.socket
    if (socket.readyState !== WebSocket.OPEN) return undefined
    socket.send(JSON.stringify({ type: 'hub-error', code, message }))
    if (producer.invalidFrames > this.#maxInvalidFrames) {
      socket.close(hubCloseCodes.invalidFrames, 'too many invalid frames')
    }
    return undefined
  }
}
