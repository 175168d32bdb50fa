// Pipeline memory bench: 100,000 records through the pipeline into a JSONL file, RSS sampled as it
// goes, side by side with bare loops over OllamaClient and over ollama-js; each in a fresh process.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { simulatorBin } from './simulator-process.ts'

const model = 'llama3.2'

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
