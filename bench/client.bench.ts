// Client benchmark: the @spout/core client side by side with the `ollama` npm package (ollama-js) and a
// bare floor (undici request + byte-level line split + JSON.parse), in one process, on the same
// simulator streams. Runs are interleaved (A, B, C, B, C, A, C, A, B, …) and medians reported.
// The simulator runs in a child process, so the CPU time measured here is the clients' alone.
// Run: `pnpm bench client` (builds first), or `node --expose-gc bench/run.ts client` after a build.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { OllamaClient } from '@spout/core'
import { expectedResponse } from '@spout/ollama-sim'
import { Ollama } from 'ollama'
import { Agent, request } from 'undici'

const model = 'llama3.2'
const tokenStreamTokens = 20_000
const tokenRounds = 11
/** Ollama's own pace is one line per flush: at 1,000 tokens/s every line is its own write and read. */
const pacedTokensPerSecond = 1000
const pacedStreamTokens = 3_000
const splitStreamTokens = 5_000
const longLineBytes = 16 * 1024 * 1024
const longLineRounds = 5
const longLineRoundsOllamaJs = 2

export interface Outcome {
  chunks: number
  characters: number
}

export type Contender = (url: string, body: { model: string; prompt: string }) => Promise<Outcome>

const simulatorBin = fileURLToPath(new URL('../packages/ollama-sim/dist/bin.js', import.meta.url))

export async function startSimulatorProcess(
  flags: string[] = [],
): Promise<{ url: string; close(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [simulatorBin, '--port', '0', ...flags], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer]
  return {
    url: chunk.toString().trim(),
    async close() {
      child.kill('SIGTERM')
      if (child.exitCode === null) await once(child, 'exit')
    },
  }
}

const floorAgent = new Agent({ headersTimeout: 0, bodyTimeout: 0 })

/** The floor: what any client must at least do. Pending bytes are kept as a list (linear on long lines). */
const floor: Contender = async (url, body) => {
  const response = await request(`${url}/api/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    dispatcher: floorAgent,
  })
  let chunks = 0
  let characters = 0
  let pending: Buffer[] = []
  const take = (line: Buffer, start: number, end: number) => {
    if (end === start) return
    const value = JSON.parse(line.toString('utf8', start, end)) as { response: string }
    chunks++
    characters += value.response.length
  }
  for await (const data of response.body as AsyncIterable<Buffer>) {
    let start = 0
    let index = data.indexOf(10)
    if (index !== -1 && pending.length > 0) {
      pending.push(data.subarray(0, index))
      const line = Buffer.concat(pending)
      pending = []
      take(line, 0, line.length)
      start = index + 1
      index = data.indexOf(10, start)
    }
    while (index !== -1) {
      take(data, start, index)
      start = index + 1
      index = data.indexOf(10, start)
    }
    if (start < data.length) pending.push(data.subarray(start))
  }
  if (pending.length > 0) {
    const line = Buffer.concat(pending)
    take(line, 0, line.length)
  }
  return { chunks, characters }
}

/** One client per simulator, kept across runs (connections stay warm, as in a real program). */
const spoutClients = new Map<string, OllamaClient>()
const spout: Contender = async (url, body) => {
  let spoutClient = spoutClients.get(url)
  if (!spoutClient) {
    spoutClient = new OllamaClient({ host: url })
    spoutClients.set(url, spoutClient)
  }
  let chunks = 0
  let characters = 0
  for await (const chunk of spoutClient.generate(body)) {
    chunks++
    characters += (chunk.response ?? '').length
  }
  return { chunks, characters }
}

const ollamaJsClients = new Map<string, Ollama>()
const ollama: Contender = async (url, body) => {
  let ollamaJs = ollamaJsClients.get(url)
  if (!ollamaJs) {
    ollamaJs = new Ollama({ host: url })
    ollamaJsClients.set(url, ollamaJs)
  }
  let chunks = 0
  let characters = 0
  for await (const chunk of await ollamaJs.generate({ ...body, stream: true })) {
    chunks++
    characters += (chunk.response ?? '').length
  }
  return { chunks, characters }
}

/** A, B, C; then B, C, A; then C, A, B; …: interleaved, and no contender always runs first. */
export function rotate<T>(items: T[], round: number): T[] {
  const shift = round % items.length
  return [...items.slice(shift), ...items.slice(0, shift)]
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

function collectGarbage(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}

/**
 * Wall time, and CPU time of this process (user + system, all threads). The machines these run on are
 * shared and often loaded: CPU time does not count time spent waiting for a core or for the simulator
 * (another process), so its ratios are the stable ones.
 */
export async function timed(contender: Contender, url: string, body: { model: string; prompt: string }) {
  try {
    return await measure(contender, url, body)
  } catch (error) {
    // On a loaded machine a pooled keep-alive socket can be closed by the server just as it is reused
    // (fetch does not retry that). Count it and measure again; nothing was received on that attempt.
    if (!isSocketRace(error)) throw error
    harnessRetries++
    return await measure(contender, url, body)
  }
}

let harnessRetries = 0

function isSocketRace(error: unknown): boolean {
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    if ((current as { code?: unknown }).code === 'UND_ERR_SOCKET') return true
  }
  return false
}

async function measure(contender: Contender, url: string, body: { model: string; prompt: string }) {
  collectGarbage()
  const cpuStart = process.cpuUsage()
  const start = performance.now()
  const outcome = await contender(url, body)
  const milliseconds = performance.now() - start
  const cpu = process.cpuUsage(cpuStart)
  return { ...outcome, milliseconds, cpuMilliseconds: (cpu.user + cpu.system) / 1000 }
}

export interface ClientBenchRow {
  bench: 'token-stream-one-line-per-read' | 'token-stream' | 'token-stream-random-cuts' | 'long-line-16MiB'
  contender: string
  /** Median chunks per wall-clock second (token stream) or median wall ms (long line). */
  wall: number
  /** Median chunks per CPU second (token stream) or median CPU ms (long line). */
  cpu: number
}

type Sample = { wall: number; cpu: number }

export function ratio(value: number, base: number): string {
  return `${(value / base).toFixed(2)}x`
}

export async function run(): Promise<ClientBenchRow[]> {
  const sim = await startSimulatorProcess()
  const pacedSim = await startSimulatorProcess(['--tokens-per-second', String(pacedTokensPerSecond)])
  const rows: ClientBenchRow[] = []
  try {
    const contenders: [string, Contender][] = [
      ['@spout/core', spout],
      ['ollama-js', ollama],
      ['floor', floor],
    ]
    const medians = (samples: Map<string, Sample[]>, name: string): Sample => {
      const list = samples.get(name)!
      return {
        wall: median(list.map((sample) => sample.wall)),
        cpu: median(list.map((sample) => sample.cpu)),
      }
    }

    // 1. Token streams: one line per write and read, as Ollama sends them (the headline case: the
    //    per-read cost dominates); many short lines written as fast as the simulator can (many lines
    //    per read: the per-object cost dominates); cut at random byte positions (1-256 bytes per
    //    write, so several reads per line).
    const scenarios = [
      {
        label: `token stream, one line per read (${pacedTokensPerSecond} tokens/s, as Ollama writes them)`,
        url: pacedSim.url,
        body: { model, prompt: `Write a story. [sim:tokens=${pacedStreamTokens}]` },
        key: 'token-stream-one-line-per-read' as const,
      },
      {
        label: 'token stream, many lines per read',
        url: sim.url,
        body: { model, prompt: `Write a long story. [sim:tokens=${tokenStreamTokens}]` },
        key: 'token-stream' as const,
      },
      {
        label: 'token stream, random cuts of 1-256 bytes (small reads, split lines)',
        url: sim.url,
        body: { model, prompt: `Write a story. [sim:tokens=${splitStreamTokens}] [sim:chunking=random]` },
        key: 'token-stream-random-cuts' as const,
      },
    ]
    // `bench/run.ts client --cases=token-stream,long-line-16MiB` runs only those (quick checks).
    const only = process.argv
      .find((argument) => argument.startsWith('--cases='))
      ?.slice('--cases='.length)
      .split(',')
    for (const scenario of scenarios) {
      if (only && !only.includes(scenario.key)) continue
      const expected = expectedResponse(scenario.body).response.length
      for (const [, contender] of contenders) await contender(scenario.url, scenario.body) // warm-up
      const rates = new Map<string, Sample[]>(contenders.map(([name]) => [name, []]))
      for (let round = 0; round < tokenRounds; round++) {
        for (const [name, contender] of rotate(contenders, round)) {
          const result = await timed(contender, scenario.url, scenario.body)
          if (result.characters !== expected) {
            throw new Error(`${name} received ${result.characters} of ${expected} characters`)
          }
          rates.get(name)!.push({
            wall: result.chunks / (result.milliseconds / 1000),
            cpu: result.chunks / (result.cpuMilliseconds / 1000),
          })
        }
      }
      const floorRate = medians(rates, 'floor')
      const ollamaRate = medians(rates, 'ollama-js')
      const chunks = expectedResponse(scenario.body).tokens.length + 1
      console.log(
        `\nclient: ${scenario.label} (${chunks} chunks per stream, ${tokenRounds} interleaved rounds, medians)`,
      )
      console.log(
        'contender       chunks/CPU-s  vs floor  vs ollama-js   chunks/s (wall)  vs floor  vs ollama-js',
      )
      for (const [name] of contenders) {
        const rate = medians(rates, name)
        rows.push({ bench: scenario.key, contender: name, ...rate })
        console.log(
          `${name.padEnd(14)} ${Math.round(rate.cpu).toString().padStart(13)} ${ratio(rate.cpu, floorRate.cpu).padStart(9)} ${ratio(rate.cpu, ollamaRate.cpu).padStart(13)}` +
            ` ${Math.round(rate.wall).toString().padStart(17)} ${ratio(rate.wall, floorRate.wall).padStart(9)} ${ratio(rate.wall, ollamaRate.wall).padStart(13)}`,
        )
      }
      const spoutRate = medians(rates, '@spout/core')
      console.log(
        `@spout/core vs ollama-js: ${ratio(spoutRate.cpu, ollamaRate.cpu)} CPU, ${ratio(spoutRate.wall, ollamaRate.wall)} wall (target >= 1.3x)`,
      )
      console.log(
        `@spout/core vs floor:     ${ratio(spoutRate.cpu, floorRate.cpu)} CPU, ${ratio(spoutRate.wall, floorRate.wall)} wall (target >= 0.9x)`,
      )
    }

    // 2. One 16 MiB line (a huge chunk: base64 images, long `context` arrays).
    if (only && !only.includes('long-line-16MiB')) return rows
    const longBody = {
      model,
      prompt: `Huge. [sim:tokens=4] [sim:fault=long-line,bytes=${longLineBytes},after=1]`,
    }
    const longExpected = expectedResponse(longBody).response.length
    const times = new Map<string, Sample[]>(contenders.map(([name]) => [name, []]))
    for (let round = 0; round < longLineRounds; round++) {
      for (const [name, contender] of rotate(contenders, round)) {
        if (name === 'ollama-js' && round >= longLineRoundsOllamaJs) continue
        const result = await timed(contender, sim.url, longBody)
        if (result.characters !== longExpected) throw new Error(`${name} lost data on the long line`)
        times.get(name)!.push({ wall: result.milliseconds, cpu: result.cpuMilliseconds })
      }
    }
    const floorTime = medians(times, 'floor')
    console.log(
      `\nclient: one 16 MiB line (${longLineRounds} interleaved rounds, ollama-js ${longLineRoundsOllamaJs}, medians)`,
    )
    console.log('contender        CPU ms  vs floor   wall ms  vs floor')
    for (const [name] of contenders) {
      const time = medians(times, name)
      rows.push({ bench: 'long-line-16MiB', contender: name, ...time })
      console.log(
        `${name.padEnd(14)} ${time.cpu.toFixed(0).padStart(8)} ${ratio(time.cpu, floorTime.cpu).padStart(9)} ${time.wall.toFixed(0).padStart(9)} ${ratio(time.wall, floorTime.wall).padStart(9)}`,
      )
    }
    const spoutTime = medians(times, '@spout/core')
    console.log(
      `@spout/core time vs floor time: ${ratio(spoutTime.cpu, floorTime.cpu)} CPU, ${ratio(spoutTime.wall, floorTime.wall)} wall (target <= 3x)`,
    )
    if (harnessRetries > 0)
      console.log(`(${harnessRetries} run(s) measured again after a keep-alive socket race)`)
  } finally {
    for (const spoutClient of spoutClients.values()) await spoutClient.close()
    spoutClients.clear()
    ollamaJsClients.clear()
    await floorAgent.close()
    await sim.close()
    await pacedSim.close()
  }
  return rows
}
