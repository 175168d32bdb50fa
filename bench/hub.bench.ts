// Hub fan-out at the load: one producer sends 2,000 chunk events/s (with the job's
// job-start, record-starts and record-ends; 32 records at once, of varied lengths) for 10 s to a
// hub watched by 500 viewers. Three hubs take the same load in turn: ours (`createHub`, defaults:
// validation, sequence numbers, history on, slow viewers skipped and brought back with a
// snapshot), a reference relay (one array frame per 16 ms tick, serialized once, a slow viewer's
// ticks skipped), and a naive `ws` hub that sends each producer frame to each viewer. Each hub runs in its own child process (its CPU read
// from /proc), the viewers in two more (250 each); this process only produces. Our hub runs three
// times (median p99), the others once. Then ours and the reference once more with a `lockstep`
// job, the stress case where all 32 records end in the same tick (`no-stress` skips it).
// Run: `pnpm bench hub` (builds first), or `node bench/hub.bench.ts [chunksPerSecond]
// [hubRepeats] [no-naive] [shared] [lockstep] [no-stress] [viewers=N]` after a build (`8000 1`:
// the overload).
import { type ChildProcess, fork } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { WebSocket } from 'ws'
import { Job, type JobShape } from './hub-bench-job.ts'
import type { HubKind, ServerCommand, ServerMessage } from './hub-server-process.ts'
import { printRows, printStress, printVerdict } from './hub-verdict.ts'
import { binMilliseconds, type ViewerCommand, type ViewerReport } from './hub-viewer-process.ts'

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
  /** Run the naive hub too (default); it is far behind at this load and takes the longest. */
  naive?: boolean
  /** Records of varied lengths (default), or all of one length, ending together: see {@link JobShape}. */
  job?: JobShape
  /** Then run our hub and the reference once more with a `lockstep` job, the stress case (default). */
  stress?: boolean
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
  /** The kernel's part of it (stime): on loopback, mostly delivering frames into the viewers' sockets. */
  systemCpuPercent: number
  /** The two viewer processes' CPU over the same time, in percent of one core. */
  viewerCpuPercent: number
  /** Longest event-loop stall of the hub process, and of the viewer processes, while measured (ms). */
  hubLoopDelayMax: number
  viewerLoopDelayMax: number
  /** Bytes each viewer read off its connection over the whole phase (MiB, mean): the hub's egress per viewer. */
  wireMiBPerViewer: number
  /** Highest RSS of the hub process while measured (MiB). */
  hubRssPeakMiB: number
  /** The hub's tick when the load ended, ms (ours follows its fan-out cost). */
  tickMs: number
}

const url = (file: string) => new URL(file, import.meta.url)

/**
 * Node flags for the hub processes (`SPOUT_BENCH_HUB_FLAGS`) and the viewer processes
 * (`SPOUT_BENCH_VIEWER_FLAGS`), e.g. `--cpu-prof --cpu-prof-dir=/tmp/hub` for a profile of each.
 */
function childFlags(file: string): string[] {
  const flags = file.includes('server')
    ? // biome-ignore lint/suspicious/noUndeclaredEnvVars: a bench knob, not a build input
      process.env.SPOUT_BENCH_HUB_FLAGS
    : // biome-ignore lint/suspicious/noUndeclaredEnvVars: a bench knob, not a build input
      process.env.SPOUT_BENCH_VIEWER_FLAGS
  return flags ? flags.split(' ') : []
}

function child(file: string, args: string[]): ChildProcess {
  return fork(url(file), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: childFlags(file) })
}

/** CPU seconds a process has used so far (user + system), from /proc/<pid>/stat; ticks of 10 ms. */
function cpuSeconds(pid: number | undefined): number {
  return userSeconds(pid) + systemSeconds(pid)
}

function statFields(pid: number | undefined): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

// Fields 14 and 15 of stat(5) (utime, stime) are the 12th and 13th after the command name.
const userSeconds = (pid: number | undefined) => Number(statFields(pid)[11]) / 100
/** Kernel time: on loopback, mostly the TCP work of delivering each frame into the viewers' sockets. */
const systemSeconds = (pid: number | undefined) => Number(statFields(pid)[12]) / 100

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
    const producer = await connect(servers, viewerProcesses, producerSockets, options.viewers)
    const job = new Job(32, 120, options.job)
    const cpu = await produce(job, producer, servers, viewerProcesses, options)
    for (const viewer of viewerProcesses) viewer.send({ type: 'mark' } satisfies ViewerCommand)
    // A hub that is behind answers only once it has caught up: read its answer after the drain.
    const loop = nextMessage<ServerMessage & { type: 'loop' }>(server, 'loop')
    loop.catch(() => undefined) // killed before it answered: the race below has moved on
    for (const each of servers) each.send({ type: 'stop' } satisfies ServerCommand)
    const reports = await drain(viewerProcesses, job.sent, options.drainSeconds)
    const hubLoop = await Promise.race([
      loop,
      sleep(1000).then(() => ({ max: Number.NaN, rssPeakMiB: Number.NaN, tickMs: Number.NaN })),
    ])
    return phaseRow(kind, job.sent, options.viewers, reports, { ...cpu, hubLoop })
  } finally {
    await killAll([...servers, ...viewerProcesses], producerSockets)
  }
}

/** Starts the viewer processes (half on each hub) and opens the producer's socket on the first hub. */
async function connect(
  servers: ChildProcess[],
  viewerProcesses: ChildProcess[],
  producerSockets: WebSocket[],
  viewers: number,
): Promise<WebSocket> {
  const ports = await Promise.all(
    servers.map(async (each) => (await nextMessage<ServerMessage & { type: 'ready' }>(each, 'ready')).port),
  )
  const port = ports[0]!
  const perProcess = [Math.ceil(viewers / 2), Math.floor(viewers / 2)]
  for (const [index, count] of perProcess.entries()) {
    const viewerPort = ports[index % ports.length]!
    viewerProcesses.push(child('./hub-viewer-process.ts', [`ws://127.0.0.1:${viewerPort}/ws`, String(count)]))
  }
  await Promise.all(viewerProcesses.map((viewer) => nextMessage(viewer, 'ready')))
  const producer = new WebSocket(`ws://127.0.0.1:${port}/publish`, { perMessageDeflate: false })
  producerSockets.push(producer)
  await new Promise((resolve, reject) => {
    producer.once('open', resolve)
    producer.once('error', reject)
  })
  return producer
}

/**
 * Produces the job, paced: at every timer turn, the chunks that are due by now. Measuring starts
 * after the warm-up; resolves to the CPU share (of one core) of the hubs and of the viewers then.
 */
async function produce(
  job: Job,
  producer: WebSocket,
  servers: ChildProcess[],
  viewerProcesses: ChildProcess[],
  options: Required<HubBenchOptions>,
): Promise<{ hubCpu: number; hubSystemCpu: number; viewerCpu: number }> {
  const hubsCpu = () => servers.reduce((sum, each) => sum + cpuSeconds(each.pid), 0)
  const hubsSystem = () => servers.reduce((sum, each) => sum + systemSeconds(each.pid), 0)
  const viewersCpu = () => viewerProcesses.reduce((sum, viewer) => sum + cpuSeconds(viewer.pid), 0)
  const send = (events: string[]) => {
    for (const event of events) producer.send(event)
  }
  send(job.start())
  const started = performance.now()
  const warmUpMs = options.warmUpSeconds * 1000
  const durationMs = warmUpMs + options.seconds * 1000
  let chunks = 0
  let measuring = false
  let cpuAtStart = { hub: 0, hubSystem: 0, viewers: 0, at: 0 }
  for (let elapsed = 0; elapsed < durationMs; elapsed = performance.now() - started) {
    if (!measuring && elapsed >= warmUpMs) {
      measuring = true
      cpuAtStart = { hub: hubsCpu(), hubSystem: hubsSystem(), viewers: viewersCpu(), at: performance.now() }
      for (const each of servers) each.send({ type: 'start' } satisfies ServerCommand)
    }
    const due = Math.floor((elapsed * options.chunksPerSecond) / 1000)
    for (; chunks < due; chunks++) send(job.chunk(!measuring))
    await sleep(1)
  }
  send(job.end())
  const measuredSeconds = (performance.now() - cpuAtStart.at) / 1000
  return {
    hubCpu: (hubsCpu() - cpuAtStart.hub) / measuredSeconds,
    hubSystemCpu: (hubsSystem() - cpuAtStart.hubSystem) / measuredSeconds,
    viewerCpu: (viewersCpu() - cpuAtStart.viewers) / measuredSeconds,
  }
}

/** Lets the viewers receive the rest, up to the drain time: their last reports. */
async function drain(
  viewerProcesses: ChildProcess[],
  sent: number,
  drainSeconds: number,
): Promise<ViewerReport[]> {
  const drainUntil = performance.now() + drainSeconds * 1000
  for (;;) {
    const reports = await Promise.all(
      viewerProcesses.map((viewer) => {
        const reply = nextMessage<ViewerReport>(viewer, 'report')
        viewer.send({ type: 'report' } satisfies ViewerCommand)
        return reply
      }),
    )
    const held = reports.flatMap((report) => report.held)
    if (held.every((count) => count >= sent) || performance.now() > drainUntil) return reports
    await sleep(250)
  }
}

/** One phase's row from the viewers' reports, the CPU shares and the hub's loop delay. */
function phaseRow(
  kind: HubKind,
  sent: number,
  viewers: number,
  reports: ViewerReport[],
  measured: {
    hubCpu: number
    hubSystemCpu: number
    viewerCpu: number
    hubLoop: { max: number; rssPeakMiB: number; tickMs: number }
  },
): HubBenchRow {
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
    sent,
    deliveredPercent: (100 * delivered) / (sent * viewers),
    completeViewers: held.filter((count) => count === sent).length,
    closedViewers: reports.reduce((sum, report) => sum + report.closed, 0),
    missingEvents: sent * viewers - delivered,
    p50: percentile(histogram, samples, 0.5),
    p99: percentile(histogram, samples, 0.99),
    max: binMilliseconds(maxBin),
    endLagMedian: median(lags),
    endLagMax: Math.max(...lags),
    cpuPercent: 100 * measured.hubCpu,
    systemCpuPercent: 100 * measured.hubSystemCpu,
    viewerCpuPercent: 100 * measured.viewerCpu,
    hubLoopDelayMax: measured.hubLoop.max,
    hubRssPeakMiB: measured.hubLoop.rssPeakMiB,
    tickMs: measured.hubLoop.tickMs,
    viewerLoopDelayMax: Math.max(...reports.map((report) => report.loopDelayMax)),
    wireMiBPerViewer:
      reports.reduce((sum, report) => sum + report.wireBytes, 0) / Math.max(1, held.length) / 2 ** 20,
  }
}

/** Killed, not asked: a hub that is behind would read an `exit` only after its backlog. */
async function killAll(children: ChildProcess[], sockets: WebSocket[]): Promise<void> {
  for (const socket of sockets) socket.terminate()
  const exits = children.map((process) =>
    process.exitCode === null && process.signalCode === null
      ? new Promise((resolve) => process.once('exit', resolve))
      : undefined,
  )
  for (const process of children) process.kill()
  await Promise.all(exits)
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
    naive: options.naive ?? true,
    job: options.job ?? 'varied',
    stress: options.stress ?? true,
  }
  const hubRuns: HubBenchRow[] = []
  for (let round = 0; round < resolved.hubRepeats; round++) hubRuns.push(await phase('hub', resolved))
  // The machine may be shared: the run with the median p99 stands for the hub, all are printed.
  const byP99 = [...hubRuns].sort((a, b) => a.p99 - b.p99)
  const hub = byP99[Math.floor(byP99.length / 2)]!
  const reference = await phase('reference', resolved)
  const rows = [hub, reference]
  if (resolved.naive) rows.push(await phase('naive', resolved))
  if (resolved.shared) {
    const { startRedisServer } = await import('@spout/redis/testing')
    const redis = await startRedisServer()
    try {
      rows.push(await phase('shared', resolved, redis.url))
    } finally {
      await redis.close()
    }
  }
  printRows(resolved, rows, hubRuns)
  printVerdict(
    hubRuns,
    hub,
    reference,
    rows.find((row) => row.hub === 'shared'),
  )
  if (resolved.stress && resolved.job !== 'lockstep') {
    // The same load with every record ending in one tick: printed beside, not part of the verdict.
    const lockstep = { ...resolved, job: 'lockstep' as const }
    printStress(await phase('hub', lockstep), await phase('reference', lockstep))
  }
  return rows
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [chunksPerSecond, hubRepeats] = process.argv.slice(2).map(Number)
  const shared = process.argv.includes('shared')
  const naive = !process.argv.includes('no-naive')
  const job = process.argv.includes('lockstep') ? 'lockstep' : undefined
  // `viewers=100`: fewer viewers than the 500 (e.g. to time compressed ticks, which the
  // viewer processes must inflate).
  const viewers = Number(process.argv.find((arg) => arg.startsWith('viewers='))?.slice('viewers='.length))
  await run({
    job,
    viewers: viewers || undefined,
    stress: !process.argv.includes('no-stress'),
    chunksPerSecond: chunksPerSecond || undefined,
    hubRepeats: hubRepeats || undefined,
    shared,
    naive,
  })
}
