// A worker's side of a viewer's stop of one record of a queue batch: the collector publishes it on
// the batch's control channel; the worker holding the record aborts it through its pipeline's
// `context.control`, so it ends failed with `SPOUT_ABORTED` and its line goes back as any line.
import type { JobControl, SpoutPlugin } from '@spout/core'
import type { Redis } from 'ioredis'
import { controlPattern, type StopRecord } from './queue-keys.ts'

interface Held {
  control?: JobControl
  /** The record's id in its pipeline (from its input: its idField, else its position), once it started. */
  started?: string
  /** A stop that came before the record started: applied when it does. */
  stopped?: string
}

export class WorkerStops {
  readonly #held = new Map<string, Held>()
  readonly #listener: Redis

  /** `listener`: a connection of its own (it only listens); its channels are every batch's of `queue`. */
  private constructor(listener: Redis) {
    this.#listener = listener
    listener.on('pmessage', (_pattern: string, _channel: string, message: string) => this.#take(message))
  }

  static async listen(listener: Redis, queue: string): Promise<WorkerStops> {
    const stops = new WorkerStops(listener)
    await listener.psubscribe(controlPattern(queue))
    return stops
  }

  /**
   * Holds record `id` of run `runId` while it runs here; the plugin (for its pipeline) takes the
   * pipeline's hand on it. Call the returned `release` when the record is done.
   */
  hold(runId: string, id: string): { plugin: SpoutPlugin; release: () => void } {
    const key = `${runId}\n${id}`
    const held: Held = {}
    this.#held.set(key, held)
    const plugin: SpoutPlugin = {
      name: 'spout-queue-worker-stops',
      jobStart(_event, context) {
        if (context.control) held.control = context.control
      },
      recordStart(event) {
        held.started = event.recordId
        if (held.stopped !== undefined) held.control?.abortRecord(event.recordId, held.stopped)
      },
    }
    return { plugin, release: () => this.#held.delete(key) }
  }

  close(): void {
    this.#listener.disconnect()
  }

  #take(message: string): void {
    let stop: StopRecord
    try {
      stop = JSON.parse(message) as StopRecord
    } catch {
      return
    }
    const held = this.#held.get(`${stop.runId}\n${stop.id}`)
    if (!held) return
    const aborted = held.started !== undefined && held.control?.abortRecord(held.started, stop.reason)
    if (!aborted) held.stopped = stop.reason
  }
}
