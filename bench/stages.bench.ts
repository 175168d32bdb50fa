// Stages pipelined against the same stages run one after the other. Three equal stages (each its own
// simulator: 4 slots, 100 tokens/s, 20 tokens an answer), 64 records. Sequential: stage 1 over every
// record, then stage 2 over its results, then stage 3 (three runPipeline calls). Pipelined: one
// runStages, a record enters stage n+1 as soon as stage n ends it (its queue bounded as shipped, then
// unbounded, for the bound's cost). Target: pipelined ≤ 0.45×.
// Run: `pnpm bench stages` (builds first), or `node bench/stages.bench.ts` after a build.
import { performance } from 'node:perf_hooks'
import {
  type InputRecord,
  OllamaClient,
  type RecordResult,
  runPipeline,
  runStages,
  templatePrompt,
} from '@spout/core'
import { startSimulator } from '@spout/ollama-sim'

const model = 'llama3.2'
const records = 64
const slots = 4
const simulator = { numParallel: slots, tokensPerSecond: 100, firstTokenDelayMs: 20 }
const templates = [
  'Question about {{input.topic}} [sim:tokens=20]',
  'Answer: {{s1.response}} [sim:tokens=20]',
  'Grade: {{s2.response}} [sim:tokens=20]',
]

export async function run(): Promise<{ sequentialMs: number; pipelinedMs: number; ratio: number }> {
  const sims = await Promise.all([0, 1, 2].map(() => startSimulator(simulator)))
  const clients = sims.map((sim) => new OllamaClient({ host: sim.url, retry: false }))
  const input = Array.from({ length: records }, (_, index) => ({
    id: `r${index + 1}`,
    topic: `topic ${index + 1}`,
  }))
  try {
    // Sequential: each stage waits for the whole previous one.
    const started = performance.now()
    let contexts: InputRecord[] = input.map((record) => ({ id: record.id, input: record }))
    for (const [index, template] of templates.entries()) {
      const results: RecordResult[] = []
      await runPipeline({
        client: clients[index]!,
        model,
        input: contexts,
        concurrency: slots,
        plugins: [
          templatePrompt({ template }),
          { name: 'collect', recordEnd: (result) => void results.push(result) },
        ],
      })
      contexts = results.map((result) => ({
        ...(result.input as InputRecord),
        [`s${index + 1}`]: { response: result.response },
      }))
    }
    const sequentialMs = performance.now() - started

    const pipelined = async (queueSize?: number) => {
      const start = performance.now()
      const summary = await runStages({
        input,
        ...(queueSize === undefined ? {} : { queueSize }),
        stages: templates.map((template, index) => ({
          name: `s${index + 1}`,
          client: clients[index]!,
          model,
          template,
          concurrency: slots,
        })),
      })
      if (summary.ok !== records) throw new Error(`pipelined run: ${summary.ok} of ${records} ok`)
      return performance.now() - start
    }
    // The queue between stages as shipped (bounded: 8 here), and unbounded, to show what the bound costs.
    const pipelinedMs = await pipelined()
    const unboundedMs = await pipelined(Number.MAX_SAFE_INTEGER)
    const ratio = pipelinedMs / sequentialMs
    console.log('stages: 3 equal stages (4 slots, 100 tok/s, 20 tokens), 64 records')
    console.table([
      { run: 'sequential (3 runs)', ms: Math.round(sequentialMs) },
      {
        run: 'pipelined (runStages)',
        ms: Math.round(pipelinedMs),
        'ratio (target ≤ 0.45)': ratio.toFixed(2),
      },
      {
        run: 'pipelined, queue unbounded',
        ms: Math.round(unboundedMs),
        'ratio (target ≤ 0.45)': (unboundedMs / sequentialMs).toFixed(2),
      },
    ])
    return { sequentialMs, pipelinedMs, ratio }
  } finally {
    for (const client of clients) await client.close()
    for (const sim of sims) await sim.close()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run()
