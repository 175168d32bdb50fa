// The simulator in a child process of its own (its own event loop and CPU), as the benches run it:
// what this process measures is then the client side alone.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

export const simulatorBin = fileURLToPath(new URL('../packages/ollama-sim/dist/bin.js', import.meta.url))

export interface SimulatorProcess {
  /** `http://127.0.0.1:PORT`. */
  url: string
  close(): Promise<void>
}

/** Starts `ollama-sim` on a free port with these flags (`--num-parallel`, `--tokens-per-second`, …). */
export async function startSimulatorProcess(flags: string[] = []): Promise<SimulatorProcess> {
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

/** Records whose answers are `tokens` tokens long (a `[sim:tokens=N]` directive), ids 1 to `count`. */
export function* records(count: number, tokens: number) {
  for (let index = 1; index <= count; index += 1) {
    yield { id: index, prompt: `record ${index} [sim:tokens=${tokens}]` }
  }
}
