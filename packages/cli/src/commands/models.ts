import type { OllamaClient } from '@spout/core'
import type { Command } from 'commander'
import { exitCodes } from '../cli-error.ts'
import type { CommandContext } from '../command-context.ts'
import { type ConnectionFlags, resolveConnection } from '../connection.ts'
import { describeError } from '../describe-error.ts'
import { formatBytes, formatRelativeTime, formatTable } from '../format.ts'
import { resolveHost } from '../host.ts'
import { write } from '../io.ts'
import { createOpenAIClient, usesOpenAI } from '../openai.ts'
import { apiKeyOption, apiOption, hostOption } from './shared.ts'

interface ListFlags extends ConnectionFlags {
  host?: string
  json?: boolean
  api?: string
  apiKey?: string
}

/** Runs `body` with a client, turning errors into one line and an exit code. */
async function withClient(
  context: CommandContext,
  flags: { host?: string } & ConnectionFlags,
  model: string | undefined,
  body: (client: OllamaClient) => Promise<void>,
): Promise<number> {
  const host = await resolveHost(flags.host, undefined, context.io.env)
  // Loaded when the command runs: `spout --help` does not pay for undici.
  const { OllamaClient } = await import('@spout/core')
  const client = new OllamaClient({ host, ...resolveConnection(flags) })
  try {
    await body(client)
    return exitCodes.ok
  } catch (error) {
    const described = describeError(error, { host: client.host, model })
    context.io.stderr.write(`spout: ${described.message}\n`)
    return described.exitCode
  } finally {
    await client.close()
  }
}

export function registerModels(program: Command, context: CommandContext): void {
  const { io } = context
  program
    .command('models')
    .alias('list')
    .description(
      'List the models Ollama has downloaded: name, size, parameters, quantization (with --api openai: what /v1/models lists).',
    )
    .addOption(hostOption())
    .addOption(apiOption().choices(['ollama', 'openai']))
    .addOption(apiKeyOption())
    .option('--json', "print the server's answer as JSON")
    .addHelpText(
      'after',
      '\nExamples:\n  $ spout models\n  $ spout models --json | jq -r ".models[].name"\n  $ spout models --host http://gpu-box:8000/v1    (an OpenAI-compatible server: vLLM, llama.cpp, LM Studio)',
    )
    .action(async (flags: ListFlags) => {
      if (usesOpenAI(flags.api, flags.host)) {
        context.exitCode = await listOpenAIModels(context, flags)
        return
      }
      context.exitCode = await withClient(context, flags, undefined, async (client) => {
        const list = await client.list()
        if (flags.json) return write(io.stdout, `${JSON.stringify(list, null, 2)}\n`)
        const rows = list.models.map((entry) => [
          entry.name,
          formatBytes(entry.size),
          entry.details?.parameter_size || '-',
          entry.details?.quantization_level || '-',
          formatRelativeTime(entry.modified_at),
        ])
        await write(io.stdout, formatTable(['NAME', 'SIZE', 'PARAMETERS', 'QUANTIZATION', 'MODIFIED'], rows))
      })
    })

  program
    .command('ps')
    .description('List the models loaded in memory now, and until when.')
    .addOption(hostOption())
    .option('--json', "print Ollama's answer as JSON")
    .addHelpText('after', '\nExamples:\n  $ spout ps\n  $ spout ps --host http://gpu-box:11434')
    .action(async (flags: ListFlags) => {
      context.exitCode = await withClient(context, flags, undefined, async (client) => {
        const running = await client.ps()
        if (flags.json) return write(io.stdout, `${JSON.stringify(running, null, 2)}\n`)
        const rows = running.models.map((entry) => [
          entry.name,
          formatBytes(entry.size),
          processorShare(entry.size, entry.size_vram),
          entry.context_length === undefined ? '-' : String(entry.context_length),
          formatRelativeTime(entry.expires_at),
        ])
        await write(io.stdout, formatTable(['NAME', 'SIZE', 'PROCESSOR', 'CONTEXT', 'UNTIL'], rows))
      })
    })

  program
    .command('show')
    .description(
      "Show a model's details: architecture, parameters, context length, capabilities, system prompt.",
    )
    .argument('<model>', 'model name')
    .addOption(hostOption())
    .option('--json', "print Ollama's answer as JSON")
    .option('--modelfile', 'print the Modelfile only')
    .addHelpText(
      'after',
      '\nExamples:\n  $ spout show llama3.2\n  $ spout show qwen3 --json | jq .capabilities',
    )
    .action(async (model: string, flags: ListFlags & { modelfile?: boolean }) => {
      context.exitCode = await withClient(context, flags, model, async (client) => {
        const details = await client.show({ model })
        if (flags.json) return write(io.stdout, `${JSON.stringify(details, null, 2)}\n`)
        if (flags.modelfile) return write(io.stdout, details.modelfile ?? '')
        await write(io.stdout, formatShow(details))
      })
    })
}

/** `spout models --api openai`: `GET /v1/models` as a table (ID, OWNED BY, CREATED) or JSON. */
async function listOpenAIModels(context: CommandContext, flags: ListFlags): Promise<number> {
  const { io } = context
  const client = await createOpenAIClient(flags, undefined, io.env, resolveConnection(flags))
  try {
    const list = await client.models()
    if (flags.json) await write(io.stdout, `${JSON.stringify(list, null, 2)}\n`)
    else {
      const rows = list.data.map((entry) => [
        entry.id,
        entry.owned_by || '-',
        entry.created ? formatRelativeTime(new Date(entry.created * 1000).toISOString()) : '-',
      ])
      await write(io.stdout, formatTable(['ID', 'OWNED BY', 'CREATED'], rows))
    }
    return exitCodes.ok
  } catch (error) {
    const described = describeError(error, { host: client.host, api: 'openai' })
    io.stderr.write(`spout: ${described.message}\n`)
    return described.exitCode
  } finally {
    await client.close()
  }
}

/** `100% GPU`, `48%/52% CPU/GPU`, `100% CPU`, like `ollama ps`. */
function processorShare(size: number, vram: number | undefined): string {
  if (!size) return '-'
  const gpu = Math.round(((vram ?? 0) / size) * 100)
  if (gpu >= 100) return '100% GPU'
  if (gpu <= 0) return '100% CPU'
  return `${100 - gpu}%/${gpu}% CPU/GPU`
}

interface ShowLike {
  details?: { family?: string; parameter_size?: string; quantization_level?: string; format?: string }
  model_info?: Record<string, unknown>
  capabilities?: string[]
  parameters?: string
  system?: string
  license?: string
}

/** The sections `ollama show` prints. */
export function formatShow(details: ShowLike): string {
  const info = details.model_info ?? {}
  const architecture =
    typeof info['general.architecture'] === 'string' ? info['general.architecture'] : undefined
  const lookup = (suffix: string) => (architecture ? info[`${architecture}.${suffix}`] : undefined)
  const section = (title: string, rows: [string, unknown][]) => {
    const present = rows.filter(([, value]) => value !== undefined && value !== null && value !== '')
    if (present.length === 0) return ''
    const width = Math.max(...present.map(([key]) => key.length))
    return `  ${title}\n${present.map(([key, value]) => `    ${key.padEnd(width)}    ${String(value)}`).join('\n')}\n\n`
  }
  let output = section('Model', [
    ['architecture', architecture ?? details.details?.family],
    ['parameters', details.details?.parameter_size],
    ['context length', lookup('context_length')],
    ['embedding length', lookup('embedding_length')],
    ['quantization', details.details?.quantization_level],
  ])
  if (details.capabilities?.length) {
    output += `  Capabilities\n${details.capabilities.map((capability) => `    ${capability}`).join('\n')}\n\n`
  }
  if (details.parameters) {
    const rows = details.parameters
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line): [string, unknown] => {
        const [key = '', ...rest] = line.split(/\s+/)
        return [key, rest.join(' ')]
      })
    output += section('Parameters', rows)
  }
  if (details.system) output += `  System\n${indent(details.system)}\n\n`
  if (details.license) {
    const lines = details.license.trim().split('\n').slice(0, 2)
    output += `  License\n${indent(lines.join('\n'))}\n\n`
  }
  return output
}

function indent(text: string): string {
  return text
    .trim()
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n')
}
