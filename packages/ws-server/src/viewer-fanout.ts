import type { Socket } from 'node:net'
import { hubCloseCodes } from '@spout/core/events'
import { WebSocket } from 'ws'
import type { HubMetrics } from './metrics.ts'
import { isDeflated, TickFrames } from './text-frame.ts'

/** The limits that decide whether a viewer gets a tick, is skipped, or is cut. */
export interface FanOutLimits {
  /** Past this many buffered bytes a viewer is behind: it skips ticks until it drains to a quarter of it. */
  viewerLagBytes: number
  /** Bytes buffered for all viewers together; a send that would pass it is skipped (that viewer falls behind). */
  maxBufferedBytes: number
  /** Past this (plus its snapshot allowance) a viewer is cut with 4408: it stopped reading altogether. */
  maxViewerBufferedBytes: number
}

/** One connected viewer as the fan-out sees it. */
export interface Viewer {
  readonly socket: WebSocket
  /** The connection under `socket` (from the upgrade): a tick's frame, framed once, is written to it as is. */
  readonly wire: Socket
  /** The viewer negotiated `permessage-deflate` as the hub can serve it: ticks go compressed. */
  readonly deflate: boolean
  alive: boolean
  /** Extra buffered bytes tolerated while a large snapshot drains. */
  allowance: number
  /** Set while the viewer is behind: what it missed (every job, or the jobs whose events it skipped). */
  missed: Missed | undefined
}

interface Missed {
  full: boolean
  jobs: Set<string>
}

/** Builds the `hub-snapshot` that brings a viewer back: of every job (`full`) or of the given jobs. */
export type CatchUpSnapshot = (full: boolean, jobIds: readonly string[]) => Buffer

/**
 * Sends each tick's frame to every viewer that keeps up. A viewer whose send buffer is past
 * `viewerLagBytes` skips the tick instead of buffering it; once its buffer has drained it gets a
 * snapshot of the jobs it missed (when that fits in `maxBufferedBytes`) and is live again. Should
 * the total still pass `maxBufferedBytes`, the viewers holding the most are cut, never the ones
 * that keep up.
 */
export class ViewerFanOut {
  readonly viewers = new Set<Viewer>()
  readonly #limits: FanOutLimits
  readonly #metrics: HubMetrics

  constructor(limits: FanOutLimits, metrics: HubMetrics) {
    this.#limits = limits
    this.#metrics = metrics
  }

  add(socket: WebSocket, wire: Socket, deflate = false): Viewer {
    const viewer: Viewer = { socket, wire, deflate, alive: true, allowance: 0, missed: undefined }
    socket.on('close', () => this.viewers.delete(viewer))
    return viewer
  }

  /**
   * Sends a joining viewer its first frames (a snapshot, maybe a replay) and makes it live; when
   * they do not fit in the hub's total, it starts behind and gets a full snapshot once they do.
   */
  admit(viewer: Viewer, frames: readonly { data: Buffer; events: number }[]): void {
    const size = frames.reduce((sum, frame) => sum + frame.data.length, 0)
    if (!this.#fits(this.bufferedBytes(), size)) {
      viewer.missed = { full: true, jobs: new Set() }
      this.#metrics.viewersFellBehind += 1
    } else {
      for (const frame of frames) this.send(viewer, frame.data, frame.events, true)
    }
    if (viewer.socket.readyState === WebSocket.OPEN) this.viewers.add(viewer)
  }

  /** Viewers skipping ticks right now. */
  get behind(): number {
    let behind = 0
    for (const viewer of this.viewers) if (viewer.missed) behind += 1
    return behind
  }

  /** Bytes buffered for all viewers (ws `bufferedAmount`, framing included). */
  bufferedBytes(): number {
    let total = 0
    for (const viewer of this.viewers) total += viewer.socket.bufferedAmount
    return total
  }

  /**
   * Sends one tick's frame (`events` events of the jobs `jobIds`) to each viewer that keeps up, and
   * brings back the viewers that were behind and have drained. Without a frame, only the latter.
   */
  broadcast(
    tick: { frame: Buffer; events: number; jobIds: readonly string[] } | undefined,
    snapshot: CatchUpSnapshot,
  ): void {
    const { viewerLagBytes } = this.#limits
    let total = this.bufferedBytes()
    const snapshots = new Map<string, Buffer>()
    const frames = tick ? new TickFrames(tick.frame) : undefined
    for (const viewer of this.viewers) {
      const buffered = viewer.socket.bufferedAmount
      const missed = viewer.missed
      if (missed) {
        if (tick && !missed.full) for (const jobId of tick.jobIds) missed.jobs.add(jobId)
        if (buffered > viewerLagBytes / 4) continue
        const jobIds = missed.full ? [] : [...missed.jobs].sort()
        const key = missed.full ? '' : `\n${jobIds.join('\n')}`
        let data = snapshots.get(key)
        if (!data) {
          data = snapshot(missed.full, jobIds)
          snapshots.set(key, data)
        }
        if (!this.#fits(total, data.length)) continue
        viewer.missed = undefined
        this.#metrics.viewersCaughtUp += 1
        total += data.length
        this.send(viewer, data, 0, true)
        continue
      }
      if (!tick) continue
      if (buffered > viewerLagBytes) {
        viewer.missed = { full: false, jobs: new Set(tick.jobIds) }
        this.#metrics.viewersFellBehind += 1
        continue
      }
      this.send(viewer, tick.frame, tick.events, false, viewer.deflate ? frames?.deflated : frames?.plain)
    }
    if (tick) this.#shed()
  }

  /**
   * Keeps the hub's total within `maxBufferedBytes` by cutting the viewers that hold the most: their
   * bytes can only be freed by closing them (at once: a close frame would wait behind the bytes).
   */
  #shed(): void {
    let total = this.bufferedBytes()
    if (total <= this.#limits.maxBufferedBytes) return
    const heaviest = [...this.viewers].sort((a, b) => b.socket.bufferedAmount - a.socket.bufferedAmount)
    for (const viewer of heaviest) {
      if (total <= this.#limits.maxBufferedBytes) break
      total -= viewer.socket.bufferedAmount
      this.viewers.delete(viewer)
      this.#metrics.viewersDroppedSlow += 1
      viewer.socket.terminate()
    }
  }

  /** Whether `size` more bytes fit in the hub's total; one frame always fits when nothing is buffered. */
  #fits(total: number, size: number): boolean {
    return total === 0 || total + size <= this.#limits.maxBufferedBytes
  }

  /**
   * Sends one frame, or cuts the viewer (4408) when its send buffer is past `maxViewerBufferedBytes`.
   * A snapshot or replay (`catchUp`) may be larger than that by itself: its size is tolerated on
   * top until the buffer has drained below the limit once. `framed`: `data` already framed (and
   * maybe compressed, see {@link TickFrames}), written to the connection as is.
   */
  send(viewer: Viewer, data: Buffer, events: number, catchUp = false, framed?: Buffer): void {
    const socket = viewer.socket
    if (socket.readyState !== WebSocket.OPEN) return
    const buffered = socket.bufferedAmount
    const limit = this.#limits.maxViewerBufferedBytes
    if (buffered > limit + viewer.allowance) {
      this.viewers.delete(viewer)
      this.#metrics.viewersDroppedSlow += 1
      socket.close(hubCloseCodes.slowViewer, 'viewer too slow')
      return
    }
    if (buffered <= limit) viewer.allowance = 0
    // `ws` writes its frames to the same connection at once (it compresses none, so never queues):
    // frames stay whole and in order.
    if (framed) viewer.wire.write(framed)
    else socket.send(data, { binary: false, compress: false })
    if (catchUp) viewer.allowance += data.length
    this.#metrics.framesOut += 1
    if (framed && isDeflated(framed)) this.#metrics.framesCompressed += 1
    this.#metrics.eventsOut += events
    this.#metrics.bytesOut += framed ? framed.length : data.length
  }
}
