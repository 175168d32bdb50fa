// CLI start-up: how long `spout --help` takes against `node -e 0` (the floor any Node.js CLI pays).
// Each is spawned N times, interleaved so that machine noise hits both alike; the medians are compared
// as a ratio and as a difference in milliseconds (target: within 150 ms of the floor).
// Run: `pnpm bench cli` (builds first), or `node bench/cli.bench.ts` after `pnpm --filter @spout/cli build`.
import { spawnSync } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'

const spoutBin = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url))
const runs = 30
/** The target: `spout --help` at most this many milliseconds slower than `node -e 0`. */
const targetDifferenceMs = 150

export interface CliBenchRow {
  command: string
  medianMs: number
}

export interface CliBenchResult {
  rows: CliBenchRow[]
  ratio: number
  differenceMs: number
  withinTarget: boolean
}

function timeOnce(argv: string[]): number {
  const started = performance.now()
  const result = spawnSync(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
  const elapsed = performance.now() - started
  if (result.status !== 0) throw new Error(`node ${argv.join(' ')} exited ${result.status}: ${result.stderr}`)
  return elapsed
}

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

export async function run(): Promise<CliBenchResult> {
  const commands: [string, string[]][] = [
    ['node -e 0', ['-e', '0']],
    ['spout --help', [spoutBin, '--help']],
  ]
  const samples = new Map<string, number[]>(commands.map(([name]) => [name, []]))
  // One warm-up each (file cache), then interleaved runs.
  for (const [, argv] of commands) timeOnce(argv)
  for (let index = 0; index < runs; index += 1) {
    for (const [name, argv] of commands) samples.get(name)!.push(timeOnce(argv))
  }
  const rows = commands.map(([command]) => ({ command, medianMs: median(samples.get(command)!) }))
  const floor = rows[0]!.medianMs
  const spout = rows[1]!.medianMs
  const result: CliBenchResult = {
    rows,
    ratio: spout / floor,
    differenceMs: spout - floor,
    withinTarget: spout - floor <= targetDifferenceMs,
  }
  console.log(`\nCLI start-up (${runs} runs each, interleaved, medians)`)
  for (const row of rows) console.log(`  ${row.command.padEnd(14)} ${row.medianMs.toFixed(1).padStart(7)} ms`)
  console.log(
    `  spout --help: ${result.ratio.toFixed(2)}× node -e 0, +${result.differenceMs.toFixed(1)} ms (target: within ${targetDifferenceMs} ms: ${result.withinTarget ? 'met' : 'MISSED'})`,
  )
  return result
}

if (import.meta.url === `file://${process.argv[1]}`) await run()
