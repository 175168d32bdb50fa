// What `spout run` will do, decided from its flags and the config alone: no server is asked and no
// input is read (only the files the flags name: --system-file, --template-file, a --format schema).
import { resolve } from 'node:path'
import type { RequestDefaults } from '@spout/core'
import type { Options } from '@spout/core/ollama'
import { CliError } from '../cli-error.ts'
import { configPath, type LoadedConfig } from '../config.ts'
import type { CliIo } from '../io.ts'
import {
  parseFormat,
  parseInteger,
  parseKeepAlive,
  parseOptionPairs,
  parseThink,
  readTextFile,
} from '../request-options.ts'
import type { RunFlags } from './run-flags.ts'
import { type HostSpec, hostSpecs } from './run-target.ts'
import { requireModel } from './shared.ts'

export interface RunPlan {
  /** The input as given: a path, or `-` for stdin. */
  input: string
  model: string
  api: string | undefined
  hosts: HostSpec[]
  /** Records in flight (`-c`, the config's, else 1); `concurrencyGiven` tells whether it was asked for. */
  concurrency: number
  concurrencyGiven: boolean
  retries: number | undefined
  formatRetries: number | undefined
  /** The prompt template's parts, when given (a `templatePrompt` then builds each request). */
  system: string | undefined
  template: string | undefined
  /** Model options: the config's, then each `--option`. */
  options: Options
  /** Default request fields: think, format, keep_alive, options. */
  request: RequestDefaults
  /** Every record through `/api/chat` (`--chat`); else the pipeline picks per record. */
  chat: boolean
  idField: string | undefined
  /** The output as given (`-o`, or the config's); undefined or `-` is stdout. */
  output: string | undefined
  /** The output file's absolute path; undefined for stdout. */
  outputPath: string | undefined
  resume: boolean
  quiet: boolean
  /** Progress on stderr: unless `--quiet` or `--no-progress`. */
  showProgress: boolean
  /** A live display: stderr is a terminal and the dataset does not go to it. */
  live: boolean
}

/** The plan of a `spout run` without stages; throws a `CliError` for what the flags get wrong. */
export async function planRun(
  inputArgument: string | undefined,
  flags: RunFlags,
  loaded: LoadedConfig,
  io: CliIo,
  liveTerminal: boolean,
): Promise<RunPlan> {
  const { config } = loaded
  const input = inputArgument ?? configPath(loaded, 'input')
  if (input === undefined)
    throw new CliError('no input: pass a file (or - for stdin), or set "input" in spout.config')
  const model = requireModel(flags.model ?? config.model, 'run')
  const api = flags.api ?? config.api
  const hosts = await hostSpecs(flags.host, config, io.env, api)
  const concurrencyFlag = flags.concurrency ?? flags.maxConcurrency ?? config.concurrency
  const concurrency = parseInteger(concurrencyFlag ?? 1, '--concurrency', 1)
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
  const request = await requestDefaults(flags, loaded, io.cwd)
  const formatRetries =
    flags.formatRetries !== undefined || config.formatRetries !== undefined
      ? parseInteger(flags.formatRetries ?? config.formatRetries ?? 0, '--format-retries', 0)
      : undefined
  // Where the dataset goes: a file, or stdout when it is not a terminal.
  const output = flags.output ?? configPath(loaded, 'output')
  const outputPath = output === undefined || output === '-' ? undefined : resolve(io.cwd, output)
  if (output === undefined && io.stdout.isTTY) {
    throw new CliError('stdout is a terminal: pass -o <file.jsonl> (or pipe the output somewhere)')
  }
  if (flags.resume && !outputPath) throw new CliError('--resume needs -o <file.jsonl>: the file to resume')
  const quiet = flags.quiet === true
  return {
    input,
    model,
    api,
    hosts,
    concurrency,
    concurrencyGiven: concurrencyFlag !== undefined,
    retries,
    formatRetries,
    system,
    template,
    options: request.options ?? {},
    request,
    chat: flags.chat ?? config.chat ?? false,
    idField: flags.idField ?? config.idField,
    output,
    outputPath,
    resume: flags.resume === true,
    quiet,
    showProgress: !quiet && flags.progress !== false,
    // The live display needs the terminal to itself: not when the dataset goes to it (`-o -`).
    live: liveTerminal && outputPath !== undefined,
  }
}

/** think, format, keep_alive and the model options, from the flags over the config. */
async function requestDefaults(flags: RunFlags, loaded: LoadedConfig, cwd: string): Promise<RequestDefaults> {
  const { config } = loaded
  const think = parseThink(flags.think ?? config.think)
  const format = await parseFormat(flags.format ?? config.format, cwd)
  const keepAlive = parseKeepAlive(flags.keepAlive ?? config.keepAlive)
  const options = { ...config.options, ...parseOptionPairs(flags.option ?? []) }
  const request: RequestDefaults = {}
  if (think !== undefined) request.think = think
  if (format !== undefined) request.format = format
  if (keepAlive !== undefined) request.keep_alive = keepAlive
  if (Object.keys(options).length > 0) request.options = options
  return request
}
