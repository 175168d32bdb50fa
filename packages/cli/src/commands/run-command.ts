// `spout run`'s work, loaded only when the command runs (see run.ts for its options).
import { existsSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import {
  eventSink,
  type JobSummary,
  jsonlSink,
  type PipelineOptions,
  type PluginOption,
  prepareResume,
  type RequestDefaults,
  runPipeline,
  type SpoutPlugin,
  templatePrompt,
} from '@spout/core'
import { CliError, exitCodes } from '../cli-error.ts'
import type { CommandContext } from '../command-context.ts'
import { configPath, firstLine, loadConfig } from '../config.ts'
import { resolveConnection } from '../connection.ts'
import {
  describeError,
  isModelNotFound,
  isUnreachable,
  missingModelMessage,
  unreachableMessage,
} from '../describe-error.ts'
import { formatCount } from '../format.ts'
import { hostSummaryLines } from '../host-lines.ts'
import { countRecords, openInput } from '../input.ts'
import { inputLineErrors } from '../input-line-error.ts'
import { JobDisplay } from '../job-display.ts'
import { loadPlugin } from '../load-plugin.ts'
import {
  parseFormat,
  parseInteger,
  parseKeepAlive,
  parseOptionPairs,
  parseThink,
  readTextFile,
} from '../request-options.ts'
import { colorEnabled, createStyle, liveTerminal } from '../style.ts'
import type { RunFlags } from './run.ts'
import { runOnQueue } from './run-queue.ts'
import { hubSink, modelDigests, resumeCommand, summaryLine } from './run-shared.ts'
import { runStagesCommand } from './run-stages.ts'
import { hostSpecs, openTarget } from './run-target.ts'
import { abortOnInterrupt, requireModel } from './shared.ts'

/** `spout run`: resolves to the exit code. */
export async function runCommand(
  inputArgument: string | undefined,
  flags: RunFlags,
  context: CommandContext,
): Promise<number> {
  const { io } = context
  const loaded = await loadConfig(io.cwd, flags.config)
  if (loaded.config.stages) return runStagesCommand(inputArgument, flags, context, loaded)
  const { config } = loaded
  const input = inputArgument ?? configPath(loaded, 'input')
  if (input === undefined)
    throw new CliError('no input: pass a file (or - for stdin), or set "input" in spout.config')

  const model = requireModel(flags.model ?? config.model, 'run')
  const api = flags.api ?? config.api
  const hosts = await hostSpecs(flags.host, config, io.env, api)
  const concurrencyGiven = (flags.concurrency ?? flags.maxConcurrency ?? config.concurrency) !== undefined
  const concurrency = parseInteger(
    flags.concurrency ?? flags.maxConcurrency ?? config.concurrency ?? 1,
    '--concurrency',
    1,
  )
  const retries =
    flags.retries !== undefined || config.retries !== undefined
      ? parseInteger(flags.retries ?? config.retries ?? 0, '--retries', 0)
      : undefined
  const system = flags.systemFile
    ? await readTextFile(flags.systemFile, '--system-file', io.cwd)
    : (flags.system ?? config.system)
  const template = flags.templateFile
    ? await readTextFile(flags.templateFile, '--template-file', io.cwd)
    : (flags.template ?? config.template)
  const think = parseThink(flags.think ?? config.think)
  const format = await parseFormat(flags.format ?? config.format, io.cwd)
  const formatRetries =
    flags.formatRetries !== undefined || config.formatRetries !== undefined
      ? parseInteger(flags.formatRetries ?? config.formatRetries ?? 0, '--format-retries', 0)
      : undefined
  const keepAlive = parseKeepAlive(flags.keepAlive ?? config.keepAlive)
  const options = { ...config.options, ...parseOptionPairs(flags.option ?? []) }
  // Without --chat the pipeline picks per record: chat for records with "messages", else generate.
  const chat = flags.chat ?? config.chat ?? false
  const idField = flags.idField ?? config.idField

  // Where the dataset goes: a file, or stdout when it is not a terminal.
  flags.output ??= configPath(loaded, 'output')
  const outputPath =
    flags.output === undefined || flags.output === '-' ? undefined : resolve(io.cwd, flags.output)
  if (flags.output === undefined && io.stdout.isTTY) {
    throw new CliError('stdout is a terminal: pass -o <file.jsonl> (or pipe the output somewhere)')
  }
  if (flags.resume && !outputPath) throw new CliError('--resume needs -o <file.jsonl>: the file to resume')

  const source = await openInput(input, { cwd: io.cwd, stdin: io.stdin, format: flags.inputFormat })
  const broadcast = flags.broadcast ? hubSink(flags.broadcast, flags.token ?? io.env.SPOUT_TOKEN) : undefined
  const plugins: PluginOption[] = []
  for (const specifier of flags.plugin ?? []) plugins.push(await loadPlugin(specifier, io.cwd))

  // Terminal manners: live display only on a terminal; plain lines otherwise; nothing with --quiet.
  const quiet = flags.quiet === true
  const showProgress = !quiet && flags.progress !== false
  // The live display needs the terminal to itself: not when the dataset goes to it (`-o -`).
  const live = liveTerminal(io) && outputPath !== undefined
  const style = createStyle(live && colorEnabled(io.stderr, io.env))
  const say = (line: string) => {
    if (!quiet) io.stderr.write(`${line}\n`)
  }

  // A .gguf model (or --api llama-cpp) loads in this process; else one server (Ollama, or an
  // OpenAI-compatible one: `--api openai`, or a host ending in /v1), or a pool of servers when several
  // are given: is it there, has it the model? One line naming the URL (or the file) and the fix,
  // before reading the input.
  const target = await openTarget(model, api, hosts, {
    cwd: io.cwd,
    sequences: concurrency,
    options,
    concurrency: concurrencyGiven ? concurrency : undefined,
    connection: resolveConnection(flags, config),
    openai: { host: flags.host?.[0], apiKey: flags.apiKey, configuredHost: config.host, env: io.env },
  })
  const client = target.client
  const serverApi = target.api
  // With --queue the workers generate: a collector that runs none needs no server.
  const workers = flags.queue ? parseInteger(flags.workers ?? 1, '--workers', 0) : 0
  if (flags.workers !== undefined && !flags.queue) throw new CliError('--workers needs --queue <redis-url>')
  try {
    if (!flags.queue || workers > 0) await target.connect(model)

    let skip: Set<string> | undefined
    if (flags.resume && outputPath && existsSync(outputPath)) {
      const state = await prepareResume(outputPath).catch((error: unknown) => {
        throw new CliError(`cannot resume from ${flags.output}: ${firstLine(error)}`, { cause: error })
      })
      skip = state.done
      say(
        `spout: resuming ${flags.output}: ${state.kept} done${state.dropped > 0 ? `, ${state.dropped} failed or torn lines dropped (retrying them)` : ''}`,
      )
    }
    const total = showProgress ? await countRecords(source) : undefined

    const controller = new AbortController()
    let stopReason: 'interrupted' | 'model-missing' | 'unreachable' | undefined
    let stopMessage = ''
    let cancelled = 0
    let malformedLines = 0
    const stop = (reason: 'model-missing' | 'unreachable', message: string) => {
      if (stopReason) return
      stopReason = reason
      stopMessage = message
      controller.abort(new CliError(message))
    }
    // A record that got no answer (after its retries) does not prove Ollama went away: the server may
    // have taken the connection and dropped it for this record alone. So ask Ollama; when it answers,
    // the record has failed (its line holds the error) and the job goes on; when it does not, every
    // next record would fail the same way: stop. Records that fail together share one question.
    let probe: Promise<void> | undefined
    const checkOllama = (): Promise<void> => {
      if (stopReason) return Promise.resolve()
      probe ??= target.probe(controller.signal).then((reason) => {
        probe = undefined
        if (reason !== undefined) stop('unreachable', unreachableMessage(target.label, reason, serverApi))
      })
      return probe
    }

    const display = new JobDisplay({
      stream: io.stderr,
      mode: !showProgress ? 'silent' : live ? 'live' : 'plain',
      style,
      layout: (concurrency === 1 && !target.hosts) || total === 1 ? 'stream' : 'panel',
      ...(target.hosts ? { hosts: target.hosts } : {}),
      showFailures: !quiet,
      // The command reports these itself, in one line.
      hideFailure: (error) =>
        isModelNotFound(error) || (isUnreachable(error) && stopReason === 'unreachable'),
    })
    // A record that got no answer reaches the display once Ollama has been asked: a failure line for
    // it alone, or none when the job stops with the one "cannot reach Ollama" line.
    const displaySink = eventSink(
      async (event) => {
        if (event.type === 'record-end' && event.error && isUnreachable(event.error)) await checkOllama()
        display.onEvent(event)
      },
      { name: 'spout-cli-display' },
    )
    const serverCheck: SpoutPlugin = {
      name: 'spout-cli-server-check',
      async recordEnd(result) {
        if (result.error?.code === 'SPOUT_ABORTED') cancelled += 1
        if (result.error?.code === 'SPOUT_INPUT_ERROR') malformedLines += 1
        if (!result.error || stopReason) return
        // Ollama answers 404 when the model is missing: stop at the first one, not one error per record.
        if (isModelNotFound(result.error))
          stop('model-missing', missingModelMessage(result.model || model, target.label, serverApi))
        else if (isUnreachable(result.error)) await checkOllama()
      },
    }
    // 130 after Ctrl-C, 143 after SIGTERM: the first signal decides.
    const interruption = abortOnInterrupt(io, controller, () => {
      stopReason ??= 'interrupted'
      display.finish()
      say(
        'spout: interrupted: stopping (in-flight records are cancelled, the output stays resumable); Ctrl-C again to quit now',
      )
    })

    const request: RequestDefaults = {}
    if (think !== undefined) request.think = think
    if (format !== undefined) request.format = format
    if (keepAlive !== undefined) request.keep_alive = keepAlive
    if (Object.keys(options).length > 0) request.options = options

    const run = flags.queue
      ? (pipeline: PipelineOptions) =>
          runOnQueue(pipeline, {
            url: flags.queue!,
            workers,
            resume: flags.resume === true,
            ...(system === undefined ? {} : { system }),
            ...(template === undefined ? {} : { template }),
            warn: (message) => display.log(`spout: warning: ${message}`),
          })
      : runPipeline
    let summary: JobSummary
    try {
      summary = await run({
        client,
        model,
        request,
        input: source.records(),
        ...(chat ? { endpoint: 'chat' as const } : {}),
        concurrency,
        ...(retries === undefined ? {} : { retries }),
        ...(formatRetries === undefined ? {} : { formatRetries }),
        modelDigest:
          target.lister && (!flags.queue || workers > 0) ? await modelDigests(target.lister) : undefined,
        ...(idField === undefined ? {} : { idField }),
        ...(skip ? { skip } : {}),
        ...(total === undefined ? {} : { total }),
        name: flags.name ?? (source.path ? basename(source.path) : 'stdin'),
        signal: controller.signal,
        logger: {
          info: (message: string) => {
            if (!quiet) display.log(`spout: ${message}`)
          },
          warn: (message: string) => {
            if (!quiet) display.log(`spout: warning: ${message}`)
          },
        },
        plugins: [
          inputLineErrors(),
          system !== undefined || template !== undefined ? templatePrompt({ system, template }) : undefined,
          config.plugins,
          plugins,
          jsonlSink(outputPath ?? io.stdout, { append: flags.resume === true }),
          displaySink,
          serverCheck,
          broadcast,
        ],
      })
    } catch (error) {
      display.finish()
      throw error
    } finally {
      interruption.stop()
    }
    display.finish()

    if (stopReason === 'model-missing') throw new CliError(stopMessage)
    if (stopReason === 'unreachable') {
      io.stderr.write(`spout: ${stopMessage}\n`)
      if (outputPath) say(`spout: then resume with: ${resumeCommand(context.argv)}`)
      return exitCodes.usage
    }
    if (summary.error && !summary.interrupted) {
      const described = describeError(summary.error, { host: target.label, model, api: serverApi })
      throw new CliError(summary.error.message.split('\n')[0] ?? described.message)
    }
    if (!quiet) io.stderr.write(summaryLine(summary, cancelled, outputPath ? flags.output : undefined) + '\n')
    if (!quiet && summary.hosts) for (const line of hostSummaryLines(summary.hosts)) say(line)
    if (summary.interrupted || stopReason === 'interrupted') {
      if (outputPath) say(`spout: resume with: ${resumeCommand(context.argv)}`)
      else say('spout: the output went to stdout; write it with -o <file> to be able to resume')
      return interruption.exitCode
    }
    if (summary.failed > 0) {
      // A resume sends the failed records again; a malformed line fails again until it is fixed.
      if (malformedLines > 0)
        say(
          `spout: ${formatCount(malformedLines)} malformed input line${malformedLines === 1 ? '' : 's'}: fix ${malformedLines === 1 ? 'it' : 'them'} in ${source.label}`,
        )
      if (outputPath) say(`spout: ${summary.failed} failed; run again with --resume to retry only those`)
      return exitCodes.failed
    }
    return exitCodes.ok
  } finally {
    await target.close()
  }
}
