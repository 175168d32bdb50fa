// In-process generation: tokens/s of a batch through Spout (runPipeline → LlamaBackend → JSONL) against
// node-llama-cpp driven directly (K workers over one context's K sequences, LlamaChat, a JSON line per
// record), in the same process, on the same tiny GGUF model, with the same sampling, seeds and lengths.
// Each round runs the three sides back to back, rotating which goes first; the median of the rounds'
// spout / peer by CPU time is the figure. Spout's overhead is 1 - spout / peer (target ≤ 5 %).
// The control is the peer again on a second copy of the model: its ratio to the peer (an A/A test)
// shows how far two identical sides drift apart on this machine, the noise the figure must beat.
// Run: `pnpm bench llama` (builds first), or `node --expose-gc bench/run.ts llama` after a build.
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { jsonlSink, runPipeline } from '@spout/core'
import { LlamaBackend } from '@spout/llama'
import { tinyModelPath } from '@spout/llama/testing'
import { getLlama, LlamaChat } from 'node-llama-cpp'

const records = 16
const sequences = 4
const tokens = 64
const threads = 1
// biome-ignore lint/suspicious/noUndeclaredEnvVars: a bench knob, not a build input
const rounds = Number(process.env.SPOUT_BENCH_LLAMA_ROUNDS ?? 15)

const prompt = (index: number) => `record ${index}: tell me about the sea and the sky`
const input = () => Array.from({ length: records }, (_, index) => ({ id: index, prompt: prompt(index) }))

interface Round {
  tokens: number
  seconds: number
  tokensPerSecond: number
  /** Tokens per second of CPU time (all threads of the process): steadier than the wall clock on a shared machine. */
  tokensPerCpuSecond: number
}

/** Times `work` by the wall clock and by the CPU time of the whole process. */
async function measure(work: () => Promise<number>): Promise<Round> {
  const cpu = process.cpuUsage()
  const started = performance.now()
  const tokens = await work()
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  const cpuSeconds = (used.user + used.system) / 1e6
  return { tokens, seconds, tokensPerSecond: tokens / seconds, tokensPerCpuSecond: tokens / cpuSeconds }
}

function spoutRound(backend: LlamaBackend, directory: string): Promise<Round> {
  return measure(async () => {
    const summary = await runPipeline({
      client: backend,
      model: 'tiny',
      concurrency: sequences,
      input: input(),
      request: { options: { seed: 1, num_predict: tokens } },
      plugins: [jsonlSink(join(directory, 'spout.jsonl'))],
    })
    if (summary.failed > 0) throw new Error(`spout: ${summary.failed} records failed`)
    return summary.tokens
  })
}

/** The same work with node-llama-cpp alone: Ollama's default sampling, as Spout maps it. */
function peerRound(chats: LlamaChat[], directory: string): Promise<Round> {
  return measure(() => peerWork(chats, directory))
}

async function peerWork(chats: LlamaChat[], directory: string): Promise<number> {
  const out = createWriteStream(join(directory, 'peer.jsonl'))
  let next = 0
  let generated = 0
  const worker = async (chat: LlamaChat) => {
    while (next < records) {
      const index = next++
      const before = chat.sequence.tokenMeter.getState()
      let response = ''
      await chat.generateResponse(
        [
          { type: 'user', text: prompt(index) },
          { type: 'model', response: [] },
        ],
        {
          seed: 1,
          maxTokens: tokens,
          temperature: 0.8,
          topK: 40,
          topP: 0.9,
          minP: 0,
          repeatPenalty: { penalty: 1.1, lastTokens: 64 },
          onResponseChunk: (chunk) => {
            response += chunk.text
          },
        },
      )
      generated += chat.sequence.tokenMeter.diff(before).usedOutputTokens
      out.write(`${JSON.stringify({ id: index, prompt: prompt(index), response })}\n`)
    }
  }
  await Promise.all(chats.map(worker))
  await new Promise((resolve) => out.end(resolve))
  return generated
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

interface Side {
  /** Median tokens/s by the wall clock. */
  wall: number
  /** Median tokens per CPU second. */
  cpu: number
  /** Best round's tokens per CPU second: the round the shared machine disturbed least. */
  bestCpu: number
}

/** The median over rounds of `a / b` by CPU time: a slow spell of the machine hits both sides of a round. */
function pairedRatio(a: Round[], b: Round[]): number {
  return median(a.map((round, index) => round.tokensPerCpuSecond / b[index]!.tokensPerCpuSecond))
}

export interface LlamaBenchResult {
  spout: Side
  peer: Side
  /** spout / peer for each measure. */
  ratio: Side
  /** The median of the rounds' spout / peer, by CPU time: the figure to read. */
  pairedCpu: number
  /** The median of the rounds' control / peer by CPU time: two identical sides, so 1 but for noise. */
  controlCpu: number
  rssMb: number
}

const sideOf = (rows: Round[]): Side => ({
  wall: median(rows.map((row) => row.tokensPerSecond)),
  cpu: median(rows.map((row) => row.tokensPerCpuSecond)),
  bestCpu: Math.max(...rows.map((row) => row.tokensPerCpuSecond)),
})

function report(spout: Round[], peer: Round[], control: Round[], rssMb: number): LlamaBenchResult {
  const sides = { spout: sideOf(spout), peer: sideOf(peer), control: sideOf(control) }
  const result: LlamaBenchResult = {
    spout: sides.spout,
    peer: sides.peer,
    ratio: {
      wall: sides.spout.wall / sides.peer.wall,
      cpu: sides.spout.cpu / sides.peer.cpu,
      bestCpu: sides.spout.bestCpu / sides.peer.bestCpu,
    },
    pairedCpu: pairedRatio(spout, peer),
    controlCpu: pairedRatio(control, peer),
    rssMb,
  }
  console.log(
    `\nllama: ${records} records × ${tokens} tokens, ${sequences} sequences, ${threads} thread, tiny model; medians of ${rounds} rounds`,
  )
  console.log(
    'side | tokens/s | tokens per CPU second | best round, per CPU second | rounds (tokens per CPU second)',
  )
  for (const [name, rows] of [
    ['spout', spout],
    ['node-llama-cpp', peer],
    ['node-llama-cpp, second copy (control)', control],
  ] as const) {
    const medians = sideOf(rows)
    const all = rows.map((row) => row.tokensPerCpuSecond.toFixed(0)).join(' ')
    console.log(
      `${name} | ${medians.wall.toFixed(0)} | ${medians.cpu.toFixed(0)} | ${medians.bestCpu.toFixed(0)} | ${all}`,
    )
  }
  const percent = (ratio: number) =>
    `${(ratio * 100).toFixed(1)} % (overhead ${((1 - ratio) * 100).toFixed(1)} %)`
  console.log(
    `spout / node-llama-cpp: wall ${percent(result.ratio.wall)}, CPU ${percent(result.ratio.cpu)}, best CPU ${percent(result.ratio.bestCpu)}`,
  )
  console.log(
    `median of the ${rounds} rounds' spout / node-llama-cpp by CPU time: ${percent(result.pairedCpu)}`,
  )
  console.log(
    `median of the ${rounds} rounds' control / node-llama-cpp by CPU time (A/A, the noise): ${(result.controlCpu * 100).toFixed(1)} %`,
  )
  console.log(`RSS after the runs (three models loaded): ${rssMb.toFixed(0)} MB`)
  return result
}

/** node-llama-cpp alone: its own runtime, model copy and context with `sequences` chats. */
async function loadPeer(model: string) {
  const llama = await getLlama({
    gpu: false,
    build: 'never',
    maxThreads: threads,
    logLevel: 'error' as never,
  })
  const peerModel = await llama.loadModel({ modelPath: model })
  const context = await peerModel.createContext({ sequences, contextSize: 512, threads })
  const chats = Array.from(
    { length: sequences },
    () => new LlamaChat({ contextSequence: context.getSequence() }),
  )
  return {
    chats,
    async dispose() {
      await context.dispose()
      await peerModel.dispose()
    },
  }
}

export async function run(): Promise<LlamaBenchResult> {
  const directory = await mkdtemp(join(tmpdir(), 'spout-llama-bench-'))
  const model = tinyModelPath()
  const backend = new LlamaBackend({ model, sequences, threads, gpu: false, contextSize: 512 })
  await backend.load()
  const peer = await loadPeer(model)
  const control = await loadPeer(model)
  const sides = [
    () => spoutRound(backend, directory),
    () => peerRound(peer.chats, directory),
    () => peerRound(control.chats, directory),
  ]
  try {
    // Warm-up: one round each, not counted.
    for (const side of sides) await side()
    const rows: Round[][] = [[], [], []]
    for (let round = 0; round < rounds; round++) {
      // Rotate which side goes first, so a slow spell of the machine does not always hit one.
      for (let step = 0; step < sides.length; step++) {
        const index = (round + step) % sides.length
        rows[index]!.push(await sides[index]!())
      }
    }
    return report(rows[0]!, rows[1]!, rows[2]!, process.memoryUsage().rss / 2 ** 20)
  } finally {
    await control.dispose()
    await peer.dispose()
    await backend.close()
    await rm(directory, { recursive: true, force: true })
  }
}
