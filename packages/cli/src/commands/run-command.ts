// `spout run`'s work, loaded only when the command runs (see run.ts for its options). The plan
// comes from the flags and config (run-plan.ts), the server is watched by server-watch.ts, and the
// exit code is decided by run-exit.ts.
import { existsSync } from 'node:fs'
import { basename } from 'node:path'
import {
  jsonlSink,
  type PipelineOptions,
  type PluginOption,
  prepareResume,
  runPipeline,
  templatePrompt,
} from '@spout/core'
import { CliError } from '../cli-error.ts'
import type { CommandContext } from '../command-context.ts'
import { firstLine, loadConfig } from '../config.ts'
import { resolveConnection } from '../connection.ts'
import { isModelNotFound, isUnreachable } from '../describe-error.ts'
import { countRecords, type InputSource, openInput } from '../input.ts'
import { inputLineErrors } from '../input-line-error.ts'
import { JobDisplay } from '../job-display.ts'
import { loadPlugin } from '../load-plugin.ts'
import { parseInteger } from '../request-options.ts'
import { colorEnabled, createStyle, liveTerminal } from '../style.ts'
import { runDisplayed, runExitCode } from './run-exit.ts'
import type { RunFlags } from './run-flags.ts'
import { planRun, type RunPlan } from './run-plan.ts'
import { runOnQueue } from './run-queue.ts'
import { hubSink, modelDigests, readAheadOf } from './run-shared.ts'
import { runStagesCommand } from './run-stages.ts'
import { openTarget, type RunTarget } from './run-target.ts'
import { ServerWatch } from './server-watch.ts'
import { abortOnInterrupt } from './shared.ts'

/** `spout run`: resolves to the exit code. */
export async function runCommand(
  inputArgument: string | undefined,
  flags: RunFlags,
  context: CommandContext,
): Promise<number> {
  const { io } = context
  const loaded = await loadConfig(io.cwd, flags.config)
  if (loaded.config.stages) return runStagesCommand(inputArgument, flags, context, loaded)
  const plan = await planRun(inputArgument, flags, loaded, io, liveTerminal(io))
  const source = await openInput(plan.input, { cwd: io.cwd, stdin: io.stdin, format: flags.inputFormat })
  const broadcast = flags.broadcast ? hubSink(flags.broadcast, flags.token ?? io.env.SPOUT_TOKEN) : undefined
  const plugins: PluginOption[] = [loaded.config.plugins]
  for (const specifier of flags.plugin ?? []) plugins.push(await loadPlugin(specifier, io.cwd))
  // A .gguf model (or --api llama-cpp) loads in this process; else one server (Ollama, or an
  // OpenAI-compatible one: `--api openai`, or a host ending in /v1), or a pool of servers when several
  // are given: is it there, has it the model? One line naming the URL (or the file) and the fix,
  // before reading the input.
  const target = await openTarget(plan.model, plan.api, plan.hosts, {
    cwd: io.cwd,
    sequences: plan.concurrency,
    options: plan.options,
    concurrency: plan.concurrencyGiven ? plan.concurrency : undefined,
    connection: resolveConnection(flags, loaded.config),
    openai: { host: flags.host?.[0], apiKey: flags.apiKey, configuredHost: loaded.config.host, env: io.env },
  })
  try {
    // With --queue the workers generate: one per host by default; a collector that runs none needs no server.
    const workers = flags.queue ? parseInteger(flags.workers ?? localWorkers(plan.hosts), '--workers', 0) : 0
    if (flags.workers !== undefined && !flags.queue) throw new CliError('--workers needs --queue <redis-url>')
    if (!flags.queue || workers > 0) await target.connect(plan.model)
    return await runBatch({ context, flags, plan, source, target, plugins, broadcast, workers })
  } finally {
    await target.close()
  }
}

/** `--workers`'s default: one local worker per host the run resolves (one host, or none: one). */
export function localWorkers(hosts: readonly unknown[]): number {
  return Math.max(1, hosts.length)
}

interface Batch {
  context: CommandContext
  flags: RunFlags
  plan: RunPlan
  source: InputSource
  target: RunTarget
  /** The config's plugins and `--plugin`s, after the prompt template and before the output. */
  plugins: PluginOption[]
  broadcast: PluginOption
  /** With `--queue`: the workers this process runs (0 only collects). */
  workers: number
}

/** The batch itself, once the server is known to be there: resolves to the exit code. */
async function runBatch(batch: Batch): Promise<number> {
  const { context, flags, plan, source, target, plugins, broadcast, workers } = batch
  const { io } = context
  const say = (line: string) => {
    if (!plan.quiet) io.stderr.write(`${line}\n`)
  }
  const skip = await resumeSkip(plan, say)
  const total = plan.showProgress ? await countRecords(source) : undefined
  const watch = new ServerWatch(target, plan.model)
  const display = runDisplay(batch, watch, total)
  // 130 after Ctrl-C, 143 after SIGTERM: the first signal decides.
  const interruption = abortOnInterrupt(io, watch.controller, () => {
    watch.stopReason ??= 'interrupted'
    display.finish()
    say(
      'spout: interrupted: stopping (in-flight records are cancelled, the output stays resumable); Ctrl-C again to quit now',
    )
  })
  const run = flags.queue ? onQueue(batch, display) : runPipeline
  const summary = await runDisplayed(interruption, display, async () =>
    run({
      client: target.client,
      model: plan.model,
      request: plan.request,
      input: source.records(),
      // Records waiting for a slot show in the viewer as queued rows; without a viewer, none wait.
      readAhead: readAheadOf(flags),
      ...(plan.chat ? { endpoint: 'chat' as const } : {}),
      concurrency: plan.concurrency,
      ...(plan.retries === undefined ? {} : { retries: plan.retries }),
      ...(plan.formatRetries === undefined ? {} : { formatRetries: plan.formatRetries }),
      modelDigest:
        target.lister && (!flags.queue || workers > 0) ? await modelDigests(target.lister) : undefined,
      ...(plan.idField === undefined ? {} : { idField: plan.idField }),
      ...(skip ? { skip } : {}),
      ...(total === undefined ? {} : { total }),
      name: flags.name ?? (source.path ? basename(source.path) : 'stdin'),
      signal: watch.controller.signal,
      logger: {
        info: (message: string) => plan.quiet || display.log(`spout: ${message}`),
        warn: (message: string) => plan.quiet || display.log(`spout: warning: ${message}`),
      },
      plugins: [
        inputLineErrors(),
        plan.system !== undefined || plan.template !== undefined
          ? templatePrompt({ system: plan.system, template: plan.template })
          : undefined,
        plugins,
        jsonlSink(plan.outputPath ?? io.stdout, { append: plan.resume }),
        watch.displaySink(display),
        watch.serverCheck(),
        broadcast,
      ],
    }),
  )
  return runExitCode({
    summary,
    io,
    quiet: plan.quiet,
    argv: context.argv,
    output: plan.outputPath ? plan.output : undefined,
    interruptExitCode: interruption.exitCode,
    stopReason: watch.stopReason,
    stopMessage: watch.stopMessage,
    cancelled: watch.cancelled,
    malformedLines: watch.malformedLines,
    inputLabel: source.label,
  })
}

/** The terminal display: live on a terminal, plain lines otherwise, nothing with `--quiet`. */
function runDisplay(
  { context, plan, target }: Batch,
  watch: ServerWatch,
  total: number | undefined,
): JobDisplay {
  const { io } = context
  return new JobDisplay({
    stream: io.stderr,
    mode: !plan.showProgress ? 'silent' : plan.live ? 'live' : 'plain',
    style: createStyle(plan.live && colorEnabled(io.stderr, io.env)),
    layout: (plan.concurrency === 1 && !target.hosts) || total === 1 ? 'stream' : 'panel',
    ...(target.hosts ? { hosts: target.hosts } : {}),
    showFailures: !plan.quiet,
    // The command reports these itself, in one line.
    hideFailure: (error) =>
      isModelNotFound(error) || (isUnreachable(error) && watch.stopReason === 'unreachable'),
  })
}

/** With `--queue`: the batch goes on a Redis queue for workers, its lines collected here. */
function onQueue({ flags, plan, workers }: Batch, display: JobDisplay) {
  return (pipeline: PipelineOptions) =>
    runOnQueue(pipeline, {
      url: flags.queue!,
      workers,
      resume: plan.resume,
      ...(plan.system === undefined ? {} : { system: plan.system }),
      ...(plan.template === undefined ? {} : { template: plan.template }),
      warn: (message) => display.log(`spout: warning: ${message}`),
    })
}

/** With `--resume` and an output file that exists: the ids it holds done (they are skipped). */
async function resumeSkip(plan: RunPlan, say: (line: string) => void): Promise<Set<string> | undefined> {
  if (!plan.resume || !plan.outputPath || !existsSync(plan.outputPath)) return undefined
  const state = await prepareResume(plan.outputPath).catch((error: unknown) => {
    throw new CliError(`cannot resume from ${plan.output}: ${firstLine(error)}`, { cause: error })
  })
  say(
    `spout: resuming ${plan.output}: ${state.kept} done${state.dropped > 0 ? `, ${state.dropped} failed or torn lines dropped (retrying them)` : ''}`,
  )
  return state.done
}
