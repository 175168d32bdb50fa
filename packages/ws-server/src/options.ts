import { isIP } from 'node:net'
import { HubError } from './errors.ts'
import type { HubBus } from './hub-bus.ts'

export interface HubOptions {
  /** Address to bind. Default `127.0.0.1` (loopback only). */
  host?: string
  /** Port; `0` picks a free one. Default `4317`. */
  port?: number
  /** Producers must present it (`Authorization: Bearer T` or `?token=T`); viewers may use it too. */
  token?: string
  /** When set, viewers must present it (or `token`) as `?token=T`. */
  viewerToken?: string
  /**
   * Turns the control channel on: a viewer that presents it as `?control=T` may stop a job or one
   * record (forwarded to the job's producer). Separate from the read tokens. Default: off.
   */
  controlToken?: string
  /** Allow a non-loopback `host` without a `token`. Default `false`. */
  insecure?: boolean
  /** The viewer's build, served at `/` with an SPA fallback to `index.html`. */
  staticDir?: string
  /** Extra browser origins allowed besides the hub's own, e.g. `http://localhost:5173` for a dev server. */
  allowedOrigins?: string[]
  /**
   * Extra `Host` header values accepted when the hub binds loopback (DNS-rebinding guard);
   * `localhost`, `127.0.0.1` and `[::1]` (any port) are always accepted.
   */
  allowedHosts?: string[]
  /**
   * Longest coalescing window for outgoing frames (the tick), ms. The tick follows the cost of
   * sending one to every viewer: the hub spends about a tenth of a core on it at most, so with a
   * few viewers it sends every `minTickMs`, with hundreds every few more milliseconds, up to this.
   * Default `16`; `0` sends on every I/O turn.
   */
  tickMs?: number
  /** Shortest tick, ms (see `tickMs`); above `tickMs` it is `tickMs`. Default `8`. */
  minTickMs?: number
  /**
   * Compress each tick's frame once (`permessage-deflate`, RFC 7692, no context takeover) for the
   * viewers that offer it, as every browser does: about a seventh of the bytes on the wire, for
   * viewers across a network. It costs the hub a compression per tick and each viewer an inflation
   * per frame. Snapshots and the hub's own messages go uncompressed. Default `false`.
   */
  compression?: boolean
  /** Events kept in the resume history (a ring over all jobs). Default `10000`. */
  historySize?: number
  /** Bytes of serialized events kept in the resume history. Default 16 MiB. */
  historyBytes?: number
  /** Finished jobs kept for late joiners. Default `20`. */
  maxFinishedJobs?: number
  /** How long a finished job is kept, ms. Default one hour. */
  finishedJobTtlMs?: number
  /** Jobs kept at all (running or not); the least recently active go first. Default `200`. */
  maxJobs?: number
  /**
   * Done and skipped records kept per job, with their text, for snapshots: the most recent ones.
   * Running records are always kept and the job's counts stay exact. `Infinity` keeps all. Default `10000`.
   */
  maxFinishedRecords?: number
  /** Failed records kept per job, apart from `maxFinishedRecords` so failures stay visible longer. Default `1000`. */
  maxFailedRecords?: number
  /**
   * A viewer whose send buffer (`bufferedAmount`) holds more than this is behind: it skips ticks
   * until it has drained to a quarter of it, then gets a snapshot of the jobs it missed. Default 256 KiB.
   */
  viewerLagBytes?: number
  /**
   * Bytes buffered for all viewers together. A tick or snapshot that would take the total past it is
   * not sent to that viewer (it falls behind and catches up later). Default 64 MiB.
   */
  maxBufferedBytes?: number
  /** A viewer whose `bufferedAmount` passes this (beyond its own snapshot) is dropped (close 4408). Default 8 MiB. */
  maxViewerBufferedBytes?: number
  /** Largest frame a producer may send, bytes (ws `maxPayload`, close 1009 beyond). Default 4 MiB. */
  maxPublishPayload?: number
  /** Invalid frames a producer may send before it is closed with 4400. Default `20`. */
  maxInvalidFrames?: number
  /** Ping interval; a peer that has not answered the previous ping is cut. Default 30000 ms. */
  heartbeatMs?: number
  /**
   * Share jobs and viewers with other hubs (e.g. `redisHubBus()` from `@spout/redis`): sequences
   * are stamped on the bus and `hubId` is the bus's. Closed with the hub. Default: none (alone).
   */
  bus?: HubBus
}

export interface ResolvedHubOptions {
  host: string
  port: number
  token: string | undefined
  viewerToken: string | undefined
  controlToken: string | undefined
  staticDir: string | undefined
  allowedOrigins: Set<string>
  allowedHosts: Set<string>
  loopback: boolean
  tickMs: number
  minTickMs: number
  compression: boolean
  historySize: number
  historyBytes: number
  maxFinishedJobs: number
  finishedJobTtlMs: number
  maxJobs: number
  maxFinishedRecords: number
  maxFailedRecords: number
  viewerLagBytes: number
  maxBufferedBytes: number
  maxViewerBufferedBytes: number
  maxPublishPayload: number
  maxInvalidFrames: number
  heartbeatMs: number
  bus: HubBus | undefined
}

export const hubDefaults = {
  host: '127.0.0.1',
  port: 4317,
  tickMs: 16,
  minTickMs: 8,
  historySize: 10_000,
  historyBytes: 16 * 1024 * 1024,
  maxFinishedJobs: 20,
  finishedJobTtlMs: 60 * 60 * 1000,
  maxJobs: 200,
  maxFinishedRecords: 10_000,
  maxFailedRecords: 1_000,
  viewerLagBytes: 256 * 1024,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxViewerBufferedBytes: 8 * 1024 * 1024,
  maxPublishPayload: 4 * 1024 * 1024,
  maxInvalidFrames: 20,
  heartbeatMs: 30_000,
} as const

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  if (bare === 'localhost') return true
  if (isIP(bare) === 4) return bare.startsWith('127.')
  if (isIP(bare) === 6) return bare === '::1' || bare === '0:0:0:0:0:0:0:1' || bare.startsWith('::ffff:127.')
  return false
}

export function resolveHubOptions(options: HubOptions): ResolvedHubOptions {
  const host = options.host ?? hubDefaults.host
  const port = options.port ?? hubDefaults.port
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new HubError('SPOUT_HUB_OPTIONS', `[hub] port must be an integer from 0 to 65535, got ${port}`)
  }
  for (const [name, value] of [
    ['token', options.token],
    ['viewerToken', options.viewerToken],
    ['controlToken', options.controlToken],
  ] as const) {
    if (value !== undefined && value.length === 0) {
      throw new HubError('SPOUT_HUB_OPTIONS', `[hub] ${name} must not be empty`)
    }
  }
  const loopback = isLoopbackHost(host)
  if (!loopback && !options.token && !options.insecure) {
    throw new HubError(
      'SPOUT_HUB_INSECURE_BIND',
      `[hub] refusing to bind ${host} (not loopback) without a token; set a token or pass insecure`,
    )
  }
  const positive = (name: keyof typeof hubDefaults, value: number | undefined, infinite = false): number => {
    const resolved = value ?? hubDefaults[name]
    const finite = Number.isFinite(resolved) || (infinite && resolved === Number.POSITIVE_INFINITY)
    if (typeof resolved !== 'number' || !finite || resolved < 0) {
      throw new HubError('SPOUT_HUB_OPTIONS', `[hub] ${name} must be a non-negative number, got ${value}`)
    }
    return resolved
  }
  return {
    host,
    port,
    token: options.token,
    viewerToken: options.viewerToken,
    controlToken: options.controlToken,
    staticDir: options.staticDir,
    allowedOrigins: new Set((options.allowedOrigins ?? []).map((origin) => origin.replace(/\/+$/, ''))),
    allowedHosts: new Set((options.allowedHosts ?? []).map((value) => value.toLowerCase())),
    loopback,
    tickMs: positive('tickMs', options.tickMs),
    minTickMs: Math.min(positive('minTickMs', options.minTickMs), positive('tickMs', options.tickMs)),
    compression: options.compression ?? false,
    historySize: positive('historySize', options.historySize),
    historyBytes: positive('historyBytes', options.historyBytes),
    maxFinishedJobs: positive('maxFinishedJobs', options.maxFinishedJobs),
    finishedJobTtlMs: positive('finishedJobTtlMs', options.finishedJobTtlMs),
    maxJobs: Math.max(1, positive('maxJobs', options.maxJobs)),
    maxFinishedRecords: positive('maxFinishedRecords', options.maxFinishedRecords, true),
    maxFailedRecords: positive('maxFailedRecords', options.maxFailedRecords),
    viewerLagBytes: positive('viewerLagBytes', options.viewerLagBytes),
    maxBufferedBytes: positive('maxBufferedBytes', options.maxBufferedBytes),
    maxViewerBufferedBytes: positive('maxViewerBufferedBytes', options.maxViewerBufferedBytes),
    maxPublishPayload: Math.max(1024, positive('maxPublishPayload', options.maxPublishPayload)),
    maxInvalidFrames: positive('maxInvalidFrames', options.maxInvalidFrames),
    heartbeatMs: positive('heartbeatMs', options.heartbeatMs),
    bus: options.bus,
  }
}
