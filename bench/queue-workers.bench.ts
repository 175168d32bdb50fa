// Worker scaling on a BullMQ queue: 1, 2 and 4 `spout worker` processes (-c 8 each) against one
// simulator process with slots to spare (64 at 200 tok/s, 40 tokens a record: 320 records/s), a
// collector in this process (`openQueueBatch`, as `spout run --queue --workers 0` runs it), on a
// redis-server of its own. Per run: records/s, its share of what the workers' slots allow
// (workers × 8 slots × 200 / 40), the ratio to the run with half as many workers, and the peer: one
// local pipeline with the same records in flight (`spout run -c 8·N` without a queue), same simulator.
// Run: `pnpm bench queue-workers` (builds first), or `node --expose-gc bench/run.ts queue-workers`.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { availableParallelism, loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { OllamaClient, runPipeline } from '@spout/core'
import { openQueueBatch } from '@spout/redis'
import { startRedisServer } from '@spout/redis/testing'
import { startSimulatorProcess } from './simulator-process.ts'

const cliBin = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url))
const model = 'llama3.2'
const perWorker = 8
const tokensPerSecond = 200
const tokensPerRecord = 40
const simSlots = 64
// biome-ignore lint/suspicious/noUndeclaredEnvVars: a bench knob, not a build input
const recordsPerWorker = Number(process.env.SPOUT_BENCH_QUEUE_RECORDS ?? 160)
// biome-ignore lint/suspicious/noUndeclaredEnvVars: a bench knob, not a build input
const counts = (process.env.SPOUT_BENCH_QUEUE_WORKERS ?? '1,2,4').split(',').map(Number)

interface Row {
  workers: number
  records: number
  /** Records per second through the queue. */
  queued: number
  /** Share of the workers' slots (workers × 8 × 200 / 40 records/s). */
  share: number
  /** Records/s against the run with half as many workers. */
  perDoubling: number | undefined
  /** Records per second of one local pipeline with the same records in flight. */
  direct: number
}

async function child(
  args: string[],
  ready: RegExp,
  stream: 'stdout' | 'stderr',
): Promise<ChildProcess & { text: string }> {
  const process_ = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] }) as ChildProcess & {
    text: string
  }
  process_.text = ''
  await new Promise<void>((resolve, reject) => {
    process_[stream]!.on('data', (chunk: Buffer) => {
      process_.text += chunk.toString()
      if (ready.test(process_.text)) resolve()
    })
    process_.once('exit', (code) => reject(new Error(`${args[1]} exited (${code}): ${process_.text}`)))
  })
  return process_
}

async function stop(processes: ChildProcess[]): Promise<void> {
  await Promise.all(
    processes.map(async (each) => {
      if (each.exitCode !== null) return
      each.kill('SIGTERM')
      await once(each, 'exit')
    }),
  )
}

function* input(count: number, tag: string) {
  for (let index = 0; index < count; index++)
    yield {
      id: `r${index}`,
      record: { prompt: `Queue bench ${tag} ${index} [sim:tokens=${tokensPerRecord}]` },
    }
}

export async function run(): Promise<Row[]> {
  const redis = await startRedisServer()
  const sim = await startSimulatorProcess([
    '--num-parallel',
    String(simSlots),
    '--tokens-per-second',
    String(tokensPerSecond),
  ])
  const simUrl = sim.url
  const rows: Row[] = []
  try {
    for (const workers of counts) {
      const records = recordsPerWorker * workers
      const processes = await Promise.all(
        Array.from({ length: workers }, () =>
          child(
            [cliBin, 'worker', '--queue', redis.url, '--host', simUrl, '-c', String(perWorker)],
            /taking records/,
            'stderr',
          ),
        ),
      )
      const batch = await openQueueBatch({
        url: redis.url,
        spec: { jobId: `bench-${workers}`, name: `bench-${workers}`, model },
      })
      const started = performance.now()
      let ok = 0
      for await (const item of batch.collect(input(records, `q${workers}`))) {
        if (item.type === 'result' && !item.line.error) ok += 1
      }
      const seconds = (performance.now() - started) / 1000
      await batch.finish()
      await batch.close()
      await stop(processes)
      if (ok !== records) throw new Error(`queue run with ${workers} workers: ${ok} of ${records} ok`)

      const directStarted = performance.now()
      const summary = await runPipeline({
        client: new OllamaClient({ host: simUrl }),
        model,
        concurrency: perWorker * workers,
        input: Array.from(input(records, `d${workers}`), (entry) => entry.record),
      })
      const directSeconds = (performance.now() - directStarted) / 1000
      if (summary.ok !== records) throw new Error(`direct run: ${summary.ok} of ${records} ok`)

      const queued = records / seconds
      const half = rows.find((row) => row.workers * 2 === workers)
      rows.push({
        workers,
        records,
        queued,
        share: queued / ((workers * perWorker * tokensPerSecond) / tokensPerRecord),
        perDoubling: half ? queued / half.queued : undefined,
        direct: records / directSeconds,
      })
    }
  } finally {
    await sim.close()
    await redis.close()
  }
  printRows(rows)
  return rows
}

function printRows(rows: Row[]): void {
  console.log(
    `\nqueue workers: each -c ${perWorker}, simulator ${simSlots} slots × ${tokensPerSecond} tok/s, ${tokensPerRecord} tokens a record; ${availableParallelism()} cores, load ${loadavg()[0]!.toFixed(1)}`,
  )
  console.log(
    "workers | records | records/s | share of the workers' slots | × per doubling | direct records/s (one pipeline, same in flight) | queue ÷ direct",
  )
  for (const row of rows) {
    console.log(
      `${row.workers} | ${row.records} | ${row.queued.toFixed(1)} | ${(row.share * 100).toFixed(0)} % | ${row.perDoubling === undefined ? '–' : `${row.perDoubling.toFixed(2)}×`} | ${row.direct.toFixed(1)} | ${(row.queued / row.direct).toFixed(2)}`,
    )
  }
}
