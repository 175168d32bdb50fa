// Child process of the hub bench: opens N viewers on a hub's `/ws` and, for each, counts the
// events it receives and the delay of each chunk from the producer's send time (stamped in the
// chunk text as `@<epoch ms>|`, or `@w<epoch ms>|` during the warm-up: counted, not timed). Frames
// are scanned as text, not parsed, so that this process stays cheap next to the hub it measures.
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
  /** Bytes the viewers still connected read from their connections (frames as sent: compressed or not). */
  wireBytes: number
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

// Markers that do not start with `"`: V8 skips through a JSON text to a rarer first character
// several times faster (1.3 µs against 11 µs for a 32-event frame, measured here).
const eventMarker = 'jobId"'
const stampMarker = '@'
const stampKey = '"text":"'
const sequenceMarker = '"sequence":'
const lastSequenceMarker = '"lastSequence":'
const warmUpMark = 'w'.charCodeAt(0)
const stampEnd = '|'.charCodeAt(0)
const dot = '.'.charCodeAt(0)

/**
 * The number (digits, maybe one `.` and more digits) at `from` in `text`, read char by char: no
 * slice, no string to parse. `end` is where it stopped.
 */
function numberAt(text: string, from: number): { value: number; end: number } {
  let value = 0
  let scale = 0
  let index = from
  for (; index < text.length; index++) {
    const code = text.charCodeAt(index)
    if (code === dot && scale === 0) {
      scale = 1
      continue
    }
    const digit = code - 48
    if (digit < 0 || digit > 9) break
    if (scale === 0) {
      value = value * 10 + digit
    } else {
      scale /= 10
      value += digit * scale
    }
  }
  return { value, end: index }
}

/** The number after the last `marker` in `text`, or -1. */
function lastNumberAfter(text: string, marker: string): number {
  const position = text.lastIndexOf(marker)
  return position === -1 ? -1 : numberAt(text, position + marker.length).value
}

interface Viewer {
  /** The connection under the viewer's socket, once upgraded. */
  wire: { readonly bytesRead: number } | undefined
  received: number
  newestStamp: number
  closed: boolean
  /** Newest hub sequence held, -1 before any. */
  position: number
}

/** Counts one frame's events for `viewer` and puts each timed chunk's delay in `histogram`. */
function receive(viewer: Viewer, data: Buffer, arrived: number, histogram: number[]): void {
  // One latin1 string per frame: V8's string search is far cheaper than Buffer#indexOf here.
  const text = data.toString('latin1')
  if (text.slice(0, 40).includes('hub-snapshot')) {
    // The events a snapshot stands for are held, not received: no count, no latency.
    viewer.position = Math.max(viewer.position, lastNumberAfter(text, lastSequenceMarker))
    return
  }
  viewer.position = Math.max(viewer.position, lastNumberAfter(text, sequenceMarker))
  let position = text.indexOf(eventMarker)
  while (position !== -1) {
    viewer.received += 1
    position = text.indexOf(eventMarker, position + eventMarker.length)
  }
  position = text.indexOf(stampMarker)
  while (position !== -1) {
    // A record-end's response holds the stamps of its chunks again: only a chunk's own text counts.
    if (!text.startsWith(stampKey, position - stampKey.length)) {
      position = text.indexOf(stampMarker, position + 1)
      continue
    }
    const warmUp = text.charCodeAt(position + stampMarker.length) === warmUpMark
    const stamp = numberAt(text, position + stampMarker.length + (warmUp ? 1 : 0))
    if (text.charCodeAt(stamp.end) !== stampEnd) throw new Error(`bench viewer: bad stamp at ${position}`)
    if (!warmUp) histogram[latencyBin(arrived - stamp.value)]! += 1
    if (stamp.value > viewer.newestStamp) viewer.newestStamp = stamp.value
    position = text.indexOf(stampMarker, stamp.end)
  }
}

function main(): void {
  const url = process.argv[2]!
  const count = Number(process.argv[3])
  // Offer `permessage-deflate`, as browsers do (`SPOUT_BENCH_VIEWER_DEFLATE=1`): each viewer then
  // inflates in this process, which costs it CPU a browser would spend on its own machine.
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: a bench knob, not a build input
  const deflate = process.env.SPOUT_BENCH_VIEWER_DEFLATE === '1'
  const histogram = new Array<number>(fineBins + coarseBins).fill(0)
  const viewers: Viewer[] = []
  let open = 0
  for (let index = 0; index < count; index++) {
    const viewer: Viewer = { wire: undefined, received: 0, newestStamp: 0, closed: false, position: -1 }
    viewers.push(viewer)
    const socket = new WebSocket(url, { perMessageDeflate: deflate, skipUTF8Validation: true })
    socket.once('upgrade', (response) => {
      viewer.wire = response.socket
    })
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
    socket.on('message', (data: Buffer) => receive(viewer, data, now(), histogram))
  }
  process.on('disconnect', () => process.exit(0)) // the bench gone: go too
  process.on('SIGTERM', () => process.exit(0)) // killed: exit, so that a `--cpu-prof` profile is written
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
        wireBytes: viewers
          .filter((viewer) => !viewer.closed)
          .reduce((sum, viewer) => sum + (viewer.wire?.bytesRead ?? 0), 0),
      }
      process.send?.(report)
    }
  })
}

// Imported by the bench for its helpers: run only as the child process.
if (import.meta.url === `file://${process.argv[1]}`) main()
