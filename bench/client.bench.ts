// Client benchmark: the @spout/core client side by side with the `ollama` npm package (ollama-js) and a
// bare floor (undici request + byte-level line split + JSON.parse), in one process, on the same
// simulator streams. Runs are interleaved (A, B, C, B, C, A, C, A, B, …) and medians reported.
// The simulator runs in a child process, so the CPU time measured here is the clients' alone.
// Run: `pnpm bench client` (builds first), or `node --expose-gc bench/run.ts client` after a build.
import { OllamaClient } from '@spout/core'
import { expectedResponse } from '@spout/ollama-sim'
import { Ollama } from 'ollama'
import { Agent, request } from 'undici'
import {
  type Contender,
  forEachLine,
  harnessRetries,
  measureStreams,
  measureTimes,
  medians,
  pacedTokensPerSecond,
  printRates,
  printTimes,
  ratio,
  selectedCases,
  tokenStreams,
} from './client-harness.ts'
import { startSimulatorProcess } from './simulator-process.ts'

const model = 'llama3.2'
/** The keys and titles of the harness's three token streams, in its order. */
const streamNames = [
  {
    key: 'token-stream-one-line-per-read',
    label: `token stream, one line per read (${pacedTokensPerSecond} tokens/s, as Ollama writes them)`,
  },
  { key: 'token-stream', label: 'token stream, many lines per read' },
  {
    key: 'token-stream-random-cuts',
    label: 'token stream, random cuts of 1-256 bytes (small reads, split lines)',
  },
] as const
const tokenRounds = 11
const longLineBytes = 16 * 1024 * 1024
const longLineRounds = 5
const longLineRoundsOllamaJs = 2

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
  await forEachLine(response.body as AsyncIterable<Buffer>, (line, start, end) => {
    if (end === start) return
    const value = JSON.parse(line.toString('utf8', start, end)) as { response: string }
    chunks++
    characters += value.response.length
  })
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

export interface ClientBenchRow {
  bench: 'token-stream-one-line-per-read' | 'token-stream' | 'token-stream-random-cuts' | 'long-line-16MiB'
  contender: string
  /** Median chunks per wall-clock second (token stream) or median wall ms (long line). */
  wall: number
  /** Median chunks per CPU second (token stream) or median CPU ms (long line). */
  cpu: number
}

export async function run(): Promise<ClientBenchRow[]> {
  const sim = await startSimulatorProcess()
  const pacedSim = await startSimulatorProcess(['--tokens-per-second', String(pacedTokensPerSecond)])
  const rows: ClientBenchRow[] = []
  const contenders: [string, Contender][] = [
    ['@spout/core', spout],
    ['ollama-js', ollama],
    ['floor', floor],
  ]
  try {
    // 1. Token streams: one line per write and read, as Ollama sends them (the headline case: the
    //    per-read cost dominates); many short lines written as fast as the simulator can (many lines
    //    per read: the per-object cost dominates); cut at random byte positions (1-256 bytes per
    //    write, so several reads per line).
    const scenarios = tokenStreams(model, sim.url, pacedSim.url).map((stream, index) => ({
      ...stream,
      ...streamNames[index]!,
    }))
    const only = selectedCases()
    for (const scenario of scenarios) {
      if (only && !only.includes(scenario.key)) continue
      const expected = expectedResponse(scenario.body).response.length
      const rates = await measureStreams(contenders, scenario.url, scenario.body, expected, tokenRounds)
      const chunks = expectedResponse(scenario.body).tokens.length + 1
      console.log(
        `\nclient: ${scenario.label} (${chunks} chunks per stream, ${tokenRounds} interleaved rounds, medians)`,
      )
      printRates('chunks', 'ollama-js', contenders, rates)
      for (const [name] of contenders)
        rows.push({ bench: scenario.key, contender: name, ...medians(rates, name) })
      const spoutRate = medians(rates, '@spout/core')
      const ollamaRate = medians(rates, 'ollama-js')
      const floorRate = medians(rates, 'floor')
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
    const times = await measureTimes(contenders, sim.url, longBody, {
      expected: expectedResponse(longBody).response.length,
      rounds: longLineRounds,
      what: 'the long line',
      skip: (name, round) => name === 'ollama-js' && round >= longLineRoundsOllamaJs,
    })
    console.log(
      `\nclient: one 16 MiB line (${longLineRounds} interleaved rounds, ollama-js ${longLineRoundsOllamaJs}, medians)`,
    )
    printTimes(contenders, times)
    for (const [name] of contenders)
      rows.push({ bench: 'long-line-16MiB', contender: name, ...medians(times, name) })
    const spoutTime = medians(times, '@spout/core')
    const floorTime = medians(times, 'floor')
    console.log(
      `@spout/core time vs floor time: ${ratio(spoutTime.cpu, floorTime.cpu)} CPU, ${ratio(spoutTime.wall, floorTime.wall)} wall (target <= 3x)`,
    )
    if (harnessRetries() > 0)
      console.log(`(${harnessRetries()} run(s) measured again after a keep-alive socket race)`)
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
