// Pipeline benchmarks against the simulator, which runs in a child process (its own event loop):
// 1. throughput: K slots streaming at R tokens/s each; the pipeline at concurrency K should reach K × R,
// 2. memory: 100,000 records through the pipeline into a JSONL file; RSS sampled as it goes,
// 3. cost per record: 5-token answers with no delay, records/s, side by side with a hand-written
//    loop over the `ollama` npm client (ollama-js) doing the same work (stream, concatenate, write a line).
// Run: `pnpm bench` (builds first), or `node --expose-gc bench/pipeline.bench.ts` after a build.
import { performance } from 'node:perf_hooks'
import { OllamaClient, OpenAIClient, runPipeline } from '@spout/core'
import { type CostResult, costPerRecord } from './pipeline-cost.ts'
import { type MemoryResult, type MemoryVariant, memory } from './pipeline-memory.ts'
import { records, startSimulatorProcess } from './simulator-process.ts'

const model = 'llama3.2'

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
