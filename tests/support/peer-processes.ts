// The simulator and the hub each in a process of their own, as Ollama and `spout serve` run beside
// `spout run`: a measurement of the viewer then does not charge their work to the batch's event
// loop (or theirs to each other's). They run the built packages: `pnpm build` first.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { root, staticDir } from './viewer-page.ts'

export interface PeerProcess {
  /** What the process printed first: its `http://` address. */
  readonly url: string
  close(): Promise<void>
}

function built(path: string): string {
  const file = join(root, path)
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`pnpm build\` first`)
  return file
}

/** Spawns `node args`, resolves with the first line it prints (its address). */
async function startPeer(args: string[]): Promise<PeerProcess> {
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (data: Buffer) => {
      output += data.toString('utf8')
      const newline = output.indexOf('\n')
      if (newline !== -1) resolve(output.slice(0, newline).trim())
    })
    child.once('exit', (code) =>
      reject(new Error(`${args.join(' ')} exited with ${code} before it listened`)),
    )
  })
  return {
    url,
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
}

/** `ollama-sim` (the built bin) on a free port. */
export function startSimulatorProcess(options: {
  tokensPerSecond: number
  numParallel: number
}): Promise<PeerProcess> {
  return startPeer([
    built('packages/ollama-sim/dist/bin.js'),
    '--port',
    '0',
    '--tokens-per-second',
    String(options.tokensPerSecond),
    '--num-parallel',
    String(options.numParallel),
  ])
}

/**
 * A hub in a process of its own serving the built viewer, on a free port; `options` are more of
 * `createHub`'s (JSON: no functions).
 */
export function startHubProcess(options: Record<string, unknown> = {}): Promise<PeerProcess> {
  const hubModule = built('packages/ws-server/dist/index.js')
  const script = `
    import { createHub } from ${JSON.stringify(hubModule)}
    const hub = await createHub({ ...${JSON.stringify(options)}, port: 0, staticDir: ${JSON.stringify(staticDir)} })
    process.stdout.write(hub.url + '\\n')
    process.once('SIGTERM', () => hub.close().then(() => process.exit(0)))
  `
  return startPeer(['--input-type=module', '-e', script])
}
