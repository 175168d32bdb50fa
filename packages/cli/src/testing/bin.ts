// Test helper (not part of the package build): the built `spout` bin, built when stale, run as a child process.
import { execFile, spawn } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'

export const packageDirectory = resolve(import.meta.dirname, '..', '..')
export const bin = join(packageDirectory, 'dist', 'bin.js')

/** Newest modification time of the source files under `path` (tests and test helpers aside). */
async function newest(path: string): Promise<number> {
  let latest = 0
  for (const entry of await readdir(path, { withFileTypes: true, recursive: true })) {
    const helper = entry.parentPath.endsWith('/testing') || entry.name.endsWith('.test.ts')
    if (entry.isFile() && !helper)
      latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs)
  }
  return latest
}

/** Builds the bin when it is missing or older than its sources (`pnpm test` builds first). Call in `beforeAll`, with a long timeout. */
export async function buildBinIfStale(): Promise<void> {
  if (existsSync(bin) && statSync(bin).mtimeMs >= (await newest(join(packageDirectory, 'src')))) return
  // The siblings' builds are reused when present (`pnpm test` refreshes them); else build them too.
  const siblingsBuilt = ['core', 'ws-server'].every((name) =>
    existsSync(join(packageDirectory, '..', name, 'dist', 'index.js')),
  )
  await promisify(execFile)('pnpm', ['--filter', siblingsBuilt ? '@spout/cli' : '@spout/cli...', 'build'], {
    cwd: packageDirectory,
    env: { ...process.env, PATH: `/usr/local/bin:${process.env.PATH}` },
  })
}

export interface SpawnedSpout {
  child: ReturnType<typeof spawn>
  /** Resolves when the process has exited and its streams are closed. */
  exit: Promise<{ code: number | null; stdout: string; stderr: string }>
}

/** Starts `node dist/bin.js <argv>` with piped stdio and only PATH and `env` in its environment. */
export function spawnSpout(
  argv: readonly string[],
  options: { cwd: string; env: Record<string, string> },
): SpawnedSpout {
  const child = spawn(process.execPath, [bin, ...argv], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  )
  return { child, exit }
}
