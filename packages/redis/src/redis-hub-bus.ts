import { randomUUID } from 'node:crypto'
import { type ControlCommand, parseControlCommand, type SpoutEvent } from '@spout/core/events'
import type { HubBus } from '@spout/ws-server'
import type { Redis } from 'ioredis'
import { displayRedisUrl, openRedis } from './connection.ts'
import { RedisError } from './errors.ts'

export interface RedisHubBusOptions {
  /** `redis://[user:password@]host[:port][/db]`, or `rediss://…` for TLS. */
  url: string
  /** Prefix of the keys; hubs with the same URL and prefix share their jobs. Default `spout:hub`. */
  key?: string
  /** Stream entries (producer frames) Redis keeps for hubs that start later (approximate). Default `100000`. */
  maxLength?: number
  /** Called for each failure talking to Redis (the bus goes on and retries); the CLI prints it. */
  onError?: (error: RedisError) => void
}

/**
 * Stamps one producer frame: per event, its job's counter (raised first to the hub's floor, so a
 * Redis that lost its data never hands out a sequence twice), then the frame goes onto the stream
 * with its sequences and its publisher's frame number. Atomic, so the stream's order is the
 * sequences' order on every hub. A frame number not above the publisher's last is a resend (the
 * client re-sends what got no reply before a reconnect): it is dropped.
 * KEYS: counters hash, stream, publishers hash.
 * ARGV: maxLength, frame JSON, publisher id, frame number, then job id and floor per event.
 */
const stampScript = `
local frameNumber = tonumber(ARGV[4])
if frameNumber <= tonumber(redis.call('HGET', KEYS[3], ARGV[3]) or '0') then return 0 end
redis.call('HSET', KEYS[3], ARGV[3], frameNumber)
local sequences = {}
for index = 5, #ARGV, 2 do
  local jobId = ARGV[index]
  local floor = tonumber(ARGV[index + 1])
  local current = tonumber(redis.call('HGET', KEYS[1], jobId) or '0')
  if current < floor then redis.call('HSET', KEYS[1], jobId, floor) end
  sequences[#sequences + 1] = redis.call('HINCRBY', KEYS[1], jobId, 1)
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[2], 's', table.concat(sequences, ','), 'p', ARGV[3], 'n', frameNumber)
return #sequences
`

type StampingRedis = Redis & {
  spoutStamp(
    counters: string,
    stream: string,
    publishers: string,
    ...args: (string | number)[]
  ): Promise<number>
}

const readCount = 1000
const blockMs = 1000

/**
 * A {@link HubBus} on one Redis stream (`{key}:events`): each hub stamps its producers' frames with
 * a Lua script (per-job counters in `{key}:seq`) and reads the stream back from where it is, so
 * every hub applies the same events in the same order with the same sequences. The stream keeps
 * the last `maxLength` frames, so a hub that starts later rebuilds the running jobs from it.
 */
export async function redisHubBus(options: RedisHubBusOptions): Promise<HubBus> {
  const key = `{${options.key ?? 'spout:hub'}}`
  const writer = (await openRedis(options.url, 'spout-hub-writer')) as StampingRedis
  let reader: Redis
  try {
    reader = await openRedis(options.url, 'spout-hub-reader')
  } catch (error) {
    writer.disconnect()
    throw error
  }
  writer.defineCommand('spoutStamp', { numberOfKeys: 3, lua: stampScript })
  await writer.set(`${key}:id`, randomUUID(), 'NX')
  const hubId = (await writer.get(`${key}:id`)) ?? randomUUID()
  return new RedisHubBus(options, key, hubId, writer, reader)
}

class RedisHubBus implements HubBus {
  readonly hubId: string
  readonly #options: RedisHubBusOptions
  readonly #key: string
  readonly #writer: StampingRedis
  readonly #reader: Redis
  readonly #url: string
  /** Highest sequence seen per job: the floor for the next stamp. */
  readonly #floors = new Map<string, number>()
  /** This bus's frames are numbered under this id, so that a resent frame is known. */
  readonly #publisherId = randomUUID()
  #frameNumber = 0
  /** Events published in this turn of the event loop, stamped together at its end. */
  #pending: SpoutEvent[] = []
  #flushing: NodeJS.Immediate | undefined
  /** Last frame number read per publisher: an entry not above it is a duplicate (see below). */
  readonly #lastFrames = new Map<string, number>()
  #lastId = '0-0'
  #closed = false
  #reading: Promise<void> | undefined
  /** The connection that listens for controlling viewers' commands (`listen`), on a channel of its own. */
  #listener: Redis | undefined

  constructor(options: RedisHubBusOptions, key: string, hubId: string, writer: StampingRedis, reader: Redis) {
    this.hubId = hubId
    this.#options = options
    this.#key = key
    this.#writer = writer
    this.#reader = reader
    this.#url = displayRedisUrl(options.url)
  }

  /**
   * Queues the events and stamps everything queued in this turn of the event loop with one script
   * call: a producer's frames that arrive together cost Redis one round trip, not one each.
   */
  publish(events: SpoutEvent[]): void {
    for (const event of events) this.#pending.push(event)
    if (this.#flushing) return
    this.#flushing = setImmediate(() => this.#flush())
  }

  #flush(): void {
    clearImmediate(this.#flushing)
    this.#flushing = undefined
    const events = this.#pending
    if (events.length === 0) return
    this.#pending = []
    this.#frameNumber += 1
    const args: (string | number)[] = [
      this.#options.maxLength ?? 100_000,
      JSON.stringify(events),
      this.#publisherId,
      this.#frameNumber,
    ]
    for (const event of events) args.push(event.jobId, this.#floors.get(event.jobId) ?? 0)
    const keys = [`${this.#key}:seq`, `${this.#key}:events`, `${this.#key}:publishers`] as const
    this.#writer.spoutStamp(...keys, ...args).catch((error: unknown) => {
      if (!this.#closed) this.#report('SPOUT_REDIS_COMMAND', `cannot publish ${events.length} events`, error)
    })
  }

  async start(deliver: (events: SpoutEvent[]) => void): Promise<void> {
    // What the stream holds first, without blocking, then live.
    for (;;) {
      const entries = await this.#read(deliver, undefined)
      if (entries < readCount) break
    }
    this.#reading = this.#follow(deliver)
  }

  /** A controlling viewer's command, to every hub on this bus (pub/sub: not kept for hubs that start later). */
  command(command: ControlCommand): void {
    this.#writer.publish(`${this.#key}:control`, JSON.stringify(command)).catch((error: unknown) => {
      if (!this.#closed) this.#report('SPOUT_REDIS_COMMAND', `cannot pass on a ${command.action}`, error)
    })
  }

  async listen(take: (command: ControlCommand) => void): Promise<void> {
    const listener = await openRedis(this.#options.url, 'spout-hub-control')
    this.#listener = listener
    listener.on('message', (_channel: string, message: string) => {
      let value: unknown
      try {
        value = JSON.parse(message)
      } catch {
        return // not a hub's
      }
      const parsed = parseControlCommand(value)
      if (parsed.ok) take(parsed.command)
    })
    await listener.subscribe(`${this.#key}:control`)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#flush() // what was published before close goes out before the writer quits
    this.#closed = true
    this.#listener?.disconnect()
    this.#reader.disconnect() // ends a blocked XREAD at once
    await this.#reading
    await this.#writer.quit().catch(() => this.#writer.disconnect())
  }

  async #follow(deliver: (events: SpoutEvent[]) => void): Promise<void> {
    let failures = 0
    while (!this.#closed) {
      try {
        await this.#read(deliver, blockMs)
        failures = 0
      } catch (error) {
        if (this.#closed) return
        failures += 1
        if (failures === 1) this.#report('SPOUT_REDIS_COMMAND', 'cannot read the event stream', error)
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * failures, 2000)))
      }
    }
  }

  /** Reads the next entries after the last one read and delivers them; returns how many. */
  async #read(deliver: (events: SpoutEvent[]) => void, block: number | undefined): Promise<number> {
    const stream = `${this.#key}:events`
    const result =
      block === undefined
        ? await this.#reader.xread('COUNT', readCount, 'STREAMS', stream, this.#lastId)
        : await this.#reader.xread('COUNT', readCount, 'BLOCK', block, 'STREAMS', stream, this.#lastId)
    if (!result || this.#closed) return 0
    let count = 0
    for (const [, entries] of result) {
      for (const [id, fields] of entries) {
        this.#lastId = id
        count += 1
        const events = this.#decode(fields)
        if (events) deliver(events)
      }
    }
    return count
  }

  /** One stream entry (`e`: the frame, `s`: its sequences) back into stamped events. */
  #decode(fields: string[]): SpoutEvent[] | undefined {
    let frame: string | undefined
    let sequences: string | undefined
    let publisher: string | undefined
    let frameNumber = 0
    for (let index = 0; index + 1 < fields.length; index += 2) {
      const value = fields[index + 1]!
      if (fields[index] === 'e') frame = value
      else if (fields[index] === 's') sequences = value
      else if (fields[index] === 'p') publisher = value
      else if (fields[index] === 'n') frameNumber = Number(value)
    }
    if (frame === undefined || sequences === undefined) return undefined
    // A Redis that lost its data forgets the frame numbers, so a resend can land twice: skip it here.
    if (publisher !== undefined) {
      if (frameNumber <= (this.#lastFrames.get(publisher) ?? 0)) return undefined
      this.#lastFrames.set(publisher, frameNumber)
    }
    let events: SpoutEvent[]
    try {
      events = JSON.parse(frame) as SpoutEvent[]
    } catch {
      return undefined // not written by a hub: skip it
    }
    const stamps = sequences.split(',')
    if (stamps.length !== events.length) return undefined
    for (let index = 0; index < events.length; index++) {
      const event = events[index]!
      const sequence = Number(stamps[index])
      event.sequence = sequence
      if (sequence > (this.#floors.get(event.jobId) ?? 0)) this.#floors.set(event.jobId, sequence)
    }
    return events
  }

  #report(code: 'SPOUT_REDIS_COMMAND', message: string, cause: unknown): void {
    const error = new RedisError(code, this.#url, `${message}: ${(cause as Error).message ?? cause}`, {
      cause,
    })
    this.#options.onError?.(error)
  }
}
