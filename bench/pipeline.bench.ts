// Pipeline benchmarks against the simulator, which runs in a child process (its own event loop):
// 1. throughput: K slots streaming at R tokens/s each; the pipeline at concurrency K should reach K × R,
// 2. memory: 100,000 records through the pipeline into a JSONL file; RSS sampled as it goes,
// 3. cost per record: 5-token answers with no delay, records/s, side by side with a hand-written
//    loop over the `ollama` npm client (ollama-js) doing the same work (stream, concatenate, write a line).
// Run: `pnpm bench` (builds first), or `node --expose-gc bench/pipeline.bench.ts` after a build.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { jsonlSink, OllamaClient, OpenAIClient, runPipeline } from '@spout/core'

const simulatorBin = fileURLToPath(new URL('../packages/ollama-sim/dist/bin.js', import.meta.url))
const model = 'llama3.2'

interface Simulator {
  url: string
  close(): Promise<void>
}

async function startSimulatorProcess(flags: string[]): Promise<Simulator> {
  const child: ChildProcess = spawn(process.execPath, [simulatorBin, '--port', '0', ...flags], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer]
  const url = chunk.toString().trim()
  return {
    url,
    async close() {
      child.kill('SIGTERM')
      if (child.exitCode === null) await once(child, 'exit')
    },
  }
}

function* records(count: number, tokens: number) {
  for (let index = 1; index <= count; index += 1) {
    yield { id: index, prompt: `record ${index} [sim:tokens=${tokens}]` }
  }
}

export interface ThroughputResult {
  slots: number
  tokensPerSecond: number
  records: number
  tokens: number
  seconds: number
  achieved: number
  ideal: number
  ratio: number
}

/** K slots at R tokens/s: tokens received per second over K × R. */
export async function throughput(
  slots = 4,
  rate = 100,
  tokensPerRecord = 100,
  count = 24,
  /** `api`: OllamaClient over NDJSON; `v1`: OpenAIClient over the simulator's OpenAI-compatible SSE. */
  wire: 'api' | 'v1' = 'api',
): Promise<ThroughputResult> {
  const sim = await startSimulatorProcess([
    '--num-parallel',
    String(slots),
    '--tokens-per-second',
    String(rate),
  ])
  const client =
    wire === 'v1' ? new OpenAIClient({ host: `${sim.url}/v1` }) : new OllamaClient({ host: sim.url })
  try {
    await runPipeline({ client, model, input: records(slots, 1), concurrency: slots }) // warm the connections
    const started = performance.now()
    const summary = await runPipeline({
      client,
      model,
      input: records(count, tokensPerRecord),
      concurrency: slots,
    })
    const seconds = (performance.now() - started) / 1000
    const achieved = summary.tokens / seconds
    const ideal = slots * rate
    return {
      slots,
      tokensPerSecond: rate,
      records: count,
      tokens: summary.tokens,
      seconds,
      achieved,
      ideal,
      ratio: achieved / ideal,
    }
  } finally {
    await client.close()
    await sim.close()
  }
}

export type MemoryVariant = 'pipeline' | 'client' | 'ollama-js'

export interface MemoryResult {
  variant: MemoryVariant
  records: number
  seconds: number
  recordsPerSecond: number
  /** RSS in MB before the batch, after 10% of the records, the highest seen, and at the end. */
  rssStart: number
  rssEarly: number
  rssPeak: number
  rssEnd: number
}

/**
 * One batch of `count` 5-token records, RSS sampled every 1,000 records: `pipeline` = runPipeline
 * into a JSONL file; `client` = K workers looping over OllamaClient; `ollama-js` = the same loop over
 * the `ollama` package. Plain JavaScript run with `node -e`, so the measured process holds what a
 * program using Spout holds (Node, @spout/core and its dependencies, the batch) and not Node's
 * TypeScript loader, which running a `.ts` file adds (about 16 MB of RSS). The simulator runs in
 * its own process.
 */
const memoryChildSource = `
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jsonlSink, OllamaClient, runPipeline } from '@spout/core'
const [variant, countText, concurrencyText, simulatorBin] = process.argv.slice(1)
const count = Number(countText)
const concurrency = Number(concurrencyText)
const model = ${JSON.stringify(model)}
const megabytes = (bytes) => bytes / 1024 / 1024
function* records() {
  for (let index = 1; index <= count; index += 1) yield { id: index, prompt: \`record \${index} [sim:tokens=5]\` }
}
const child = spawn(process.execPath, [simulatorBin, '--port', '0', '--num-parallel', String(concurrency)], {
  stdio: ['ignore', 'pipe', 'inherit'],
})
const [chunk] = await once(child.stdout, 'data')
const url = chunk.toString().trim()
const client = new OllamaClient({ host: url })
const directory = await mkdtemp(join(tmpdir(), 'spout-bench-'))
let ended = 0
let rssEarly = 0
let rssPeak = 0
const sample = () => {
  ended += 1
  if (ended % 1000 === 0) {
    const rss = process.memoryUsage.rss()
    rssPeak = Math.max(rssPeak, rss)
    if (ended === count / 10) rssEarly = rss
  }
}
const rssStart = process.memoryUsage.rss()
try {
  const started = performance.now()
  if (variant === 'pipeline') {
    const summary = await runPipeline({
      client,
      model,
      input: records(),
      concurrency,
      plugins: [jsonlSink(join(directory, 'out.jsonl')), { name: 'rss-probe', recordEnd: sample }],
    })
    if (summary.ok !== count) throw new Error(\`memory bench: \${summary.ok} of \${count} records succeeded\`)
  } else {
    // Loaded only here, so the pipeline's process does not carry ollama-js.
    const { Ollama } = variant === 'ollama-js' ? await import('ollama') : {}
    const ollama = Ollama ? new Ollama({ host: url }) : undefined
    const input = records()
    const worker = async () => {
      for (let next = input.next(); !next.done; next = input.next()) {
        let response = ''
        const prompt = next.value.prompt
        if (ollama) {
          for await (const part of await ollama.generate({ model, prompt, stream: true })) response += part.response
        } else {
          for await (const part of client.generate({ model, prompt }, { retry: false })) response += part.response
        }
        if (response === '') throw new Error('empty response')
        sample()
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
  }
  const seconds = (performance.now() - started) / 1000
  process.stdout.write(JSON.stringify({
    variant,
    records: count,
    seconds,
    recordsPerSecond: count / seconds,
    rssStart: megabytes(rssStart),
    rssEarly: megabytes(rssEarly),
    rssPeak: megabytes(rssPeak),
    rssEnd: megabytes(process.memoryUsage.rss()),
  }) + '\\n')
} finally {
  await client.close()
  child.kill('SIGTERM')
  await rm(directory, { recursive: true, force: true })
}
`

/** Runs one memory variant in a fresh process, so earlier benchmarks do not inflate its RSS. */
export async function memory(
  variant: MemoryVariant,
  count = 100_000,
  concurrency = 8,
): Promise<MemoryResult> {
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '--eval',
      memoryChildSource,
      variant,
      String(count),
      String(concurrency),
      simulatorBin,
    ],
    // From the repository root, where `@spout/core` and `ollama` resolve.
    { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const [code] = (await once(child, 'exit')) as [number | null]
  if (code !== 0) throw new Error(`memory bench (${variant}) exited with ${code}`)
  return JSON.parse(output) as MemoryResult
}

export interface CostResult {
  concurrency: number
  records: number
  /** Records per second: the pipeline (JSONL output), a bare OllamaClient loop, the ollama-js loop. */
  pipeline: number
  client: number
  peer: number
  /** pipeline / ollama-js. */
  ratio: number
}

/** The pipeline's floor: K workers over OllamaClient, no plugins, no output. */
async function clientLoop(client: OllamaClient, count: number, concurrency: number): Promise<number> {
  const input = records(count, 5)
  const started = performance.now()
  const worker = async () => {
    for (let next = input.next(); !next.done; next = input.next()) {
      let response = ''
      for await (const part of client.generate({ model, prompt: next.value.prompt }, { retry: false })) {
        response += part.response
      }
      if (response === '') throw new Error('empty response')
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return count / ((performance.now() - started) / 1000)
}

/** The same batch without the pipeline: K workers over ollama-js, concatenating and writing one line each. */
async function peerBatch(host: string, count: number, concurrency: number, path: string): Promise<number> {
  const { Ollama } = await import('ollama')
  const ollama = new Ollama({ host })
  const output = createWriteStream(path)
  const input = records(count, 5)
  const started = performance.now()
  const worker = async () => {
    for (let next = input.next(); !next.done; next = input.next()) {
      const record = next.value
      const startedAt = new Date().toISOString()
      let response = ''
      let final: Record<string, unknown> = {}
      for await (const part of await ollama.generate({ model, prompt: record.prompt, stream: true })) {
        response += part.response
        if (part.done) final = part as unknown as Record<string, unknown>
      }
      const line = JSON.stringify({
        id: String(record.id),
        input: record,
        model,
        prompt: record.prompt,
        response,
        done_reason: final.done_reason,
        started_at: startedAt,
        ended_at: new Date().toISOString(),
      })
      if (!output.write(`${line}\n`)) await once(output, 'drain')
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  output.end()
  await once(output, 'close')
  return count / ((performance.now() - started) / 1000)
}

/** Records per second with 5-token answers and no delay: the pipeline's own cost per record. */
export async function costPerRecord(concurrency: number, count = 20_000): Promise<CostResult> {
  const sim = await startSimulatorProcess(['--num-parallel', String(concurrency)])
  const client = new OllamaClient({ host: sim.url })
  const directory = await mkdtemp(join(tmpdir(), 'spout-bench-'))
  try {
    const warm = Math.min(2000, count / 10)
    await runPipeline({ client, model, input: records(warm, 5), concurrency })
    await peerBatch(sim.url, warm, concurrency, join(directory, 'warm.jsonl'))
    const started = performance.now()
    const summary = await runPipeline({
      client,
      model,
      input: records(count, 5),
      concurrency,
      plugins: jsonlSink(join(directory, 'pipeline.jsonl')),
    })
    const pipeline = count / ((performance.now() - started) / 1000)
    if (summary.ok !== count) throw new Error(`cost bench: ${summary.ok} of ${count} records succeeded`)
    const bare = await clientLoop(client, count, concurrency)
    const peer = await peerBatch(sim.url, count, concurrency, join(directory, 'peer.jsonl'))
    return { concurrency, records: count, pipeline, client: bare, peer, ratio: pipeline / peer }
  } finally {
    await client.close()
    await sim.close()
    await rm(directory, { recursive: true, force: true })
  }
}

export async function run(): Promise<{
  throughput: ThroughputResult[]
  memory: MemoryResult[]
  cost: CostResult[]
}> {
  const format = (value: number, digits = 0) => value.toFixed(digits)
  console.log('\npipeline memory (100,000 records, 5 tokens each, concurrency 8; each in a fresh process)')
  console.log('variant | records/s | RSS before | RSS at 10% | peak RSS | RSS at end')
  const memories: MemoryResult[] = []
  for (const variant of ['pipeline', 'client', 'ollama-js'] as const) {
    const result = await memory(variant)
    memories.push(result)
    console.log(
      [
        variant,
        format(result.recordsPerSecond),
        `${format(result.rssStart, 1)} MB`,
        `${format(result.rssEarly, 1)} MB`,
        `${format(result.rssPeak, 1)} MB`,
        `${format(result.rssEnd, 1)} MB`,
      ].join(' | '),
    )
  }

  console.log('\npipeline throughput (K slots at R tokens/s each, 100-token records; over /api and /v1)')
  console.log('wire | K | R | records | tokens/s | K × R | ratio')
  const throughputs: ThroughputResult[] = []
  for (const [slots, rate, wire] of [
    [1, 100, 'api'],
    [4, 100, 'api'],
    [8, 50, 'api'],
    [1, 100, 'v1'],
    [4, 100, 'v1'],
    [8, 50, 'v1'],
  ] as const) {
    const result = await throughput(slots, rate, 100, slots * 6, wire)
    throughputs.push(result)
    console.log(
      [
        `/${wire}`,
        slots,
        rate,
        result.records,
        format(result.achieved, 1),
        result.ideal,
        `${format(result.ratio * 100, 1)}%`,
      ].join(' | '),
    )
  }

  console.log(
    '\npipeline cost per record (5-token answers, no delay) vs a bare OllamaClient loop and an ollama-js loop',
  )
  console.log(
    'concurrency | records | pipeline rec/s (JSONL out) | bare client rec/s | ollama-js rec/s (JSONL out) | pipeline/ollama-js',
  )
  const costs: CostResult[] = []
  for (const concurrency of [1, 8]) {
    const result = await costPerRecord(concurrency)
    costs.push(result)
    console.log(
      [
        concurrency,
        result.records,
        format(result.pipeline),
        format(result.client),
        format(result.peer),
        `${format(result.ratio, 2)}x`,
      ].join(' | '),
    )
  }
  return { throughput: throughputs, memory: memories, cost: costs }
}

const memoryFlag = process.argv.indexOf('--memory')
if (memoryFlag !== -1) {
  const [variant, count, concurrency] = process.argv.slice(memoryFlag + 1)
  const result = await memory(variant as MemoryVariant, Number(count), Number(concurrency))
  process.stdout.write(`${JSON.stringify(result)}\n`)
} else if (import.meta.url === `file://${process.argv[1]}`) {
  await run()
}
