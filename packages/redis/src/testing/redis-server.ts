// A real redis-server for tests (Debian's `redis-server`): on 127.0.0.1, a free port, its own temp
// directory, no persistence unless asked; stopped by the test. One helper for every Redis test.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface RedisServer {
  readonly url: string
  readonly port: number
  /** Stops it (SIGKILL with `crash`, otherwise SHUTDOWN-like SIGTERM) and waits for the exit. */
  stop(options?: { crash?: boolean }): Promise<void>
  /**
   * Stops it (SIGKILL with `crash`) and starts it again on the same port and directory: what it
   * kept (with `persist`) comes back, the rest is gone.
   */
  restart(options?: { crash?: boolean }): Promise<void>
  /** Stops it and removes its directory. */
  close(): Promise<void>
}

export interface RedisServerOptions {
  /** Keep an append-only file in the temp directory, so a restart keeps the data. Default `false`. */
  persist?: boolean
  /** `requirepass`: clients must authenticate. */
  password?: string
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

function launch(port: number, dir: string, options: RedisServerOptions): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '']
  args.push('--appendonly', options.persist ? 'yes' : 'no')
  if (options.password) args.push('--requirepass', options.password)
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  return new Promise((resolve, reject) => {
    let output = ''
    const onData = (data: Buffer) => {
      output += data.toString()
      if (output.includes('Ready to accept connections')) {
        child.stdout.off('data', onData)
        child.stdout.resume()
        resolve(child)
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', (data: Buffer) => {
      output += data.toString()
    })
    child.once('error', (error) => reject(new Error(`cannot start redis-server: ${error.message}`)))
    child.once('exit', (code) =>
      reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)),
    )
  })
}

/** Starts `redis-server` on a free port of 127.0.0.1 in a fresh temp directory. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'spout-redis-'))
  const port = await freePort()
  let child: ChildProcess | undefined = await launch(port, dir, options)
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : ''
  const stop = async ({ crash = false } = {}) => {
    const running = child
    child = undefined
    if (!running || running.exitCode !== null) return
    const exited = new Promise((resolve) => running.once('exit', resolve))
    running.kill(crash ? 'SIGKILL' : 'SIGTERM')
    await exited
  }
  return {
    url: `redis://${auth}127.0.0.1:${port}`,
    port,
    stop: async (stopOptions) => {
      await stop(stopOptions)
    },
    restart: async (restartOptions) => {
      await stop(restartOptions)
      child = await launch(port, dir, options)
    },
    close: async () => {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
