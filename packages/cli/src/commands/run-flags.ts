// The flags of `spout run` as commander hands them to the command (strings: each is parsed where
// it is used). Its own file: the command modules read it without importing the registration back.
import type { ConnectionFlags } from '../connection.ts'
import type { InputFormat } from '../input-format.ts'

export interface RunFlags extends ConnectionFlags {
  model?: string
  api?: string
  apiKey?: string
  /** Repeatable: several make a pool. */
  host?: string[]
  output?: string
  concurrency?: string
  maxConcurrency?: string
  system?: string
  systemFile?: string
  template?: string
  templateFile?: string
  idField?: string
  inputFormat?: InputFormat
  chat?: boolean
  think?: string | boolean
  format?: string
  formatRetries?: string
  option?: string[]
  keepAlive?: string
  retries?: string
  resume?: boolean
  plugin?: string[]
  config?: string
  broadcast?: string
  readAhead?: string
  token?: string
  quiet?: boolean
  progress?: boolean
  name?: string
  queue?: string
  workers?: string
}
