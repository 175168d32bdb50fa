// Runs every benchmark in turn: `pnpm bench` (builds first). Each bench module exports `run()`,
// prints its own table and returns its rows. Add one line per benchmark below.
const benches: [string, () => Promise<{ run(): Promise<unknown> }>][] = [
  ['hub', () => import('./hub.bench.ts')],
  ['client', () => import('./client.bench.ts')],
  ['openai-client', () => import('./openai-client.bench.ts')],
  ['pipeline', () => import('./pipeline.bench.ts')],
  ['cli', () => import('./cli.bench.ts')],
  ['llama', () => import('./llama.bench.ts')],
  ['markdown', () => import('./markdown.bench.ts')],
  ['stages', () => import('./stages.bench.ts')],
  ['host-pool', () => import('./host-pool.bench.ts')],
  ['queue-workers', () => import('./queue-workers.bench.ts')],
]

export {}

const only = process.argv.slice(2)
for (const [name, load] of benches) {
  if (only.length > 0 && !only.includes(name)) continue
  const module = await load()
  await module.run()
}
