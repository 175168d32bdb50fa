import type { Hub, HubOptions } from '@spout/ws-server'
import type { Command } from 'commander'
import { CliError, exitCodes } from '../cli-error.ts'
import type { CommandContext } from '../command-context.ts'
import { firstLine } from '../config.ts'
import type { CliIo } from '../io.ts'
import { parseInteger } from '../request-options.ts'
import { openHubBus } from './serve-redis.ts'
import { collect } from './shared.ts'

interface ServeFlags {
  port: string
  host: string
  token?: string
  viewerToken?: string
  controlToken?: string
  insecure?: boolean
  allowOrigin?: string[]
  allowHost?: string[]
  maxFinishedRecords?: string
  maxFailedRecords?: string
  tick?: string
  compression?: boolean
  redis?: string
}

export function registerServe(program: Command, context: CommandContext): void {
  const { io } = context
  program
    .command('serve')
    .description('Start the live hub: producers (spout run --broadcast) publish, browsers watch.')
    .option('-p, --port <port>', 'port to listen on (0 picks a free one)', '4317')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--token <token>', 'producers must send this token (default: $SPOUT_TOKEN)')
    .option('--viewer-token <token>', 'viewers must send this token (default: $SPOUT_VIEWER_TOKEN)')
    .option(
      '--control-token <token>',
      'turn on the control channel: a viewer opened with ?control=<token> may stop a job or one record (default: $SPOUT_CONTROL_TOKEN; off without it)',
    )
    .option('--insecure', 'allow listening beyond this machine without tokens')
    .option(
      '--allow-origin <origin>',
      'another browser origin allowed to connect, e.g. a dev server (repeatable)',
      collect,
    )
    .option(
      '--allow-host <host>',
      'another Host header accepted, e.g. behind a reverse proxy (repeatable)',
      collect,
    )
    .option('--max-finished-records <n>', 'finished records kept per job for late joiners (default 10000)')
    .option(
      '--max-failed-records <n>',
      'failed records kept per job, apart from the finished ones (default 1000)',
    )
    .option(
      '--tick <ms>',
      'longest wait between two frames to a viewer; with few viewers the hub sends sooner, down to 8 ms (default 16)',
    )
    .option(
      '--compression',
      'compress each frame to viewers once, for all that offer permessage-deflate (browsers do): about a seventh of the bytes, for viewers across a network',
    )
    .option(
      '--redis <url>',
      'share jobs and viewers with the other hubs on this Redis (redis://[:password@]host:port/db, rediss:// for TLS)',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ spout serve
  $ SPOUT_TOKEN=s3cret spout serve --port 8080
  $ SPOUT_TOKEN=s3cret spout serve --redis redis://10.0.0.5:6379/0 --host 0.0.0.0   (one of several hubs)
  $ spout serve --allow-origin https://viewer.example --allow-host spout.internal:4317
  $ SPOUT_CONTROL_TOKEN=k3y spout serve   (then open http://127.0.0.1:4317/?control=k3y to get stop buttons)
  $ SPOUT_TOKEN=s3cret spout run data.jsonl -m llama3.2 -o out.jsonl --broadcast ws://127.0.0.1:4317`,
    )
    .action(async (flags: ServeFlags) => {
      context.exitCode = await serveCommand(flags, io)
    })
}

/** Starts the hub and serves until Ctrl-C; resolves to the exit code. */
async function serveCommand(flags: ServeFlags, io: CliIo): Promise<number> {
  const port = parseInteger(flags.port, '--port', 0)
  // Tokens from the environment too: arguments are visible to every user of the machine in `ps`.
  flags.token ??= io.env.SPOUT_TOKEN || undefined
  flags.viewerToken ??= io.env.SPOUT_VIEWER_TOKEN || undefined
  flags.controlToken ??= io.env.SPOUT_CONTROL_TOKEN || undefined
  const options = hubOptions(flags, port)
  // Loaded when the command runs: `spout --help` does not pay for the hub.
  const { bundledViewerDir, createHub } = await import('@spout/ws-server')
  const staticDir = bundledViewerDir()
  const shared = flags.redis ? await openHubBus(flags.redis, io.stderr) : undefined
  let hub: Hub
  try {
    hub = await createHub({
      ...options,
      ...(staticDir ? { staticDir } : {}),
      ...(shared ? { bus: shared.bus } : {}),
    })
  } catch (error) {
    throw new CliError(`cannot start the hub on ${flags.host}:${port}: ${firstLine(error)}`, {
      cause: error,
    })
  }
  const publish = hub.url.replace(/^http/, 'ws')
  io.stdout.write(`${hub.url}\n`)
  if (shared) io.stderr.write(`spout: sharing jobs and viewers through ${shared.where}\n`)
  io.stderr.write(
    `spout: hub listening on ${hub.url}${staticDir ? ' (viewer: open it in a browser)' : ' (no viewer: this @spout/ws-server was built without @spout/web)'}\n` +
      `spout: publish with: spout run <input> -m <model> -o out.jsonl --broadcast ${publish}${flags.token ? ' --token <token>' : ''}\n` +
      (flags.controlToken
        ? `spout: control channel on: open ${hub.url}/?control=<control token> to stop jobs and records\n`
        : '') +
      'spout: Ctrl-C to stop\n',
  )
  await new Promise<void>((resolve) => {
    const stopListening = io.onInterrupt(() => {
      stopListening()
      resolve()
    })
  })
  await hub.close()
  return exitCodes.ok
}

/** The hub's options from the flags (the viewer's files and the Redis bus aside). */
function hubOptions(flags: ServeFlags, port: number): HubOptions {
  return {
    host: flags.host,
    port,
    ...(flags.token ? { token: flags.token } : {}),
    ...(flags.viewerToken ? { viewerToken: flags.viewerToken } : {}),
    ...(flags.controlToken ? { controlToken: flags.controlToken } : {}),
    ...(flags.insecure ? { insecure: true } : {}),
    ...(flags.allowOrigin ? { allowedOrigins: flags.allowOrigin } : {}),
    ...(flags.allowHost ? { allowedHosts: flags.allowHost } : {}),
    ...(flags.maxFinishedRecords !== undefined
      ? { maxFinishedRecords: parseInteger(flags.maxFinishedRecords, '--max-finished-records', 0) }
      : {}),
    ...(flags.maxFailedRecords !== undefined
      ? { maxFailedRecords: parseInteger(flags.maxFailedRecords, '--max-failed-records', 0) }
      : {}),
    ...(flags.tick !== undefined ? { tickMs: parseInteger(flags.tick, '--tick', 0) } : {}),
    ...(flags.compression ? { compression: true } : {}),
  }
}
