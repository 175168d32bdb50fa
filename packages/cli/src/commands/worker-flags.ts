// The flags of `spout worker` as commander hands them to the command. Its own file: the command
// module reads it without importing the registration back.
import type { ConnectionFlags } from '../connection.ts'

export interface WorkerFlags extends ConnectionFlags {
  queue: string
  api?: string
  apiKey?: string
  host?: string[]
  concurrency?: string
  plugin?: string[]
  config?: string
  lockDuration?: string
  stage?: string[]
  quiet?: boolean
}
