import { createServer } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { createCounters, resetCounters, type SimCounters } from './counters.ts'
import type { SimulatorState } from './exchange.ts'
import { type Chunking, chunkingModes, FaultMemory, type FaultSpec, faultNames } from './faults.ts'
import { LoadedModels } from './loaded-models.ts'
import { defaultModels, ModelRegistry, type SimModel } from './models.ts'
import { SlotQueue } from './queue.ts'
import { routeRequests } from './router.ts'
import { type ExpectedRequest, type ExpectedResponse, expectedResponse } from './text.ts'

export interface SimulatorOptions {
  /** Default `'127.0.0.1'`. */
  host?: string
  /** Default `0` (a free port). */
  port?: number
  /** Default: `llama3.2:latest` (completion), `qwen3:latest` (completion, thinking, tools), `nomic-embed-text:latest` (embedding). */
  models?: SimModel[]
  /** Chunks per second per stream; default `0` = no delay between chunks. */
  tokensPerSecond?: number
  /** Delay before the headers and first line (model load + prompt evaluation); default `0`. */
  firstTokenDelayMs?: number
  /** Requests generating at once (OLLAMA_NUM_PARALLEL); default `1`. */
  numParallel?: number
  /** Requests that may wait for a slot (OLLAMA_MAX_QUEUE); beyond it a 503. Default `512`. */
  maxQueue?: number
  /** A fault applied to every generate/chat request (a directive in the prompt overrides it). */
  fault?: FaultSpec
  /** How NDJSON (and `/v1` SSE) bytes are cut into socket writes; default `'line'`. */
  chunking?: Chunking
  /** What `/api/version` answers; default `'0.12.6'`. */
  version?: string
}

export interface Simulator {
  /** `http://HOST:PORT`. */
  readonly url: string
  readonly host: string
  readonly port: number
  /** Live counters. */
  readonly counters: SimCounters
  resetCounters(): void
  /** Forgets how often each `times=K` fault has hit. */
  resetFaults(): void
  /** `expectedResponse` with this simulator's models and global fault. */
  expectedResponse(request: ExpectedRequest): ExpectedResponse
  /** Stops listening and destroys open connections. */
  close(): Promise<void>
}

function checkOption(name: string, value: number, minimum: number): number {
  if (!Number.isFinite(value) || value < minimum)
    throw new RangeError(`${name} must be a number ≥ ${minimum}, got ${value}`)
  return value
}

/** The simulator's settings and live state, from its options (checked: a bad one throws a RangeError). */
function simulatorState(options: SimulatorOptions, models: SimModel[]): SimulatorState {
  const chunking = options.chunking ?? 'line'
  if (!chunkingModes.includes(chunking)) {
    throw new RangeError(`chunking must be one of ${chunkingModes.join(', ')}`)
  }
  if (options.fault && !faultNames.includes(options.fault.name)) {
    throw new RangeError(`fault.name must be one of ${faultNames.join(', ')}, got "${options.fault.name}"`)
  }
  return {
    tokensPerSecond: checkOption('tokensPerSecond', options.tokensPerSecond ?? 0, 0),
    firstTokenDelayMs: checkOption('firstTokenDelayMs', options.firstTokenDelayMs ?? 0, 0),
    chunking,
    fault: options.fault,
    version: options.version ?? '0.12.6',
    models: new ModelRegistry(models),
    loaded: new LoadedModels(),
    queue: new SlotQueue(options.numParallel ?? 1, options.maxQueue ?? 512),
    counters: createCounters(),
    faultMemory: new FaultMemory(),
  }
}

/** Starts an Ollama-compatible server; resolves once it listens. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const models = options.models ?? [...defaultModels]
  const state = simulatorState(options, models)
  const sockets = new Set<Socket>()

  const server = createServer(routeRequests(state))
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })

  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  const urlHost = host.includes(':') ? `[${host}]` : host
  let closing: Promise<void> | undefined

  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    counters: state.counters,
    resetCounters: () => resetCounters(state.counters),
    resetFaults: () => state.faultMemory.clear(),
    expectedResponse: (request) =>
      expectedResponse(request, { models, directives: state.fault ? { fault: state.fault } : {} }),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      })
      return closing
    },
  }
}
