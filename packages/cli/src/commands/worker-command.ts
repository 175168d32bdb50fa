// `spout worker`'s work (see worker.ts for its options).
import type { PluginOption } from '@spout/core'
import { SpoutError } from '@spout/core/errors'
import type { QueueWorker } from '@spout/redis'
import { CliError, exitCodes } from '../cli-error.ts'
import type { CommandContext } from '../command-context.ts'
import { loadConfig } from '../config.ts'
import { resolveConnection } from '../connection.ts'
import { loadPlugin } from '../load-plugin.ts'
import { loadRedisPackage } from '../redis-package.ts'
import { parseInteger } from '../request-options.ts'
import { modelDigests } from './run-shared.ts'
import { hostSpecs, openRunTarget } from './run-target.ts'
import type { WorkerFlags } from './worker-flags.ts'

/** `spout worker`: takes records until Ctrl-C or SIGTERM; resolves to the exit code. */
export async function workerCommand(flags: WorkerFlags, context: CommandContext): Promise<number> {
  const { io } = context
  const say = (line: string) => {
    if (!flags.quiet) io.stderr.write(`${line}\n`)
  }
  const redis = await loadRedisPackage('spout worker')
  try {
    redis.checkRedisUrl(flags.queue)
  } catch (error) {
    throw queueError(error)
  }
  for (const stage of flags.stage ?? []) {
    if (!/^[A-Za-z_][\w-]*$/.test(stage))
      throw new CliError(
        `--stage: a stage name is a word (letters, digits, _ or -), not ${JSON.stringify(stage)}`,
      )
  }
  const { config } = await loadConfig(io.cwd, flags.config)
  const api = flags.api ?? config.api
  const hosts = await hostSpecs(flags.host, config, io.env, api)
  const given = flags.concurrency ?? config.concurrency
  const concurrency = parseInteger(given ?? 1, '--concurrency', 1)
  const lockDuration =
    flags.lockDuration === undefined ? undefined : parseInteger(flags.lockDuration, '--lock-duration', 1000)
  const plugins: PluginOption[] = [config.plugins]
  for (const specifier of flags.plugin ?? []) plugins.push(await loadPlugin(specifier, io.cwd))
  const target = await openRunTarget(hosts, {
    concurrency: given === undefined ? undefined : concurrency,
    connection: resolveConnection(flags, config),
    openai: { host: flags.host?.[0], apiKey: flags.apiKey, configuredHost: config.host, env: io.env },
  })
  try {
    const modelDigest = target.lister ? await modelDigests(target.lister) : undefined
    // Plain batches, or each stage given (its own queue), each through one BullMQ worker.
    const queues = flags.stage?.length ? flags.stage.map((stage) => redis.stageQueueName(stage)) : [undefined]
    const worker = await startWorkers(queues, (queue) =>
      redis.startQueueWorker({
        url: flags.queue,
        ...(queue ? { queue } : {}),
        client: target.client,
        ...(target.client.capacity ? {} : { concurrency }),
        plugins,
        ...(lockDuration === undefined ? {} : { lockDuration }),
        modelDigest,
        onError: (error) => io.stderr.write(`spout: warning: ${error.message}\n`),
      }),
    )
    const what = flags.stage?.length
      ? `stage${flags.stage.length === 1 ? '' : 's'} ${flags.stage.join(', ')} `
      : ''
    say(
      `spout: worker taking ${what}records from ${redis.displayRedisUrl(flags.queue)} for ${target.label} (${target.client.capacity ? 'slots learned per host' : `${concurrency} at once`}); Ctrl-C to stop`,
    )
    let signals = 0
    await new Promise<void>((resolve) => {
      const stopListening = io.onInterrupt(() => {
        signals += 1
        if (signals === 1) {
          say(
            'spout: worker stopping: finishing the records in flight; Ctrl-C again to stop at once (they go back to the queue for another worker)',
          )
          void worker.close().then(resolve)
        } else {
          stopListening()
          void worker.close({ force: true }).then(resolve)
        }
      })
    })
    say(`spout: worker stopped after ${worker.completed} record${worker.completed === 1 ? '' : 's'}`)
    return exitCodes.ok
  } finally {
    await target.close()
  }
}

/** One worker per queue, seen as one: `completed` adds theirs up, `close` closes them all. */
async function startWorkers(
  queues: (string | undefined)[],
  start: (queue: string | undefined) => Promise<QueueWorker>,
): Promise<QueueWorker> {
  const workers: QueueWorker[] = []
  try {
    for (const queue of queues) workers.push(await start(queue))
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.close({ force: true })))
    throw queueError(error)
  }
  return {
    get completed() {
      return workers.reduce((sum, worker) => sum + worker.completed, 0)
    },
    async close(options) {
      await Promise.all(workers.map((worker) => worker.close(options)))
    },
  }
}

/** A bad URL or an unreachable Redis: one line, exit 2. */
function queueError(error: unknown): CliError {
  return new CliError(`--queue: ${(error as Error).message}`, {
    cause: error,
    ...(error instanceof SpoutError ? { code: error.code } : {}),
  })
}
