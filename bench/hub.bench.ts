// Hub fan-out at the issue's load: one producer sends 2,000 chunk events/s (with the job's
// job-start, record-starts and record-ends) for 10 s to a hub watched by 500 viewers. Three hubs
// take the same load in turn: ours (`createHub`, defaults: validation, sequence numbers, history
// on, slow viewers skipped and brought back with a snapshot), a reference relay (one array frame
// per 16 ms tick, serialized once, a slow viewer's ticks skipped), and a naive `ws` hub that
// sends each producer frame to each viewer. Each hub runs in its own child process (its CPU read
// from /proc), the viewers in two more (250 each); this process only produces. Our hub runs three
// times (median p99), the others once. Run: `pnpm bench hub` (builds first), or
// `node bench/hub.bench.ts [chunksPerSecond] [hubRepeats]` after a build (`8000 1`: the overload).
import { type ChildProcess, fork } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { WebSocket } from 'ws'
import type { HubKind, ServerCommand, ServerMessage } from './hub-server-process.ts'
import { printVerdict } from './hub-verdict.ts'
import { binMilliseconds, now, type ViewerCommand, type ViewerReport } from './hub-viewer-process.ts'

export interface HubBenchOptions {
  /** Chunk events per second the producer sends (record and job events come on top). */
  chunksPerSecond?: number
  seconds?: number
  /** Seconds of the same load before the measured ones (delivered, not timed; CPU not counted). */
  warmUpSeconds?: number
  viewers?: number
  /** How long after the producer stops viewers may take to receive the rest. */
  drainSeconds?: number
  /** Runs of our hub (the one with the median p99 is reported); the naive hub runs once. */
  hubRepeats?: number
  /** Also run two of our hubs sharing one Redis (a `redis-server` of its own), half the viewers on each. */
  shared?: boolean
}

export interface HubBenchRow {
  hub: HubKind
  sent: number
  /** Events held (received, or stood for by a snapshot) over all viewers still connected / (sent × viewers), in percent. */
  deliveredPercent: number
  /** Viewers that held every event when the drain ended. */
  completeViewers: number
  closedViewers: number
  missingEvents: number
  p50: number
  p99: number
  max: number
  /** When the producer stopped: now minus the send time of the newest chunk a viewer had (median and worst viewer). */
  endLagMedian: number
  endLagMax: number
  /** Hub process CPU while the producer sent (after the warm-up), in percent of one core. */
  cpuPercent: number
  /** The two viewer processes' CPU over the same time, in percent of one core. */
  viewerCpuPercent: number
  /** Longest event-loop stall of the hub process, and of the viewer processes, while measured (ms). */
  hubLoopDelayMax: number
  viewerLoopDelayMax: number
  /** Highest RSS of the hub process while measured (MiB). */
  hubRssPeakMiB: number
}

const url = (file: string) => new URL(file, import.meta.url)

function child(file: string, args: string[]): ChildProcess {
  return fork(url(file), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
}

/** CPU seconds a process has used so far (user + system), from /proc/<pid>/stat; ticks of 10 ms. */
function cpuSeconds(pid: number | undefined): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // Fields 14 and 15 of stat(5) (utime, stime) are the 12th and 13th after the command name.
  return (Number(fields[11]) + Number(fields[12])) / 100
}

function nextMessage<T>(process: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== type) return
      process.off('message', onMessage)
      process.off('exit', onExit)
      resolve(message as T)
    }
    const onExit = (code: number | null) => reject(new Error(`bench child exited (${code}) before '${type}'`))
    process.on('message', onMessage)
    process.once('exit', onExit)
  })
}

/** The events of a realistic job: `slots` records stream at once, each `chunksPerRecord` chunks long. */
class Job {
  readonly jobId = 'bench-job'
  readonly #slots: { recordId: string; seq: number; text: string[] }[] = []
  readonly #chunksPerRecord: number
  #records = 0
  #turn = 0
  sent = 0

  constructor(slots: number, chunksPerRecord: number) {
    this.#chunksPerRecord = chunksPerRecord
    for (let index = 0; index < slots; index++) this.#slots.push({ recordId: '', seq: 0, text: [] })
  }

  start(): string[] {
    const events = [
      this.#json({
        type: 'job-start',
        jobId: this.jobId,
        name: 'bench',
        model: 'llama3.2:1b',
        host: 'http://127.0.0.1:11434',
        startedAt: new Date().toISOString(),
      }),
    ]
    for (const slot of this.#slots) events.push(this.#recordStart(slot))
    return events
  }

  /** One chunk, stamped with its send time, and the record-end and next record-start when its record is done. */
  chunk(warmUp: boolean): string[] {
    const slot = this.#slots[this.#turn]!
    this.#turn = (this.#turn + 1) % this.#slots.length
    const text = `@${warmUp ? 'w' : ''}${now().toFixed(3)}| token`
    slot.text.push(text)
    const events = [
      this.#json({ type: 'chunk', jobId: this.jobId, recordId: slot.recordId, seq: slot.seq, text }),
    ]
    slot.seq += 1
    if (slot.seq === this.#chunksPerRecord) events.push(this.#recordEnd(slot), this.#recordStart(slot))
    return events
  }

  end(): string[] {
    const events = this.#slots.map((slot) => this.#recordEnd(slot))
    events.push(
      this.#json({
        type: 'job-end',
        jobId: this.jobId,
        summary: { ok: this.#records, failed: 0, skipped: 0, tokens: 0, duration: 10_000 },
        endedAt: new Date().toISOString(),
      }),
    )
    return events
  }

  #recordStart(slot: { recordId: string; seq: number; text: string[] }): string {
    this.#records += 1
    slot.recordId = `record-${this.#records}`
    slot.seq = 0
    slot.text = []
    return this.#json({
      type: 'record-start',
      jobId: this.jobId,
      recordId: slot.recordId,
      attempt: 1,
      model: 'llama3.2:1b',
      prompt: `Summarize item ${this.#records} in one paragraph.`,
    })
  }

  #recordEnd(slot: { recordId: string; text: string[] }): string {
    return this.#json({
      type: 'record-end',
      jobId: this.jobId,
      recordId: slot.recordId,
      response: slot.text.join(''),
      doneReason: 'stop',
      metrics: { eval_count: slot.text.length, eval_duration: 1e9, tokens_per_second: 60 },
      attempts: 1,
    })
  }

  #json(event: object): string {
    this.sent += 1
    return JSON.stringify(event)
  }
}

function percentile(histogram: number[], total: number, quantile: number): number {
  const wanted = Math.max(1, Math.ceil(quantile * total))
  let seen = 0
  for (let bin = 0; bin < histogram.length; bin++) {
    seen += histogram[bin]!
    if (seen >= wanted) return binMilliseconds(bin)
  }
  return Number.NaN
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

async function phase(
  kind: HubKind,
  options: Required<HubBenchOptions>,
  redisUrl?: string,
): Promise<HubBenchRow> {
  // `shared`: two hubs on one Redis; the producer on the first, one viewer process on each.
  const servers = (kind === 'shared' ? [0, 1] : [0]).map(() =>
    child('./hub-server-process.ts', redisUrl ? [kind, redisUrl] : [kind]),
  )
  const server = servers[0]!
  const viewerProcesses: ChildProcess[] = []
  const producerSockets: WebSocket[] = []
  try {
    const ports = await Promise.all(
      servers.map(async (each) => (await nextMessage<ServerMessage & { type: 'ready' }>(each, 'ready')).port),
    )
    const port = ports[0]!
    const perProcess = [Math.ceil(options.viewers / 2), Math.floor(options.viewers / 2)]
    for (const [index, count] of perProcess.entries()) {
      const viewerPort = ports[index % ports.length]!
      viewerProcesses.push(
        child('./hub-viewer-process.ts', [`ws://127.0.0.1:${viewerPort}/ws`, String(count)]),
      )
    }
    const hubsCpu = () => servers.reduce((sum, each) => sum + cpuSeconds(each.pid), 0)
    await Promise.all(viewerProcesses.map((viewer) => nextMessage(viewer, 'ready')))
    const viewersCpu = () => viewerProcesses.reduce((sum, viewer) => sum + cpuSeconds(viewer.pid), 0)
    const producer = new WebSocket(`ws://127.0.0.1:${port}/publish`, { perMessageDeflate: false })
    producerSockets.push(producer)
    await new Promise((resolve, reject) => {
      producer.once('open', resolve)
      producer.once('error', reject)
    })

    // Produce, paced: at every timer turn, send the chunks that are due by now.
    const job = new Job(32, 120)
    const send = (events: string[]) => {
      for (const event of events) producer.send(event)
    }
    send(job.start())
    const started = performance.now()
    const warmUpMs = options.warmUpSeconds * 1000
    const durationMs = warmUpMs + options.seconds * 1000
    let chunks = 0
    let measuring = false
    let cpuAtStart = { hub: 0, viewers: 0, at: 0 }
    for (let elapsed = 0; elapsed < durationMs; elapsed = performance.now() - started) {
      if (!measuring && elapsed >= warmUpMs) {
        measuring = true
        cpuAtStart = { hub: hubsCpu(), viewers: viewersCpu(), at: performance.now() }
        for (const each of servers) each.send({ type: 'start' } satisfies ServerCommand)
      }
      const due = Math.floor((elapsed * options.chunksPerSecond) / 1000)
      for (; chunks < due; chunks++) send(job.chunk(!measuring))
      await sleep(1)
    }
    send(job.end())
    const measuredSeconds = (performance.now() - cpuAtStart.at) / 1000
    const hubCpu = (hubsCpu() - cpuAtStart.hub) / measuredSeconds
    const viewerCpu = (viewersCpu() - cpuAtStart.viewers) / measuredSeconds
    for (const viewer of viewerProcesses) viewer.send({ type: 'mark' } satisfies ViewerCommand)
    // A hub that is behind answers only once it has caught up: read its answer after the drain.
    const loop = nextMessage<ServerMessage & { type: 'loop' }>(server, 'loop')
    loop.catch(() => undefined) // killed before it answered: the race below has moved on
    for (const each of servers) each.send({ type: 'stop' } satisfies ServerCommand)

    // Let the viewers receive the rest, up to the drain time.
    const drainUntil = performance.now() + options.drainSeconds * 1000
    let reports: ViewerReport[]
    for (;;) {
      reports = await Promise.all(
        viewerProcesses.map((viewer) => {
          const reply = nextMessage<ViewerReport>(viewer, 'report')
          viewer.send({ type: 'report' } satisfies ViewerCommand)
          return reply
        }),
      )
      const held = reports.flatMap((report) => report.held)
      if (held.every((count) => count >= job.sent) || performance.now() > drainUntil) break
      await sleep(250)
    }

    const hubLoop = await Promise.race([
      loop,
      sleep(1000).then(() => ({ max: Number.NaN, rssPeakMiB: Number.NaN })),
    ])
    const held = reports.flatMap((report) => report.held)
    const histogram = reports[0]!.histogram.map((count, bin) =>
      reports.reduce((sum, report) => sum + (report === reports[0] ? 0 : report.histogram[bin]!), count),
    )
    const samples = histogram.reduce((sum, count) => sum + count, 0)
    const lags = reports.flatMap((report) => report.lagAtMark)
    const delivered = held.reduce((sum, count) => sum + count, 0)
    let maxBin = histogram.length - 1
    while (maxBin > 0 && histogram[maxBin] === 0) maxBin--
    return {
      hub: kind,
      sent: job.sent,
      deliveredPercent: (100 * delivered) / (job.sent * options.viewers),
      completeViewers: held.filter((count) => count === job.sent).length,
      closedViewers: reports.reduce((sum, report) => sum + report.closed, 0),
      missingEvents: job.sent * options.viewers - delivered,
      p50: percentile(histogram, samples, 0.5),
      p99: percentile(histogram, samples, 0.99),
      max: binMilliseconds(maxBin),
      endLagMedian: median(lags),
      endLagMax: Math.max(...lags),
      cpuPercent: 100 * hubCpu,
      viewerCpuPercent: 100 * viewerCpu,
      hubLoopDelayMax: hubLoop.max,
      hubRssPeakMiB: hubLoop.rssPeakMiB,
      viewerLoopDelayMax: Math.max(...reports.map((report) => report.loopDelayMax)),
    }
  } finally {
    // Killed, not asked: a hub that is behind would read an `exit` only after its backlog.
    for (const socket of producerSockets) socket.terminate()
    const children = [...servers, ...viewerProcesses]
    const exits = children.map((process) =>
      process.exitCode === null && process.signalCode === null
        ? new Promise((resolve) => process.once('exit', resolve))
        : undefined,
    )
    for (const process of children) process.kill()
    await Promise.all(exits)
  }
}

export async function run(options: HubBenchOptions = {}): Promise<HubBenchRow[]> {
  const resolved: Required<HubBenchOptions> = {
    chunksPerSecond: options.chunksPerSecond ?? 2000,
    seconds: options.seconds ?? 10,
    warmUpSeconds: options.warmUpSeconds ?? 2,
    viewers: options.viewers ?? 500,
    drainSeconds: options.drainSeconds ?? 5,
    hubRepeats: options.hubRepeats ?? 3,
    shared: options.shared ?? false,
  }
  const hubRuns: HubBenchRow[] = []
  for (let round = 0; round < resolved.hubRepeats; round++) hubRuns.push(await phase('hub', resolved))
  // The machine may be shared: the run with the median p99 stands for the hub, all are printed.
  const byP99 = [...hubRuns].sort((a, b) => a.p99 - b.p99)
  const hub = byP99[Math.floor(byP99.length / 2)]!
  const reference = await phase('reference', resolved)
  const naive = await phase('naive', resolved)
  const rows = [hub, reference, naive]
  if (resolved.shared) {
    const { startRedisServer } = await import('@spout/redis/testing')
    const redis = await startRedisServer()
    try {
      rows.push(await phase('shared', resolved, redis.url))
    } finally {
      await redis.close()
    }
  }
  const format = (value: number, digits = 0) =>
    Number.isFinite(value) ? value.toFixed(digits) : 'none arrived'
  console.log(
    `\nhub fan-out: ${resolved.chunksPerSecond} chunks/s in for ${resolved.seconds} s after ${resolved.warmUpSeconds} s of warm-up, ${resolved.viewers} viewers in 2 processes, each hub in its own process; hub: median p99 of ${resolved.hubRepeats} runs`,
  )
  console.log(
    'hub       | events sent | held % | viewers complete | closed | p50 ms | p99 ms | max ms | end lag median/max ms | hub CPU % of one core | hub RSS peak MiB | viewer processes CPU %',
  )
  for (const row of rows) {
    console.log(
      [
        row.hub.padEnd(9),
        row.sent,
        format(row.deliveredPercent, 2),
        `${row.completeViewers}/${resolved.viewers}`,
        row.closedViewers,
        format(row.p50, 1),
        format(row.p99, 1),
        format(row.max, 1),
        `${format(row.endLagMedian)}/${format(row.endLagMax)}`,
        format(row.cpuPercent),
        format(row.hubRssPeakMiB),
        format(row.viewerCpuPercent),
      ].join(' | '),
    )
  }
  console.log(
    `hub runs (p50/p99/max ms, CPU %, longest event-loop stall of hub/viewers ms): ${hubRuns.map((row) => `${format(row.p50, 1)}/${format(row.p99, 1)}/${format(row.max, 1)}, ${format(row.cpuPercent)}%, ${format(row.hubLoopDelayMax)}/${format(row.viewerLoopDelayMax)}`).join('; ')}`,
  )
  printVerdict(
    hubRuns,
    hub,
    reference,
    rows.find((row) => row.hub === 'shared'),
  )
  return rows
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [chunksPerSecond, hubRepeats] = process.argv.slice(2).map(Number)
  const shared = process.argv.includes('shared')
  await run({ chunksPerSecond: chunksPerSecond || undefined, hubRepeats: hubRepeats || undefined, shared })
}
