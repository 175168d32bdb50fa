// Pipeline cost per record: 5-token answers with no delay, records/s of the pipeline (JSONL out)
// side by side with a bare OllamaClient loop and a hand-written ollama-js loop doing the same work.
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { jsonlSink, OllamaClient, runPipeline } from '@spout/core'
import { records, startSimulatorProcess } from './simulator-process.ts'

const model = 'llama3.2'

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
