// What the two client benches (NDJSON `client.bench.ts`, SSE `openai-client.bench.ts`) share:
// contenders measured in interleaved rounds by wall and CPU time, the
// floor's byte-level line split, medians and the printed tables.
import { performance } from 'node:perf_hooks'

export interface Outcome {
  chunks: number
  characters: number
}

export type Contender = (url: string, body: { model: string; prompt: string }) => Promise<Outcome>

/** Chunks (or events) per second, or milliseconds: by the wall clock and by this process's CPU time. */
export type Sample = { wall: number; cpu: number }

/** Each contender's samples, by name. */
export type Samples = Map<string, Sample[]>

/**
 * Calls `take` with each `\n`-terminated line of the body (and a last unterminated one), as a
 * buffer and the line's bounds in it. Pending bytes are kept as a list (linear on long lines).
 */
export async function forEachLine(
  body: AsyncIterable<Buffer>,
  take: (line: Buffer, start: number, end: number) => void,
): Promise<void> {
  let pending: Buffer[] = []
  for await (const data of body) {
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

export function ratio(value: number, base: number): string {
  return `${(value / base).toFixed(2)}x`
}

/** The median wall and CPU values of one contender's samples. */
export function medians(samples: Samples, name: string): Sample {
  const list = samples.get(name)!
  return { wall: median(list.map((sample) => sample.wall)), cpu: median(list.map((sample) => sample.cpu)) }
}

/** `bench/run.ts client --cases=token-stream,long-line-16MiB` runs only those (quick checks). */
export function selectedCases(): string[] | undefined {
  return process.argv
    .find((argument) => argument.startsWith('--cases='))
    ?.slice('--cases='.length)
    .split(',')
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
    retries++
    return await measure(contender, url, body)
  }
}

let retries = 0

/** Runs measured again by {@link timed} after a keep-alive socket race. */
export function harnessRetries(): number {
  return retries
}

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

/**
 * One warm-up stream per contender, then `rounds` interleaved rounds: each contender's chunks per
 * wall and per CPU second. Every stream must bring the whole expected text.
 */
export async function measureStreams(
  contenders: [string, Contender][],
  url: string,
  body: { model: string; prompt: string },
  expected: number,
  rounds: number,
): Promise<Samples> {
  for (const [, contender] of contenders) await contender(url, body) // warm-up
  const rates: Samples = new Map(contenders.map(([name]) => [name, []]))
  for (let round = 0; round < rounds; round++) {
    for (const [name, contender] of rotate(contenders, round)) {
      const result = await timed(contender, url, body)
      if (result.characters !== expected) {
        throw new Error(`${name} received ${result.characters} of ${expected} characters`)
      }
      rates.get(name)!.push({
        wall: result.chunks / (result.milliseconds / 1000),
        cpu: result.chunks / (result.cpuMilliseconds / 1000),
      })
    }
  }
  return rates
}

/**
 * `rounds` interleaved rounds of one request (a huge line): each contender's wall and CPU ms.
 * `skip` leaves a contender out of a round (a slow peer measured fewer times).
 */
export async function measureTimes(
  contenders: [string, Contender][],
  url: string,
  body: { model: string; prompt: string },
  options: {
    expected: number
    rounds: number
    what: string
    skip?: (name: string, round: number) => boolean
  },
): Promise<Samples> {
  const times: Samples = new Map(contenders.map(([name]) => [name, []]))
  for (let round = 0; round < options.rounds; round++) {
    for (const [name, contender] of rotate(contenders, round)) {
      if (options.skip?.(name, round)) continue
      const result = await timed(contender, url, body)
      if (result.characters !== options.expected) {
        throw new Error(`${name} lost data on ${options.what} (${result.milliseconds.toFixed(0)} ms)`)
      }
      times.get(name)!.push({ wall: result.milliseconds, cpu: result.cpuMilliseconds })
    }
  }
  return times
}

/** The rates table: per contender, per CPU second and per wall second, against the floor and `peer`. */
export function printRates(
  unit: string,
  peer: string,
  contenders: [string, Contender][],
  rates: Samples,
): void {
  const floorRate = medians(rates, 'floor')
  const peerRate = medians(rates, peer)
  const vsPeer = `vs ${peer}`
  const width = vsPeer.length + 1
  console.log(`contender       ${unit}/CPU-s  vs floor  ${vsPeer}   ${unit}/s (wall)  vs floor  ${vsPeer}`)
  for (const [name] of contenders) {
    const rate = medians(rates, name)
    console.log(
      `${name.padEnd(14)} ${Math.round(rate.cpu).toString().padStart(13)} ${ratio(rate.cpu, floorRate.cpu).padStart(9)} ${ratio(rate.cpu, peerRate.cpu).padStart(width)}` +
        ` ${Math.round(rate.wall).toString().padStart(17)} ${ratio(rate.wall, floorRate.wall).padStart(9)} ${ratio(rate.wall, peerRate.wall).padStart(width)}`,
    )
  }
}

/** The times table: per contender, CPU and wall ms against the floor. */
export function printTimes(contenders: [string, Contender][], times: Samples): void {
  const floorTime = medians(times, 'floor')
  console.log('contender        CPU ms  vs floor   wall ms  vs floor')
  for (const [name] of contenders) {
    const time = medians(times, name)
    console.log(
      `${name.padEnd(14)} ${time.cpu.toFixed(0).padStart(8)} ${ratio(time.cpu, floorTime.cpu).padStart(9)} ${time.wall.toFixed(0).padStart(9)} ${ratio(time.wall, floorTime.wall).padStart(9)}`,
    )
  }
}

/** Ollama's own pace is one line per flush: at 1,000 tokens/s every line is its own write and read. */
export const pacedTokensPerSecond = 1000

/**
 * The three token streams both client benches read, in this order: paced as Ollama writes them
 * (`pacedUrl`: a simulator at {@link pacedTokensPerSecond}; one line per read), as fast as the
 * simulator can (many lines per read), and cut at random byte positions (1-256 bytes per write).
 */
export function tokenStreams(model: string, url: string, pacedUrl: string) {
  return [
    { url: pacedUrl, body: { model, prompt: 'Write a story. [sim:tokens=3000]' } },
    { url, body: { model, prompt: 'Write a long story. [sim:tokens=20000]' } },
    { url, body: { model, prompt: 'Write a story. [sim:tokens=5000] [sim:chunking=random]' } },
  ]
}
