import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** The built CLI; throws a message that says how to build it when it is missing. */
export function builtCli(): string {
  const bin = join(repositoryRoot, 'packages/cli/dist/bin.js')
  if (!existsSync(bin)) {
    throw new Error(
      `the built CLI is missing (${bin}): run \`pnpm --filter @spout/cli... build\` (\`pnpm test\` builds it first)`,
    )
  }
  return bin
}

export interface CliRun {
  readonly child: ChildProcess
  /** Resolves when the process is gone: its exit code, or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>
}

/** Spawns `node [nodeArgs] packages/cli/dist/bin.js ...args` with stdin closed and stderr captured. */
export function spawnCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; nodeArgs?: string[] } = {},
): CliRun {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), builtCli(), ...args], {
    cwd: options.cwd ?? repositoryRoot,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolvePromise, reject) => {
      child.on('error', reject)
      child.on('close', (code, signal) => resolvePromise({ code, signal, stderr }))
    },
  )
  return { child, exited }
}
