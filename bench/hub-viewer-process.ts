// Child process of the hub bench: opens N viewers on a hub's `/ws` and, for each, counts the
// events it receives and the delay of each chunk from the producer's send time (stamped in the
// chunk text as `@<epoch ms>|`, or `@w<epoch ms>|` during the warm-up: counted, not timed). Frames are scanned as bytes, not parsed, so that this process
// stays cheap next to the hub it measures.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { WebSocket } from 'ws'

export type ViewerCommand = { type: 'mark' } | { type: 'report' }

export interface ViewerReport {
  type: 'report'
  /** Events received per viewer (snapshot frames not counted). */
  received: number[]
  /**
   * Events each viewer holds: the newest hub sequence it has (from an event or a snapshot's
   * `lastSequence`; the bench has one job), or, from a hub that stamps none, the events received.
   */
  held: number[]
  /** Viewers the hub closed (e.g. 4408, too slow). */
  closed: number
  /** Per viewer, at `mark`: now minus the send time of the newest chunk it had received. */
  lagAtMark: number[]
  /** Latency histogram, bins per {@link latencyBin}. */
  histogram: number[]
  /** This process's event-loop delay until `mark`, in milliseconds. */
  loopDelayMax: number
}

export type ViewerMessage = { type: 'ready' } | ViewerReport

/** Histogram bins: 0.1 ms wide below 100 ms, 10 ms wide from 100 ms to 120 s. */
export const fineBins = 1000
export const coarseBins = 12_000

export function latencyBin(milliseconds: number): number {
  if (milliseconds < 100) return Math.max(0, Math.floor(milliseconds * 10))
  return Math.min(fineBins + coarseBins - 1, fineBins + Math.floor((milliseconds - 100) / 10))
}

export function binMilliseconds(bin: number): number {
  return bin < fineBins ? (bin + 0.5) / 10 : 100 + (bin - fineBins + 0.5) * 10
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable between processes. */
export function now(): number {
  return performance.timeOrigin + performance.now()
}

const eventMarker = Buffer.from('"jobId":')
const stampMarker = Buffer.from('"text":"@')
const stampEnd = '|'.charCodeAt(0)
const warmUpMark = 'w'.charCodeAt(0)
const sequenceMarker = Buffer.from('"sequence":')
const lastSequenceMarker = Buffer.from('"lastSequence":')

/** The number after the last `marker` in `data`, or -1. */
function lastNumberAfter(data: Buffer, marker: Buffer): number {
  const position = data.lastIndexOf(marker)
  if (position === -1) return -1
  let value = 0
  for (let index = position + marker.length; index < data.length; index++) {
    const digit = data[index]! - 48
    if (digit < 0 || digit > 9) break
    value = value * 10 + digit
  }
  return value
}

interface Viewer {
  received: number
  newestStamp: number
  closed: boolean
  /** Newest hub sequence held, -1 before any. */
  position: number
}

function main(): void {
  const url = process.argv[2]!
  const count = Number(process.argv[3])
  const histogram = new Array<number>(fineBins + coarseBins).fill(0)
  const viewers: Viewer[] = []
  let open = 0
  for (let index = 0; index < count; index++) {
    const viewer: Viewer = { received: 0, newestStamp: 0, closed: false, position: -1 }
    viewers.push(viewer)
    const socket = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true })
    socket.on('open', () => {
      open += 1
      if (open === count) process.send?.({ type: 'ready' } satisfies ViewerMessage)
    })
    socket.on('close', () => {
      viewer.closed = true
    })
    socket.on('error', () => {
      viewer.closed = true
    })
    socket.on('message', (data: Buffer) => {
      const arrived = now()
      if (data.subarray(0, 40).includes('hub-snapshot')) {
        // The events a snapshot stands for are held, not received: no count, no latency.
        viewer.position = Math.max(viewer.position, lastNumberAfter(data, lastSequenceMarker))
        return
      }
      viewer.position = Math.max(viewer.position, lastNumberAfter(data, sequenceMarker))
      let position = data.indexOf(eventMarker)
      while (position !== -1) {
        viewer.received += 1
        position = data.indexOf(eventMarker, position + eventMarker.length)
      }
      position = data.indexOf(stampMarker)
      while (position !== -1) {
        const warmUp = data[position + stampMarker.length] === warmUpMark
        const start = position + stampMarker.length + (warmUp ? 1 : 0)
        const end = data.indexOf(stampEnd, start)
        const sent = Number(data.toString('latin1', start, end))
        if (!warmUp) histogram[latencyBin(arrived - sent)]! += 1
        if (sent > viewer.newestStamp) viewer.newestStamp = sent
        position = data.indexOf(stampMarker, end)
      }
    })
  }
  process.on('disconnect', () => process.exit(0)) // the bench gone: go too
  let lagAtMark: number[] = []
  const loopDelay = monitorEventLoopDelay({ resolution: 5 })
  loopDelay.enable()
  process.on('message', (command: ViewerCommand) => {
    if (command.type === 'mark') {
      const at = now()
      loopDelay.disable()
      lagAtMark = viewers.filter((viewer) => !viewer.closed).map((viewer) => at - viewer.newestStamp)
    } else {
      const report: ViewerReport = {
        type: 'report',
        received: viewers.filter((viewer) => !viewer.closed).map((viewer) => viewer.received),
        held: viewers
          .filter((viewer) => !viewer.closed)
          .map((viewer) => (viewer.position >= 0 ? viewer.position : viewer.received)),
        closed: viewers.filter((viewer) => viewer.closed).length,
        lagAtMark,
        histogram,
        loopDelayMax: loopDelay.max / 1e6,
      }
      process.send?.(report)
    }
  })
}

// Imported by the bench for its helpers: run only as the child process.
if (import.meta.url === `file://${process.argv[1]}`) main()
