import type { GenerateRequest, Options } from '@spout/core/ollama'
import type { Command } from 'commander'
import { CliError, exitCodes } from '../cli-error.ts'
import type { CommandContext } from '../command-context.ts'
import { type ConnectionFlags, resolveConnection } from '../connection.ts'
import { describeError } from '../describe-error.ts'
import { resolveHost } from '../host.ts'
import { type CliIo, write } from '../io.ts'
import { openLlama, usesLlama } from '../llama.ts'
import { createOpenAIClient, usesOpenAI } from '../openai.ts'
import {
  parseFormat,
  parseKeepAlive,
  parseOptionPairs,
  parseThink,
  readTextFile,
} from '../request-options.ts'
import { colorEnabled, createStyle } from '../style.ts'
import {
  abortOnInterrupt,
  apiKeyOption,
  apiOption,
  collect,
  hostOption,
  modelOption,
  requireModel,
} from './shared.ts'

interface GenerateFlags extends ConnectionFlags {
  model?: string
  api?: string
  apiKey?: string
  host?: string
  system?: string
  systemFile?: string
  think?: string | boolean
  format?: string
  option?: string[]
  keepAlive?: string
  json?: boolean
}

export function registerGenerate(program: Command, context: CommandContext): void {
  program
    .command('generate')
    .alias('gen')
    .description('Generate one response, streamed to stdout as it arrives (like `ollama run` with a prompt).')
    .argument('[prompt...]', 'the prompt (default: read from stdin; - also means stdin)')
    .addOption(modelOption())
    .addOption(apiOption())
    .addOption(apiKeyOption())
    .addOption(hostOption())
    .option('-s, --system <text>', 'system prompt')
    .option('--system-file <path>', 'read the system prompt from a file')
    .option(
      '--think [level]',
      'let thinking models think (optionally low, medium or high); thinking goes to stderr',
    )
    .option('--no-think', 'ask thinking models not to think')
    .option('--format <json|schema.json>', 'structured output: "json" or a JSON schema file')
    .option('--option <key=value>', 'model option, repeatable; numbers stay numbers (e.g. seed=42)', collect)
    .option('--keep-alive <duration>', 'how long Ollama keeps the model loaded (e.g. 10m)')
    .option('--json', "print Ollama's raw chunk objects as NDJSON instead of text")
    .addHelpText(
      'after',
      `
Examples:
  $ spout generate -m llama3.2 "Why is the sky blue?"
  $ spout gen -m qwen3 --think "How many r's in strawberry?" 2>thinking.txt
  $ echo "Summarise: $(cat notes.md)" | spout gen -m llama3.2
  $ spout gen -m llama3.2 --format json --option temperature=0 "Three colours as a JSON array"
  $ spout gen -m llama3.2 --json "Hi" | jq -r .response
  $ spout gen -m ./models/qwen3-0.6b.gguf --option seed=1 "Hi"    (in process, no server)`,
    )
    .action(async (words: string[], flags: GenerateFlags) => {
      context.exitCode = await generateCommand(words, flags, context)
    })
}

/** The prompt: the words given, or stdin when there are none (or just `-`). */
async function readPrompt(words: string[], io: CliIo): Promise<string> {
  let prompt: string
  if (words.length === 0 || (words.length === 1 && words[0] === '-')) {
    if (io.stdin.isTTY) throw new CliError('no prompt: pass it as arguments, or pipe it to stdin')
    prompt = (await readAll(io.stdin)).replace(/\r?\n$/, '')
  } else {
    prompt = words.join(' ')
  }
  if (prompt.trim() === '') throw new CliError('the prompt is empty')
  return prompt
}

/** The one request `spout generate` sends, from its flags. */
async function generateRequest(
  model: string,
  prompt: string,
  options: Options,
  flags: GenerateFlags,
  cwd: string,
): Promise<GenerateRequest & { stream: true }> {
  const system = flags.systemFile ? await readTextFile(flags.systemFile, '--system-file', cwd) : flags.system
  const think = parseThink(flags.think)
  const format = await parseFormat(flags.format, cwd)
  const keepAlive = parseKeepAlive(flags.keepAlive)
  return {
    model,
    prompt,
    stream: true,
    ...(system === undefined ? {} : { system }),
    ...(think === undefined ? {} : { think }),
    ...(format === undefined ? {} : { format }),
    ...(keepAlive === undefined ? {} : { keep_alive: keepAlive }),
    ...(Object.keys(options).length > 0 ? { options } : {}),
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return Buffer.concat(chunks).toString('utf8')
}

export async function generateCommand(
  words: string[],
  flags: GenerateFlags,
  context: CommandContext,
): Promise<number> {
  const { io } = context
  const model = requireModel(flags.model, 'generate')
  const host = await resolveHost(flags.host, undefined, io.env)
  const prompt = await readPrompt(words, io)
  const options = parseOptionPairs(flags.option ?? [])
  const request = await generateRequest(model, prompt, options, flags, io.cwd)
  const dim = createStyle(colorEnabled(io.stderr, io.env)).dim

  // Loaded when the command runs: `spout --help` does not pay for undici (nor llama.cpp).
  const openai = !usesLlama(model, flags.api) && usesOpenAI(flags.api, flags.host)
  const client = usesLlama(model, flags.api)
    ? await openLlama(model, { cwd: io.cwd, sequences: 1, options })
    : openai
      ? await createOpenAIClient(flags, undefined, io.env, resolveConnection(flags))
      : new (await import('@spout/core')).OllamaClient({ host, ...resolveConnection(flags) })
  const controller = new AbortController()
  const interruption = abortOnInterrupt(io, controller)
  let wroteText = false
  let endsWithNewline = true
  let thinkingOpen = false
  try {
    const stream = client.generate(request, { signal: controller.signal })
    for await (const chunk of stream) {
      if (flags.json) {
        await write(io.stdout, `${JSON.stringify(chunk)}\n`)
        continue
      }
      if (chunk.thinking) {
        thinkingOpen = true
        io.stderr.write(dim(chunk.thinking))
      }
      if (chunk.response) {
        if (thinkingOpen) {
          io.stderr.write('\n\n')
          thinkingOpen = false
        }
        wroteText = true
        endsWithNewline = chunk.response.endsWith('\n')
        await write(io.stdout, chunk.response)
      }
    }
    if (thinkingOpen) io.stderr.write('\n')
    if (wroteText && !endsWithNewline) await write(io.stdout, '\n')
    return exitCodes.ok
  } catch (error) {
    if (thinkingOpen) io.stderr.write('\n')
    if (wroteText && !endsWithNewline) io.stdout.write('\n')
    if (interruption.interrupted) return interruption.exitCode
    const described = describeError(error, { host: client.host, model, api: openai ? 'openai' : 'ollama' })
    io.stderr.write(`spout: ${described.message}\n`)
    return described.exitCode
  } finally {
    interruption.stop()
    await client.close()
  }
}
