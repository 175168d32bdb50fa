import type { IncomingMessage, ServerResponse } from 'node:http'
import type { SimCounters } from './counters.ts'
import type { Chunking, FaultMemory, FaultSpec } from './faults.ts'
import type { LoadedModels } from './loaded-models.ts'
import type { ModelRegistry } from './models.ts'
import type { SlotQueue } from './queue.ts'

/** Everything a route handler shares with the rest of the simulator. */
export interface SimulatorState {
  tokensPerSecond: number
  firstTokenDelayMs: number
  chunking: Chunking
  fault: FaultSpec | undefined
  version: string
  models: ModelRegistry
  loaded: LoadedModels
  queue: SlotQueue
  counters: SimCounters
  faultMemory: FaultMemory
}

/** One request being answered. */
export interface Exchange {
  request: IncomingMessage
  response: ServerResponse
  /** Aborts when the client closes the connection before the reply ended. */
  signal: AbortSignal
  /** `performance.now()` when the request arrived. */
  startedAt: number
  /** Destroys the connection on purpose (drop, flaky-connect); this is not a cancellation. */
  destroySocket(): void
}

export type RouteHandler = (exchange: Exchange, state: SimulatorState) => void | Promise<void>
