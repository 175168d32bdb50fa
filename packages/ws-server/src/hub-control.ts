import type { ControlCommand, HubControlFrame, HubErrorFrame, SpoutEvent } from '@spout/core/events'
import { parseControlCommand } from '@spout/core/events'
import { WebSocket } from 'ws'
import { tokenMatches } from './access.ts'
import type { ResolvedHubOptions } from './options.ts'

// The control channel: a viewer that presented the hub's control token (`?control=T`) may stop a
// job or one record. The hub forwards the command, as is, to the producer that publishes the job;
// the producer (`broadcastSink`) aborts what it names. Off unless the hub has a `controlToken`.
// With a bus, a command for a job no producer here publishes goes on the bus, to the hub that has
// it, when the job is running (every hub holds every job's state); for one that is not, the viewer
// gets `control-no-producer` at once.

/** Error codes of the `hub-error` frames a controlling viewer may get back. */
export const controlErrorCodes = {
  /** The message is not a control command. */
  invalid: 'control-invalid',
  /** No producer of that job is connected to this hub (it ended, or publishes through another hub). */
  noProducer: 'control-no-producer',
} as const

/**
 * What a viewer's `control` query parameter earns it: nothing said when it presented none, else a
 * `hub-control` frame saying whether its commands are taken.
 */
export function controlGrant(
  url: URL,
  options: Pick<ResolvedHubOptions, 'controlToken'>,
): HubControlFrame | undefined {
  const presented = url.searchParams.get('control')
  if (presented === null) return undefined
  const expected = options.controlToken
  if (expected === undefined)
    return {
      type: 'hub-control',
      allowed: false,
      reason: 'this hub takes no commands (start it with --control-token)',
    }
  if (!tokenMatches(presented, expected))
    return { type: 'hub-control', allowed: false, reason: 'wrong control token' }
  return { type: 'hub-control', allowed: true }
}

/** The other hubs, for the commands of jobs no producer here publishes. */
export interface ControlElsewhere {
  /** Hands a command to the other hubs (a bus's `command`). */
  send: (command: ControlCommand) => void
  /** Whether a job is running (started, not ended) by the state this hub shares with the others. */
  running: (jobId: string) => boolean
}

/** Which producer publishes each job, and the forwarding of commands to it. */
export class ControlChannel {
  /** Job id → the socket of the producer that last published an event of it. */
  readonly #producers = new Map<string, WebSocket>()
  readonly #watched = new WeakSet<WebSocket>()
  readonly #elsewhere: ControlElsewhere | undefined

  constructor(elsewhere?: ControlElsewhere) {
    this.#elsewhere = elsewhere
  }

  /** Jobs known to have a producer connected here. */
  get jobs(): number {
    return this.#producers.size
  }

  /** Notes the producer of each job in a valid frame; a job that ended is forgotten. */
  noteJobs(socket: WebSocket, events: readonly SpoutEvent[]): void {
    if (!this.#watched.has(socket)) {
      this.#watched.add(socket)
      socket.once('close', () => this.#forget(socket))
    }
    let previous: string | undefined
    for (const event of events) {
      if (event.type === 'job-end') {
        this.#producers.delete(event.jobId)
        previous = undefined
      } else if (event.jobId !== previous) {
        this.#producers.set(event.jobId, socket)
        previous = event.jobId
      }
    }
  }

  /** A controlling viewer's message: forwarded to the job's producer, or answered with a `hub-error`. */
  command(data: Buffer | ArrayBuffer | Buffer[]): HubErrorFrame | undefined {
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)
    let value: unknown
    try {
      value = JSON.parse(bytes.toString('utf8'))
    } catch (error) {
      return refusal(controlErrorCodes.invalid, `control message is not JSON: ${(error as Error).message}`)
    }
    const parsed = parseControlCommand(value)
    if (!parsed.ok) return refusal(controlErrorCodes.invalid, `control message: ${parsed.message}`)
    const { command } = parsed
    if (this.forward(command)) return undefined
    if (!this.#elsewhere)
      return refusal(
        controlErrorCodes.noProducer,
        `no producer of job ${command.jobId} is connected to this hub (it ended, or publishes through another hub)`,
      )
    if (!this.#elsewhere.running(command.jobId))
      return refusal(
        controlErrorCodes.noProducer,
        `job ${command.jobId} is not running on any hub (unknown, or ended)`,
      )
    // The hubs on the bus: the one with the job's producer forwards it.
    this.#elsewhere.send(command)
    return undefined
  }

  /** Sends a command to its job's producer when one is connected here; false when none is. */
  forward(command: ControlCommand): boolean {
    const producer = this.#producers.get(command.jobId)
    if (!producer || producer.readyState !== WebSocket.OPEN) return false
    producer.send(JSON.stringify(command))
    return true
  }

  #forget(socket: WebSocket): void {
    for (const [jobId, producer] of this.#producers) if (producer === socket) this.#producers.delete(jobId)
  }
}

function refusal(code: string, message: string): HubErrorFrame {
  return { type: 'hub-error', code, message }
}
