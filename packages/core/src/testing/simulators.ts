// Test helper (not part of the package build): the setup every simulator test of core repeats. Call
// `useSimulators` at the top of a test file: `server()` starts a simulator with an OllamaClient on it
// (no retries), both closed after each test; `directory` is a temporary folder for the file's outputs.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Simulator, type SimulatorOptions, startSimulator } from '@spout/ollama-sim'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { OllamaClient } from '../client.ts'

export interface Simulators {
  server(options?: SimulatorOptions): Promise<{ sim: Simulator; client: OllamaClient }>
  /** The file's temporary folder (set before the first test, removed after the last). */
  readonly directory: string
}

export function useSimulators(prefix: string): Simulators {
  const open: { sim: Simulator; client: OllamaClient }[] = []
  let directory = ''
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), prefix))
  })
  afterEach(async () => {
    for (const { sim, client } of open.splice(0)) {
      await client.close()
      await sim.close()
    }
  })
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true })
  })
  return {
    async server(options = {}) {
      const sim = await startSimulator(options)
      const client = new OllamaClient({ host: sim.url, retry: false })
      open.push({ sim, client })
      return { sim, client }
    },
    get directory() {
      return directory
    },
  }
}

/** The lines of a JSONL file, parsed. */
export async function readLines<T>(path: string): Promise<T[]> {
  const text = await readFile(path, 'utf8')
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as T)
}
