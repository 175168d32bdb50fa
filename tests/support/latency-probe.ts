// Token → DOM latency, stage by stage: what the viewer-latency e2e installs in the page, how it
// lines up the page's clock with this process's, and how it matches every token to the moments it
// passed each stage.
import type { Backend, BackendCallOptions } from '@spout/core'
import type { Page } from 'playwright-core'

/**
 * Runs in the page from its first moment and notes, on the page's clock (epoch milliseconds):
 * - `arrived`: every WebSocket text frame from the hub that holds chunks, as it reaches the page
 *   (a listener added before the viewer's own; the frame is parsed only after the run);
 * - `seen`: every time a response's `data-chunks` changes or a row with one appears (a
 *   MutationObserver callback runs right after the DOM changed, in the same task), with the frame
 *   that first shows it: the same frame when the change was made inside an animation-frame
 *   callback, else the next one (`frames`, noted by a rAF loop that runs first in every frame);
 * - `longTasks`: every long task (> 50 ms): when it started and how long it took;
 * - `longFrames`: every long animation frame (> 50 ms) with the scripts that ran longest in it
 *   (where a long task came from: the function, the file, what invoked it).
 */
export const latencyProbe = `
  const probe = { arrived: [], seen: [], frames: [], longTasks: [], longFrames: [], visible: [] }
  window.__latency = probe
  const now = () => performance.timeOrigin + performance.now()
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      probe.longTasks.push([performance.timeOrigin + entry.startTime, entry.duration])
  }).observe({ type: 'longtask', buffered: true })
  if (PerformanceObserver.supportedEntryTypes.includes('long-animation-frame')) {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const scripts = [...entry.scripts]
          .sort((a, b) => b.duration - a.duration)
          .slice(0, 3)
          .map((script) => ({
            duration: Math.round(script.duration),
            layout: Math.round(script.forcedStyleAndLayoutDuration),
            invoker: script.invoker,
            function: script.sourceFunctionName,
            source: (script.sourceURL ?? '').split('/').pop() + ':' + script.sourceCharPosition,
          }))
        probe.longFrames.push({
          start: performance.timeOrigin + entry.startTime,
          duration: Math.round(entry.duration),
          blocking: Math.round(entry.blockingDuration),
          render: Math.round(entry.startTime + entry.duration - entry.renderStart),
          styleAndLayout: Math.round(entry.startTime + entry.duration - entry.styleAndLayoutStart),
          scripts,
        })
      }
    }).observe({ type: 'long-animation-frame', buffered: true })
  }
  const NativeWebSocket = window.WebSocket
  window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
      super(...args)
      this.addEventListener('message', (message) => {
        if (typeof message.data === 'string' && message.data.includes('"type":"chunk"'))
          probe.arrived.push([now(), message.data])
      })
    }
  }
  // Inside a rAF callback (from the first callback of a frame until the rendering is done) a DOM
  // change shows in this frame; a message posted from the rAF runs once the frame is rendered.
  let inFrame = false
  const afterFrame = new MessageChannel()
  afterFrame.port1.onmessage = () => { inFrame = false }
  const onFrame = () => {
    inFrame = true
    probe.frames.push(now())
    afterFrame.port2.postMessage(0)
    requestAnimationFrame(onFrame)
  }
  requestAnimationFrame(onFrame)
  // Whether a response box is on screen (any part of it in the viewport, clipped by the list).
  const recordOf = (element) => element.closest('[data-record-id]')?.dataset.recordId
  const visibility = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      const recordId = recordOf(entry.target)
      if (recordId) probe.visible.push([recordId, entry.isIntersecting, performance.timeOrigin + entry.time])
    }
  })
  const note = (element, at, frame) => {
    const recordId = recordOf(element)
    if (recordId) probe.seen.push([recordId, Number(element.dataset.chunks), at, frame])
  }
  new MutationObserver((mutations) => {
    const at = now()
    // The index of the frame that shows this change: the current one, or the next one.
    const frame = inFrame ? probe.frames.length - 1 : probe.frames.length
    for (const mutation of mutations) {
      if (mutation.type === 'attributes') {
        note(mutation.target, at, frame)
        continue
      }
      for (const node of mutation.addedNodes) {
        if (node.nodeType !== 1) continue
        const boxes = [...node.querySelectorAll('[data-chunks]')]
        if (node.dataset.chunks !== undefined) boxes.push(node)
        for (const element of boxes) {
          note(element, at, frame)
          visibility.observe(element)
        }
      }
      for (const node of mutation.removedNodes) {
        if (node.nodeType !== 1) continue
        for (const row of [node, ...node.querySelectorAll('[data-record-id]')])
          if (row.dataset.recordId) probe.visible.push([row.dataset.recordId, false, at])
      }
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-chunks'] })
`

/** What the probe holds after a run. */
export interface ProbeRecord {
  arrived: Array<[number, string]>
  seen: Array<[string, number, number, number]>
  frames: number[]
  /** `[start, duration]` of every long task (> 50 ms), start on the page's clock. */
  longTasks: Array<[number, number]>
  /** Long animation frames (> 50 ms), with the longest scripts in each. */
  longFrames: Array<{ start: number; duration: number; scripts: unknown[] } & Record<string, unknown>>
  /** `[recordId, on screen, when]`: its response box entered or left the viewport. */
  visible: Array<[string, boolean, number]>
}

export const epochNow = (): number => performance.timeOrigin + performance.now()

/** The page's clock minus this process's, from the round trip with the smallest delay. */
export async function clockOffset(page: Page): Promise<number> {
  let best = { roundTrip: Number.POSITIVE_INFINITY, offset: 0 }
  for (let attempt = 0; attempt < 9; attempt++) {
    const before = epochNow()
    const pageNow = (await page.evaluate('performance.timeOrigin + performance.now()')) as number
    const after = epochNow()
    if (after - before < best.roundTrip)
      best = { roundTrip: after - before, offset: pageNow - (before + after) / 2 }
  }
  return best.offset
}

/**
 * `Date.now()` (the clock of Ollama's `created_at`) minus {@link epochNow}. `Date.now()` drops the
 * fraction of a millisecond, so the mean of many readings is half a millisecond low: added back.
 */
export function dateClockOffset(): number {
  let sum = 0
  const samples = 2000
  for (let index = 0; index < samples; index++) sum += Date.now() - epochNow()
  return sum / samples + 0.5
}

type GenerateResponse = { created_at: string; response?: string; thinking?: string }
type ChatResponse = { created_at: string; message?: { content?: string; thinking?: string } }

/**
 * Wraps a backend to note when the simulator wrote each token: Ollama's `created_at` of every chunk
 * that carries text (the pipeline numbers exactly those chunks `seq` 0, 1, …), keyed `recordId/seq`.
 * The record id is read from the prompt (`Question <id>: …`). `created_at` has whole milliseconds,
 * truncated: a token's write time is taken at most 1 ms early, so latencies are at most 1 ms high.
 */
export function noteWriteTimes(backend: Backend, writtenAt: Map<string, number>): Backend {
  const note = async function* <T extends GenerateResponse | ChatResponse>(
    prompt: string,
    stream: AsyncIterable<T>,
  ): AsyncGenerator<T> {
    const recordId = /Question (\S+):/.exec(prompt)?.[1] ?? ''
    let seq = 0
    for await (const part of stream) {
      const text = 'message' in part ? part.message?.content : (part as GenerateResponse).response
      const thinking = 'message' in part ? part.message?.thinking : (part as GenerateResponse).thinking
      if (text || thinking) writtenAt.set(`${recordId}/${seq++}`, Date.parse(part.created_at))
      yield part
    }
  }
  return {
    kind: backend.kind,
    host: backend.host,
    generate: (request, options: BackendCallOptions) =>
      note(request.prompt ?? '', backend.generate(request, options)),
    chat: (request, options: BackendCallOptions) =>
      note(request.messages?.at(-1)?.content ?? '', backend.chat(request, options)),
  }
}

/** Every token's moments, on this process's clock: write (simulator), sinks, page, DOM, frame. */
export interface TokenTimes {
  written: number
  sunk: number
  arrived?: number
  dom?: number
  frame?: number
  /** The token's response box was on screen (IntersectionObserver) when the token was written. */
  inView: boolean
}

type Chunkish = { type: string; recordId?: string; seq?: number }

/** Matches each token to the first moment the page showed at least that many chunks. */
export function tokenTimes(
  writtenAt: ReadonlyMap<string, number>,
  sunkAt: ReadonlyMap<string, number>,
  probe: ProbeRecord,
  offsets: { page: number; date: number },
): Map<string, TokenTimes> {
  const page = (at: number): number => at - offsets.page
  const arrivedAt = new Map<string, number>()
  for (const [at, data] of probe.arrived) {
    const frame = JSON.parse(data) as Chunkish | Chunkish[]
    for (const event of Array.isArray(frame) ? frame : [frame]) {
      const key = `${event.recordId}/${event.seq}`
      if (event.type === 'chunk' && !arrivedAt.has(key)) arrivedAt.set(key, page(at))
    }
  }
  const shownByRecord = new Map<string, Array<{ chunks: number; dom: number; frame?: number }>>()
  for (const [recordId, chunks, at, frameIndex] of probe.seen) {
    const list = shownByRecord.get(recordId) ?? []
    if (list.length === 0) shownByRecord.set(recordId, list)
    const frameAt = probe.frames[frameIndex]
    // A change made inside a frame's callbacks shows in that frame, after the change itself.
    list.push({
      chunks,
      dom: page(at),
      frame: frameAt === undefined ? undefined : page(Math.max(at, frameAt)),
    })
  }
  const visibleByRecord = new Map<string, Array<[boolean, number]>>()
  for (const [recordId, visible, at] of probe.visible) {
    const list = visibleByRecord.get(recordId) ?? []
    if (list.length === 0) visibleByRecord.set(recordId, list)
    list.push([visible, page(at)])
  }
  for (const list of visibleByRecord.values()) list.sort((a, b) => a[1] - b[1])
  const onScreen = (recordId: string, at: number): boolean => {
    let visible = false
    for (const [state, when] of visibleByRecord.get(recordId) ?? []) {
      if (when > at) break
      visible = state
    }
    return visible
  }
  const times = new Map<string, TokenTimes>()
  for (const [key, written] of writtenAt) {
    const slash = key.lastIndexOf('/')
    const recordId = key.slice(0, slash)
    const list = shownByRecord.get(recordId)
    const seq = Number(key.slice(slash + 1))
    const shown = list?.find(({ chunks }) => chunks >= seq + 1)
    const writtenHere = written - offsets.date
    times.set(key, {
      written: writtenHere,
      sunk: sunkAt.get(key) ?? Number.NaN,
      arrived: arrivedAt.get(key),
      dom: shown?.dom,
      frame: shown?.frame,
      inView: onScreen(recordId, writtenHere),
    })
  }
  return times
}

export const percentile = (sorted: readonly number[], p: number): number =>
  Number((sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0).toFixed(1))

/** p50 / p95 / p99 and the count of `values` (sorted here). */
export function summary(values: number[]): { n: number; p50: number; p95: number; p99: number } {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b)
  return {
    n: sorted.length,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
  }
}

/**
 * The latency of the tokens in view (their row was in the page when they were written), whole and
 * per stage: simulator → sinks (HTTP, the client, the pipeline), sinks → page (the producer's and
 * the hub's ticks, two WebSockets), page → DOM (the viewer: batching, React, Markdown), and DOM →
 * the frame that shows it.
 */
export function stageSummary(times: ReadonlyMap<string, TokenTimes>) {
  const inView = [...times.values()].filter((token) => token.inView && token.dom !== undefined)
  type Moment = 'written' | 'sunk' | 'arrived' | 'dom' | 'frame'
  const stage = (from: Moment, to: Moment) =>
    summary(inView.map((token) => (token[to] ?? Number.NaN) - (token[from] ?? Number.NaN)))
  return {
    tokenToDom: stage('written', 'dom'),
    tokenToFrame: stage('written', 'frame'),
    simulatorToSinks: stage('written', 'sunk'),
    sinksToPage: stage('sunk', 'arrived'),
    pageToDom: stage('arrived', 'dom'),
    all: summary([...times.values()].map((token) => (token.dom ?? Number.NaN) - token.written)),
    neverShown: [...times.values()].filter((token) => token.dom === undefined).length,
  }
}

/** Moments of the job on this process's clock, to place the page's long tasks. */
export interface JobMoments {
  /** The batch was started. */
  started: number
  /** The first and the last token written by the simulator. */
  firstToken: number
  lastToken: number
  /** The batch's promise settled (its last event was published). */
  ended: number
}

/**
 * Every long task of the page, placed in the job: its start in ms from the first token written
 * (negative before it) and the phase it fell in: `before` the batch started, `job-start` (between
 * the start and the first token), `during` (between the first and the last token written),
 * `job-end` (from the last token to the batch's end) or `after` it (the final render).
 */
export function placeLongTasks(
  probe: ProbeRecord,
  pageOffset: number,
  moments: JobMoments,
): Array<{ at: number; duration: number; phase: string }> {
  const phase = (at: number): string => {
    if (at < moments.started) return 'before'
    if (at < moments.firstToken) return 'job-start'
    if (at <= moments.lastToken) return 'during'
    if (at <= moments.ended) return 'job-end'
    return 'after'
  }
  return probe.longTasks.map(([start, duration]) => {
    const at = start - pageOffset
    return {
      at: Math.round(at - moments.firstToken),
      duration: Math.round(duration),
      phase: phase(at),
    }
  })
}
