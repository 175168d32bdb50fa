// `spout run` with `stages` in the config: teacher → student → judge as one pipelined run.
import { existsSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { eventSink, type PluginOption, runStages, type SpoutPlugin, type StageDefinition } from '@spout/core'
import { CliError } from '../cli-error.ts'
import type { CommandContext } from '../command-context.ts'
import type { LoadedConfig } from '../config.ts'
import { configPath } from '../config.ts'
import { countRecords, openInput } from '../input.ts'
import { lineError } from '../input-line-error.ts'
import { JobDisplay } from '../job-display.ts'
import { loadPlugin } from '../load-plugin.ts'
import { loadRedisPackage } from '../redis-package.ts'
import { parseInteger, parseOptionPairs } from '../request-options.ts'
import { buildStages } from '../stage-config.ts'
import { colorEnabled, createStyle, liveTerminal } from '../style.ts'
import { runDisplayed, runExitCode } from './run-exit.ts'
import type { RunFlags } from './run-flags.ts'
import { hubSink, readAheadOf } from './run-shared.ts'
import { queuedBackend, stagesOnQueue } from './run-stages-queue.ts'
import { abortOnInterrupt } from './shared.ts'
import { StageTargets } from './stage-targets.ts'

/** Where a staged run keeps one file per stage: `out.jsonl` → `out.stages/`. */
export function stageDirectoryOf(outputPath: string): string {
  return `${outputPath.replace(/\.jsonl?$/i, '')}.stages`
}

/** `spout run` for a config with `stages`: resolves to the exit code. */
export async function runStagesCommand(
  inputArgument: string | undefined,
  flags: RunFlags,
  context: CommandContext,
  loaded: LoadedConfig,
): Promise<number> {
  const { io } = context
  const config = loaded.config
  const { input, output, outputPath } = inputAndOutput(inputArgument, flags, io, loaded)
  const flagConcurrency = flags.concurrency ?? flags.maxConcurrency
  const concurrency =
    flagConcurrency === undefined ? config.concurrency : parseInteger(flagConcurrency, '--concurrency', 1)
  const targets = new StageTargets(flags, config, io, concurrency)
  const queue = await queueFlags(flags)
  try {
    const stages = await prepareStages(config, flags, concurrency, targets, queue?.collectOnly)

    const source = await openInput(input, { cwd: io.cwd, stdin: io.stdin, format: flags.inputFormat })
    const quiet = flags.quiet === true
    const showProgress = !quiet && flags.progress !== false
    const total = showProgress ? await countRecords(source) : undefined
    const display = stagesDisplay(io, showProgress, quiet, outputPath)
    const plugins: PluginOption[] = [config.plugins]
    for (const specifier of flags.plugin ?? []) plugins.push(await loadPlugin(specifier, io.cwd))
    const say = (line: string) => quiet || io.stderr.write(`${line}\n`)
    if (flags.resume && outputPath && existsSync(outputPath)) say(`spout: resuming ${output}`)
    const controller = new AbortController()
    const interruption = abortOnInterrupt(io, controller, () => {
      display.finish()
      say('spout: interrupted: stopping (output and stage files stay resumable); Ctrl-C again to quit now')
    })
    const summary = await runDisplayed(interruption, display, () =>
      runStages({
        stages,
        input: source.records(),
        output: outputPath ?? io.stdout,
        ...(outputPath ? { stageDirectory: stageDirectoryOf(outputPath) } : {}),
        resume: flags.resume === true,
        // Watched live, each stage shows the records waiting for it (and a viewer can stop them).
        readAhead: readAheadOf(flags),
        ...(config.idField || flags.idField ? { idField: flags.idField ?? config.idField } : {}),
        ...(total === undefined ? {} : { total }),
        name: flags.name ?? (source.path ? basename(source.path) : 'stdin'),
        signal: controller.signal,
        ...(queue && flags.queue
          ? {
              runStage: stagesOnQueue({
                url: flags.queue,
                workers: queue.workers,
                hostsOf: (stage) => targets.hostCount(stage),
                resume: flags.resume === true,
                warn: (message) => display.log(`spout: warning: ${message}`),
              }),
            }
          : {}),
        logger: {
          info: (message) => quiet || display.log(`spout: ${message}`),
          warn: (message) => quiet || display.log(`spout: warning: ${message}`),
        },
        plugins: [
          eventSink((event) => display.onEvent(event), { name: 'spout-cli-display' }),
          plugins,
          flags.broadcast ? hubSink(flags.broadcast, flags.token ?? io.env.SPOUT_TOKEN) : undefined,
        ],
      }),
    )
    return runExitCode({
      summary,
      io,
      quiet,
      output: outputPath ? output : undefined,
      argv: context.argv,
      interruptExitCode: interruption.exitCode,
    })
  } finally {
    await targets.close()
  }
}

/**
 * The stages of the config as `runStages` takes them, each on its backend, checked before the input
 * is read (a stage whose server is not there, or whose model file does not load, fails the command
 * in one line naming the stage), with its models' digests.
 */
async function prepareStages(
  config: LoadedConfig['config'],
  flags: RunFlags,
  concurrency: number | undefined,
  targets: StageTargets,
  /** With `--queue … --workers 0`: the queue's address (no stage opens a server here). */
  queuedOnly: string | undefined,
): Promise<StageDefinition[]> {
  const stages = await buildStages(config.stages ?? [], {
    model: flags.model ?? config.model,
    concurrency,
    baseOptions: config.options,
    options: parseOptionPairs(flags.option ?? []),
    backend: async (stage, model, options) =>
      queuedOnly === undefined
        ? targets.open(stage, model, options)
        : { backend: queuedBackend(queuedOnly), modelDigest: undefined },
  })
  const inputLines: SpoutPlugin = {
    name: 'spout-cli-input-errors',
    buildPrompt: {
      order: 'pre',
      handler(_request, record) {
        const error = lineError(record.input as Record<string, unknown>)
        if (error) throw error
      },
    },
  }
  stages[0]!.plugins = [inputLines]

  return stages
}

/** The panel (live on a terminal when the lines go to a file), plain lines, or nothing. */
function stagesDisplay(
  io: CommandContext['io'],
  showProgress: boolean,
  quiet: boolean,
  outputPath: string | undefined,
): JobDisplay {
  const live = liveTerminal(io) && outputPath !== undefined
  return new JobDisplay({
    stream: io.stderr,
    mode: !showProgress ? 'silent' : live ? 'live' : 'plain',
    style: createStyle(live && colorEnabled(io.stderr, io.env)),
    layout: 'panel',
    showFailures: !quiet,
  })
}

/**
 * `--queue` and `--workers` of a staged run, checked: the workers per stage (undefined: one per host),
 * and with `--workers 0` the queue's address as messages show it (then no stage needs a server here).
 */
async function queueFlags(
  flags: RunFlags,
): Promise<{ workers: number | undefined; collectOnly: string | undefined } | undefined> {
  if (!flags.queue) {
    if (flags.workers !== undefined) throw new CliError('--workers needs --queue <redis-url>')
    return undefined
  }
  const workers = flags.workers === undefined ? undefined : parseInteger(flags.workers, '--workers', 0)
  const redis = await loadRedisPackage('--queue')
  try {
    redis.checkRedisUrl(flags.queue)
  } catch (error) {
    throw new CliError(`--queue: ${(error as Error).message}`, { cause: error })
  }
  return { workers, collectOnly: workers === 0 ? redis.displayRedisUrl(flags.queue) : undefined }
}

/** The input (argument, else the config's), and the output (`-o`, else the config's; stdout when neither). */
function inputAndOutput(
  inputArgument: string | undefined,
  flags: RunFlags,
  io: CommandContext['io'],
  loaded: LoadedConfig,
): { input: string; output: string | undefined; outputPath: string | undefined } {
  const input = inputArgument ?? configPath(loaded, 'input')
  if (input === undefined)
    throw new CliError('no input: pass a file (or - for stdin), or set "input" in spout.config')
  const output = flags.output ?? configPath(loaded, 'output')
  const outputPath = output === undefined || output === '-' ? undefined : resolve(io.cwd, output)
  if (output === undefined && io.stdout.isTTY) {
    throw new CliError('stdout is a terminal: pass -o <file.jsonl> (or set "output" in spout.config)')
  }
  if (flags.resume && !outputPath) throw new CliError('--resume needs -o <file.jsonl>: the file to resume')

  return { input, output, outputPath }
}
