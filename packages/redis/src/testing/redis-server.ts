// A real redis-server for tests (Debian's `redis-server`): on 127.0.0.1, a free port, its own temp
// directory, no persistence unless asked; stopped by the test. One helper for every Redis test.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface RedisServer {
  readonly url: string
  readonly port: number
  /** With `tls`: the self-signed certificate clients must trust (e.g. `NODE_EXTRA_CA_CERTS`). */
  readonly caFile?: string
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
  /**
   * A one-node Redis Cluster holding every slot: commands and Lua scripts whose keys are in
   * different hash slots fail (`CROSSSLOT`), as on a real cluster. Default `false`.
   */
  cluster?: boolean
  /**
   * TLS only (`rediss://`), with a self-signed certificate for 127.0.0.1 made by `openssl` in the
   * temp directory (`caFile`). Default `false`.
   */
  tls?: boolean
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

function launch(port: number, dir: string, options: RedisServerOptions): Promise<ChildProcess> {
  const args = ['--bind', '127.0.0.1', '--dir', dir, '--save', '']
  if (options.tls) {
    args.push('--port', '0', '--tls-port', String(port), '--tls-auth-clients', 'no')
    args.push('--tls-cert-file', join(dir, 'cert.pem'), '--tls-key-file', join(dir, 'key.pem'))
  } else args.push('--port', String(port))
  args.push('--appendonly', options.persist ? 'yes' : 'no')
  if (options.password) args.push('--requirepass', options.password)
  if (options.cluster) args.push('--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf')
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

/** A certificate for 127.0.0.1 and its key, valid a day: `cert.pem` and `key.pem` in `dir`. */
function selfSignedCertificate(dir: string): void {
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'].concat([
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ]),
    { stdio: 'ignore' },
  )
}

/** Gives the one node every slot and waits until the cluster says `ok`. */
async function claimEverySlot(port: number, password: string | undefined): Promise<void> {
  const cli = (...args: string[]) =>
    execFileSync(
      'redis-cli',
      ['-p', String(port), ...(password ? ['-a', password, '--no-auth-warning'] : []), ...args],
      {
        encoding: 'utf8',
      },
    )
  cli('CLUSTER', 'ADDSLOTSRANGE', '0', '16383')
  const deadline = Date.now() + 10_000
  while (!cli('CLUSTER', 'INFO').includes('cluster_state:ok')) {
    if (Date.now() > deadline) throw new Error('the one-node cluster did not come up')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Starts `redis-server` on a free port of 127.0.0.1 in a fresh temp directory. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'spout-redis-'))
  const port = await freePort()
  if (options.tls) selfSignedCertificate(dir)
  let child: ChildProcess | undefined = await launch(port, dir, options)
  if (options.cluster) await claimEverySlot(port, options.password)
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
    url: `${options.tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}`,
    port,
    ...(options.tls ? { caFile: join(dir, 'cert.pem') } : {}),
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
