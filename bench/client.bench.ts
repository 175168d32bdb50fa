// Client benchmark: the @spout/core client side by side with the `ollama` npm package (ollama-js) and a
// bare floor (undici request + byte-level line split + JSON.parse), in one process, on the same
// simulator streams. Runs are interleaved (A, B, C, A, B, C, …) and medians reported.
// Run: `pnpm bench client` (builds first), or `node --expose-gc bench/run.ts client` after a build.
import { performance } from 'node:perf_hooks'
import { OllamaClient } from '@spout/core'
import { startSimulator } from '@spout/ollama-sim'
import { Ollama } from 'ollama'
import { Agent, request } from 'undici'

const model = 'llama3.2'
const tokenStreamTokens = 20_000
const tokenRounds = 11
const longLineBytes = 16 * 1024 * 1024
const longLineRounds = 5
const longLineRoundsOllamaJs = 2

interface Outcome {
  chunks: number
  characters: number
}

type Contender = (url: string, body: { model: string; prompt: string }) => Promise<Outcome>

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

let spoutClient: OllamaClient | undefined
const spout: Contender = async (url, body) => {
  spoutClient ??= new OllamaClient({ host: url })
  let chunks = 0
  let characters = 0
  for await (const chunk of spoutClient.generate(body)) {
    chunks++
    characters += chunk.response.length
  }
  return { chunks, characters }
}

let ollamaJs: Ollama | undefined
const ollama: Contender = async (url, body) => {
  ollamaJs ??= new Ollama({ host: url })
  let chunks = 0
  let characters = 0
  for await (const chunk of await ollamaJs.generate({ ...body, stream: true })) {
    chunks++
    characters += chunk.response.length
  }
  return { chunks, characters }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

function collectGarbage(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}

async function timed(contender: Contender, url: string, body: { model: string; prompt: string }) {
  collectGarbage()
  const start = performance.now()
  const outcome = await contender(url, body)
  return { ...outcome, milliseconds: performance.now() - start }
}

export interface ClientBenchRow {
  bench: string
  contender: string
  median: number
  unit: string
  ratioToFloor: number
}

export async function run(): Promise<ClientBenchRow[]> {
  const sim = await startSimulator()
  const rows: ClientBenchRow[] = []
  try {
    const contenders: [string, Contender][] = [
      ['@spout/core', spout],
      ['ollama-js', ollama],
      ['floor', floor],
    ]

    // 1. Token streams: many short lines.
    const tokenBody = { model, prompt: `Write a long story. [sim:tokens=${tokenStreamTokens}]` }
    const expected = sim.expectedResponse(tokenBody).response.length
    for (const [, contender] of contenders) await contender(sim.url, tokenBody) // warm-up
    const rates = new Map<string, number[]>(contenders.map(([name]) => [name, []]))
    for (let round = 0; round < tokenRounds; round++) {
      for (const [name, contender] of contenders) {
        const result = await timed(contender, sim.url, tokenBody)
        if (result.characters !== expected)
          throw new Error(`${name} received ${result.characters} of ${expected} characters`)
        rates.get(name)!.push(result.chunks / (result.milliseconds / 1000))
      }
    }
    const floorRate = median(rates.get('floor')!)
    const spoutRate = median(rates.get('@spout/core')!)
    console.log(
      `\nclient: token stream (${tokenStreamTokens} chunks per stream, ${tokenRounds} interleaved rounds, median)`,
    )
    console.log('contender       chunks/s   vs floor   vs ollama-js')
    const ollamaRate = median(rates.get('ollama-js')!)
    for (const [name] of contenders) {
      const rate = median(rates.get(name)!)
      rows.push({
        bench: 'token-stream',
        contender: name,
        median: rate,
        unit: 'chunks/s',
        ratioToFloor: rate / floorRate,
      })
      console.log(
        `${name.padEnd(14)} ${Math.round(rate).toString().padStart(9)}   ${(rate / floorRate).toFixed(2).padStart(7)}x   ${(rate / ollamaRate).toFixed(2).padStart(9)}x`,
      )
    }
    console.log(`@spout/core / ollama-js = ${(spoutRate / ollamaRate).toFixed(2)}x (target >= 1.3x)`)
    console.log(`@spout/core / floor     = ${(spoutRate / floorRate).toFixed(2)}x (target >= 0.9x)`)

    // 2. One 16 MiB line (a huge chunk: base64 images, long `context` arrays).
    const longBody = {
      model,
      prompt: `Huge. [sim:tokens=4] [sim:fault=long-line,bytes=${longLineBytes},after=1]`,
    }
    const longExpected = sim.expectedResponse(longBody).response.length
    const times = new Map<string, number[]>(contenders.map(([name]) => [name, []]))
    for (let round = 0; round < longLineRounds; round++) {
      for (const [name, contender] of contenders) {
        if (name === 'ollama-js' && round >= longLineRoundsOllamaJs) continue
        const result = await timed(contender, sim.url, longBody)
        if (result.characters !== longExpected) throw new Error(`${name} lost data on the long line`)
        times.get(name)!.push(result.milliseconds)
      }
    }
    const floorTime = median(times.get('floor')!)
    console.log(
      `\nclient: one 16 MiB line (${longLineRounds} interleaved rounds, ollama-js ${longLineRoundsOllamaJs}, median)`,
    )
    console.log('contender            ms   vs floor time')
    for (const [name] of contenders) {
      const time = median(times.get(name)!)
      rows.push({
        bench: 'long-line-16MiB',
        contender: name,
        median: time,
        unit: 'ms',
        ratioToFloor: time / floorTime,
      })
      console.log(
        `${name.padEnd(14)} ${time.toFixed(0).padStart(7)}   ${(time / floorTime).toFixed(2).padStart(9)}x`,
      )
    }
    console.log(
      `@spout/core time / floor time = ${(median(times.get('@spout/core')!) / floorTime).toFixed(2)}x (target <= 3x)`,
    )
  } finally {
    await spoutClient?.close()
    spoutClient = undefined
    ollamaJs = undefined
    await floorAgent.close()
    await sim.close()
  }
  return rows
}
