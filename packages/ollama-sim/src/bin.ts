#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { type Chunking, chunkingModes, parseFaultSpec } from './faults.ts'
import type { ModelCapability, SimModel } from './models.ts'
import { startSimulator } from './server.ts'

const help = `Usage: ollama-sim [options]

An Ollama-compatible HTTP server for tests, benchmarks and demos (not a model).
Prints its URL on stdout once it listens; stops on SIGINT/SIGTERM.

Options:
  --port <n>                  port to listen on (default 11434; 0 = any free port)
  --host <address>            address to bind (default 127.0.0.1)
  --tokens-per-second <n>     chunks per second per stream (default 0 = no delay)
  --first-token-delay <ms>    delay before headers and the first line (default 0)
  --num-parallel <n>          requests generating at once (default $OLLAMA_NUM_PARALLEL or 1)
  --max-queue <n>             requests that may wait; beyond it a 503 (default $OLLAMA_MAX_QUEUE or 512)
  --chunking <mode>           line | byte | random | coalesce (default line)
  --fault <spec>              fault for every generate/chat request, e.g. midstream-error,after=3
  --model <name[=caps]>       serve this model instead of the defaults (repeatable),
                              e.g. --model mistral:7b --model qwen3=completion,thinking,tools
  --ollama-version <text>     what /api/version answers (default 0.12.6)
  -h, --help                  show this help
`

function integer(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback
  const value = Number(text)
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number ≥ 0, got "${text}"`)
  return value
}

function parseModel(text: string): SimModel {
  const [name = '', capabilities] = text.split('=')
  if (name === '') throw new Error(`--model needs a name, got "${text}"`)
  return capabilities ? { name, capabilities: capabilities.split(/[,+]/) as ModelCapability[] } : { name }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '11434' },
      host: { type: 'string', default: '127.0.0.1' },
      'tokens-per-second': { type: 'string' },
      'first-token-delay': { type: 'string' },
      'num-parallel': { type: 'string' },
      'max-queue': { type: 'string' },
      chunking: { type: 'string' },
      fault: { type: 'string' },
      model: { type: 'string', multiple: true },
      'ollama-version': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (values.help) {
    process.stdout.write(help)
    return
  }
  const chunking = values.chunking ?? 'line'
  if (!(chunkingModes as readonly string[]).includes(chunking)) {
    throw new Error(`--chunking must be one of ${chunkingModes.join(', ')}, got "${chunking}"`)
  }
  const simulator = await startSimulator({
    host: values.host,
    port: integer('port', values.port, 11434),
    tokensPerSecond: integer('tokens-per-second', values['tokens-per-second'], 0),
    firstTokenDelayMs: integer('first-token-delay', values['first-token-delay'], 0),
    numParallel: integer('num-parallel', values['num-parallel'] ?? process.env.OLLAMA_NUM_PARALLEL, 1),
    maxQueue: integer('max-queue', values['max-queue'] ?? process.env.OLLAMA_MAX_QUEUE, 512),
    chunking: chunking as Chunking,
    fault: values.fault ? parseFaultSpec(values.fault) : undefined,
    models: values.model?.map(parseModel),
    version: values['ollama-version'],
  })
  process.stdout.write(simulator.url + '\n')
  const stop = (): void => {
    simulator.close().then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main().catch((error: unknown) => {
  process.stderr.write(`ollama-sim: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
})
