// OpenAI-compatible SSE client benchmark: @spout/core's OpenAIClient side by side with the official
// `openai` npm package and a bare floor (undici request + byte-level line split + JSON.parse of each
// `data:` line), in one process, on the same simulator `/v1/completions` streams (the simulator in a
// child process). The same scenarios as the NDJSON client bench: one event per read, many per read,
// random cuts, one 16 MiB event. Runs interleaved, medians reported.
// Run: `node --expose-gc bench/run.ts openai-client` after a build.
import { OpenAIClient } from '@spout/core'
import { expectedResponse } from '@spout/ollama-sim'
import OpenAI from 'openai'
import { Agent, request } from 'undici'
import {
  type Contender,
  forEachLine,
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
  { key: 'one-event-per-read', label: `one event per read (${pacedTokensPerSecond} tokens/s)` },
  { key: 'many-events-per-read', label: 'many events per read' },
  { key: 'random-cuts', label: 'random cuts of 1-256 bytes' },
] as const
const rounds = 11
const longEventBytes = 16 * 1024 * 1024
const longEventRounds = 5

const floorAgent = new Agent({ headersTimeout: 0, bodyTimeout: 0 })

/** The floor: POST (the same body as the clients), split the bytes at `\n`, JSON.parse every `data: {…}` line; nothing else. */
const floor: Contender = async (url, body) => {
  const response = await request(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    // The same request as the other two contenders, so the server sends the same stream: with
    // `include_usage` every chunk carries a `usage` object (about a third more bytes per event).
    body: JSON.stringify({
      model: body.model,
      prompt: body.prompt,
      stream: true,
      stream_options: { include_usage: true },
    }),
    dispatcher: floorAgent,
  })
  let chunks = 0
  let characters = 0
  await forEachLine(response.body as AsyncIterable<Buffer>, (line, start, end) => {
    // `data: {` (6 bytes, then the JSON); blank lines and `data: [DONE]` are skipped.
    if (end - start < 7 || line[start + 6] !== 0x7b) return
    const value = JSON.parse(line.toString('utf8', start + 6, end)) as { choices: Array<{ text: string }> }
    chunks++
    characters += value.choices[0]?.text.length ?? 0
  })
  return { chunks, characters }
}

const spoutClients = new Map<string, OpenAIClient>()
const spout: Contender = async (url, body) => {
  let client = spoutClients.get(url)
  if (!client) {
    client = new OpenAIClient({ host: `${url}/v1`, maxEventSize: 64 * 1024 * 1024 })
    spoutClients.set(url, client)
  }
  let chunks = 0
  let characters = 0
  for await (const chunk of client.generate(body)) {
    chunks++
    characters += (chunk.response ?? '').length
  }
  return { chunks, characters }
}

const openaiClients = new Map<string, OpenAI>()
const openai: Contender = async (url, body) => {
  let client = openaiClients.get(url)
  if (!client) {
    client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'bench', maxRetries: 0 })
    openaiClients.set(url, client)
  }
  let chunks = 0
  let characters = 0
  const stream = await client.completions.create({
    model: body.model,
    prompt: body.prompt,
    stream: true,
    stream_options: { include_usage: true },
  })
  for await (const chunk of stream) {
    chunks++
    characters += chunk.choices[0]?.text.length ?? 0
  }
  return { chunks, characters }
}

export interface OpenAIClientBenchRow {
  bench: 'one-event-per-read' | 'many-events-per-read' | 'random-cuts' | 'event-16MiB'
  contender: string
  /** Median events per wall second (streams) or median wall ms (16 MiB event). */
  wall: number
  /** Median events per CPU second (streams) or median CPU ms (16 MiB event). */
  cpu: number
}

export async function run(): Promise<OpenAIClientBenchRow[]> {
  const sim = await startSimulatorProcess()
  const pacedSim = await startSimulatorProcess(['--tokens-per-second', String(pacedTokensPerSecond)])
  const rows: OpenAIClientBenchRow[] = []
  const contenders: [string, Contender][] = [
    ['@spout/core', spout],
    ['openai', openai],
    ['floor', floor],
  ]
  try {
    const scenarios = tokenStreams(model, sim.url, pacedSim.url).map((stream, index) => ({
      ...stream,
      ...streamNames[index]!,
    }))
    const only = selectedCases()
    for (const scenario of scenarios) {
      if (only && !only.includes(scenario.key)) continue
      const expected = expectedResponse(scenario.body).response.length
      const rates = await measureStreams(contenders, scenario.url, scenario.body, expected, rounds)
      console.log(`\nopenai-client: ${scenario.label} (${rounds} interleaved rounds, medians)`)
      printRates('events', 'openai', contenders, rates)
      for (const [name] of contenders)
        rows.push({ bench: scenario.key, contender: name, ...medians(rates, name) })
      const spoutRate = medians(rates, '@spout/core')
      const floorRate = medians(rates, 'floor')
      const openaiRate = medians(rates, 'openai')
      console.log(
        `@spout/core vs floor: ${ratio(spoutRate.cpu, floorRate.cpu)} CPU, ${ratio(spoutRate.wall, floorRate.wall)} wall (target >= 0.9x); vs openai: ${ratio(spoutRate.cpu, openaiRate.cpu)} CPU`,
      )
    }

    if (only && !only.includes('event-16MiB')) return rows
    const longBody = {
      model,
      prompt: `Huge. [sim:tokens=4] [sim:fault=long-line,bytes=${longEventBytes},after=1]`,
    }
    const times = await measureTimes(contenders, sim.url, longBody, {
      expected: expectedResponse(longBody).response.length,
      rounds: longEventRounds,
      what: 'the 16 MiB event',
    })
    console.log(`\nopenai-client: one 16 MiB event (${longEventRounds} interleaved rounds, medians)`)
    printTimes(contenders, times)
    for (const [name] of contenders)
      rows.push({ bench: 'event-16MiB', contender: name, ...medians(times, name) })
    const spoutTime = medians(times, '@spout/core')
    const floorTime = medians(times, 'floor')
    console.log(
      `@spout/core time vs floor time: ${ratio(spoutTime.cpu, floorTime.cpu)} CPU, ${ratio(spoutTime.wall, floorTime.wall)} wall (target <= 1.5x)`,
    )
  } finally {
    for (const client of spoutClients.values()) await client.close()
    spoutClients.clear()
    openaiClients.clear()
    await floorAgent.close()
    await sim.close()
    await pacedSim.close()
  }
  return rows
}
