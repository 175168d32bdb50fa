import type { Timeouts } from '@spout/core'
import { type Command, Option } from 'commander'
import { CliError } from './cli-error.ts'
import { collect } from './commands/shared.ts'

/** The flags every command that talks to a server takes (`--connect-timeout`, …, `--header`). */
export interface ConnectionFlags {
  connectTimeout?: string
  firstByteTimeout?: string
  idleTimeout?: string
  header?: string[]
}

/** What the config file may say about connections; the flags override it key by key. */
export interface ConnectionConfig {
  timeouts?: Timeouts
  headers?: Record<string, string>
}

/** The client options that follow: only the keys something set. */
export interface ConnectionOptions {
  timeouts?: Timeouts
  headers?: Record<string, string>
}

const timeoutFlags = [
  ['connectTimeout', '--connect-timeout', 'connect', 'until the connection is up (default 10s)'],
  [
    'firstByteTimeout',
    '--first-byte-timeout',
    'firstByte',
    'until the response starts: model load and prompt evaluation (default 10m)',
  ],
  ['idleTimeout', '--idle-timeout', 'idle', 'longest silence inside a streaming response (default 5m)'],
] as const

/** Adds the timeout and header flags to a command, in their own help group, after its other options. */
export function addConnectionOptions(command: Command): Command {
  command.optionsGroup('Connection:')
  for (const [, flag, , description] of timeoutFlags) {
    command.addOption(new Option(`${flag} <duration>`, `${description}; 0 = none; e.g. 30s, 2m, 1500 (ms)`))
  }
  return command.addOption(
    new Option(
      '--header <header>',
      'extra request header "Name: value", e.g. a token for a proxy in front of Ollama (repeatable)',
    ).argParser(collect),
  )
}

/** Timeouts and headers from the flags over the config file's `timeouts` and `headers`. */
export function resolveConnection(flags: ConnectionFlags, config: ConnectionConfig = {}): ConnectionOptions {
  const resolved: ConnectionOptions = {}
  const timeouts: Timeouts = { ...config.timeouts }
  for (const [key, flag, name] of timeoutFlags) {
    const value = flags[key]
    if (value !== undefined) timeouts[name] = parseDuration(value, flag)
  }
  if (Object.keys(timeouts).length > 0) resolved.timeouts = timeouts
  const headers: Record<string, string> = { ...config.headers }
  for (const header of flags.header ?? []) {
    const [name, value] = parseHeader(header)
    headers[name] = value
  }
  if (Object.keys(headers).length > 0) resolved.headers = headers
  return resolved
}

const units: Record<string, number> = { '': 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** `1500`, `1500ms`, `30s`, `2m`, `1h` → milliseconds (whole, ≥ 0). */
export function parseDuration(value: string, flag: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value)
  const unit = units[match?.[2] ?? '']
  if (!match || unit === undefined) {
    throw new CliError(`${flag} must be a duration like 30s, 2m or 1500 (ms), got "${value}"`)
  }
  return Math.round(Number(match[1]) * unit)
}

/** `Name: value` → `[name, value]`, refusing what HTTP would refuse. */
export function parseHeader(header: string): [string, string] {
  const colon = header.indexOf(':')
  const name = header.slice(0, colon).trim()
  const value = header.slice(colon + 1).trim()
  if (colon < 1 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(value)) {
    throw new CliError(`--header must look like "Name: value", got "${header}"`)
  }
  return [name, value]
}
