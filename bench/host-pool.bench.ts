// Host pool benchmark: three simulated hosts of unequal slots and speeds (2 × 80 tok/s, 4 × 40,
// 8 × 20: 480 tok/s summed), each a simulator child process, one batch each run:
// 1. pool, concurrency learned (starts at 1 slot per host): share of the summed capacity; how soon
//    each host's learned slots stay within one of its numParallel, and how often they change after;
// 2. pool, concurrency fixed at each host's numParallel: share of the summed capacity;
// 3. the peer, round-robin over the same hosts (what a plain load balancer does: each next record to
//    the next host in turn) with the pipeline at Σ slots in flight; the pool's time against it.
// Run: `pnpm bench host-pool` (builds first), or `node --expose-gc bench/run.ts host-pool` after a build.
import { performance } from 'node:perf_hooks'
import { type Backend, type BackendCallOptions, HostPool, OllamaClient, runPipeline } from '@spout/core'
import type { ChatRequest, ChatResponse, GenerateRequest, GenerateResponse } from '@spout/core/ollama'
import { type SimulatorProcess, startSimulatorProcess } from './simulator-process.ts'

const model = 'llama3.2'
// `SPOUT_BENCH_POOL_HOSTS=2x80,4x40,8x80` runs other hosts (slots x tokens/s each).
// biome-ignore lint/suspicious/noUndeclaredEnvVars: a bench knob, not a build input
const hosts = (process.env.SPOUT_BENCH_POOL_HOSTS ?? '2x80,4x40,8x20').split(',').map((spec) => {
  const [slots, tokensPerSecond] = spec.split('x').map(Number)
  return { slots: slots!, tokensPerSecond: tokensPerSecond! }
})
const capacity = hosts.reduce((sum, host) => sum + host.slots * host.tokensPerSecond, 0)
const tokensPerRecord = 40
// biome-ignore lint/suspicious/noUndeclaredEnvVars: a bench knob, not a build input
const records = Number(process.env.SPOUT_BENCH_POOL_RECORDS ?? 720)

function startSimulator(slots: number, tokensPerSecond: number): Promise<SimulatorProcess> {
  return startSimulatorProcess([
    '--num-parallel',
    String(slots),
    '--tokens-per-second',
    String(tokensPerSecond),
  ])
}

function* input(count: number) {
  for (let index = 0; index < count; index++)
    yield { id: `r${index}`, prompt: `Pool bench record ${index} [sim:tokens=${tokensPerRecord}]` }
}

/** The peer: every call goes to the next host in turn, whatever their load. */
class RoundRobin implements Backend {
  readonly kind = 'round-robin'
  readonly host: string
  readonly #clients: OllamaClient[]
  #next = 0

  constructor(clients: OllamaClient[]) {
    this.#clients = clients
    this.host = `round-robin(${clients.length})`
  }

  #pick(options: BackendCallOptions): OllamaClient {
    const client = this.#clients[this.#next++ % this.#clients.length]!
    options.onRoute?.({ backend: 'ollama', host: client.host })
    return client
  }

  generate(request: GenerateRequest & { stream: true }, options: BackendCallOptions) {
    return this.#pick(options).generate(request, options) as AsyncIterable<GenerateResponse>
  }

  chat(request: ChatRequest & { stream: true }, options: BackendCallOptions) {
    return this.#pick(options).chat(request, options) as AsyncIterable<ChatResponse>
  }
}

interface RunResult {
  variant: string
  seconds: number
  tokensPerSecond: number
  /** Share of Σ slots × tokens/s. */
  share: number
  ok: number
}

interface Convergence {
  host: string
  numParallel: number
  /** Seconds until the learned slots stayed within one of numParallel for the rest of the run. */
  within: number | undefined
  /** Changes of the learned slots after that. */
  changesAfter: number
  final: number
}

async function batch(variant: string, client: Backend): Promise<RunResult> {
  const started = performance.now()
  const slots = hosts.reduce((sum, host) => sum + host.slots, 0)
  const summary = await runPipeline({ client, model, input: input(records), concurrency: slots })
  const seconds = (performance.now() - started) / 1000
  const tokensPerSecond = summary.tokens / seconds
  return { variant, seconds, tokensPerSecond, share: tokensPerSecond / capacity, ok: summary.ok }
}

function convergence(samples: { at: number; slots: number[] }[]): Convergence[] {
  return hosts.map((host, index) => {
    let within: number | undefined
    for (let sample = samples.length - 1; sample >= 0; sample--) {
      if (Math.abs(samples[sample]!.slots[index]! - host.slots) > 1) break
      within = samples[sample]!.at
    }
    let changesAfter = 0
    for (let sample = 1; sample < samples.length; sample++) {
      if (within === undefined || samples[sample]!.at <= within) continue
      if (samples[sample]!.slots[index] !== samples[sample - 1]!.slots[index]) changesAfter += 1
    }
    const final = samples.at(-1)?.slots[index] ?? 0
    return {
      host: `${host.slots} × ${host.tokensPerSecond} tok/s`,
      numParallel: host.slots,
      within,
      changesAfter,
      final,
    }
  })
}

async function poolRun(
  variant: string,
  urls: string[],
  fixed: boolean,
): Promise<{ result: RunResult; samples: { at: number; slots: number[] }[] }> {
  const clients = urls.map((url) => new OllamaClient({ host: url }))
  const pool = new HostPool({
    hosts: clients.map((client, index) => ({
      backend: client,
      ...(fixed ? { concurrency: hosts[index]!.slots } : {}),
    })),
  })
  await pool.start({ model })
  const started = performance.now()
  const samples: { at: number; slots: number[] }[] = []
  const timer = setInterval(() => {
    samples.push({ at: (performance.now() - started) / 1000, slots: pool.hosts().map((host) => host.slots) })
  }, 250)
  try {
    return { result: await batch(variant, pool), samples }
  } finally {
    clearInterval(timer)
    pool.close()
    await Promise.all(clients.map((client) => client.close()))
  }
}

async function freshHosts(): Promise<SimulatorProcess[]> {
  return Promise.all(hosts.map((host) => startSimulator(host.slots, host.tokensPerSecond)))
}

export async function run(): Promise<{ runs: RunResult[]; convergence: Convergence[] }> {
  const runs: RunResult[] = []
  let learnedConvergence: Convergence[] = []
  for (const variant of ['pool, learned', 'pool, fixed', 'round-robin'] as const) {
    // Fresh simulators per run: nothing loaded, nothing queued from the run before.
    const sims = await freshHosts()
    try {
      const urls = sims.map((sim) => sim.url)
      if (variant === 'round-robin') {
        const clients = urls.map((url) => new OllamaClient({ host: url }))
        runs.push(await batch(variant, new RoundRobin(clients)))
        await Promise.all(clients.map((client) => client.close()))
      } else {
        const { result, samples } = await poolRun(variant, urls, variant === 'pool, fixed')
        runs.push(result)
        if (variant === 'pool, learned') learnedConvergence = convergence(samples)
      }
    } finally {
      await Promise.all(sims.map((sim) => sim.close()))
    }
  }
  console.log(
    `\nhost pool: ${records} records × ${tokensPerRecord} tokens over ${hosts.map((host) => `${host.slots} × ${host.tokensPerSecond}`).join(', ')} tok/s (Σ ${capacity} tok/s)`,
  )
  console.log('variant | seconds | tok/s | share of Σ capacity | ok')
  for (const result of runs) {
    console.log(
      [
        result.variant,
        result.seconds.toFixed(1),
        result.tokensPerSecond.toFixed(0),
        `${(result.share * 100).toFixed(1)} %`,
        result.ok,
      ].join(' | '),
    )
  }
  const roundRobin = runs.find((result) => result.variant === 'round-robin')!
  for (const result of runs.filter((entry) => entry.variant !== 'round-robin')) {
    console.log(
      `${result.variant}: ${(roundRobin.seconds / result.seconds).toFixed(2)}× sooner than round-robin`,
    )
  }
  console.log('learned slots | numParallel | within one slot after | changes after | final')
  for (const entry of learnedConvergence) {
    console.log(
      [
        entry.host,
        entry.numParallel,
        entry.within === undefined ? 'never' : `${entry.within.toFixed(1)} s`,
        entry.changesAfter,
        entry.final,
      ].join(' | '),
    )
  }
  return { runs, convergence: learnedConvergence }
}

if (import.meta.url === `file://${process.argv[1]}`) await run()
