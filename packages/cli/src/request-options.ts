import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Format, Options, Think } from '@spout/core/ollama'
import { CliError } from './cli-error.ts'

/** Ollama model options whose value is a list; `--option stop=A --option stop=B` collects them. */
const listOptions = new Set(['stop'])

/**
 * Turns repeated `--option key=value` flags into Ollama's `options` object. Values are typed:
 * numbers stay numbers, `true`/`false` are booleans, JSON arrays and objects are parsed, anything
 * else is a string.
 */
export function parseOptionPairs(pairs: readonly string[]): Options {
  const options: Record<string, unknown> = {}
  for (const pair of pairs) {
    const equals = pair.indexOf('=')
    if (equals <= 0) throw new CliError(`--option expects key=value, got "${pair}"`)
    const key = pair.slice(0, equals).trim()
    const value = parseOptionValue(pair.slice(equals + 1))
    if (Object.hasOwn(Object.prototype, key)) {
      throw new CliError(`--option ${key}: not an Ollama model option`)
    }
    if (listOptions.has(key)) {
      const existing = options[key]
      const values = Array.isArray(value) ? value : [value]
      options[key] = Array.isArray(existing) ? [...existing, ...values] : values
    } else {
      options[key] = value
    }
  }
  return options as Options
}

/** `"42"` → 42, `"0.7"` → 0.7, `"true"` → true, `'["a"]'` → ['a'], `"hello"` → 'hello'. */
export function parseOptionValue(text: string): unknown {
  const trimmed = text.trim()
  if (trimmed === '') return ''
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(trimmed)) return Number(trimmed)
  if (trimmed === 'true') return true
  if (trimmed === 'false') return false
  if (trimmed === 'null') return null
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    try {
      return JSON.parse(trimmed) as unknown
    } catch {
      return text
    }
  }
  return text
}

/** `--think` → true, `--think high` → 'high', `--no-think` → false. */
export function parseThink(value: string | boolean | undefined): Think | undefined {
  if (value === undefined || typeof value === 'boolean') return value
  const lowered = value.toLowerCase()
  if (lowered === 'true' || lowered === '') return true
  if (lowered === 'false') return false
  if (lowered === 'low' || lowered === 'medium' || lowered === 'high' || lowered === 'max') return lowered
  throw new CliError(`--think expects low, medium, high or max (or no value), got "${value}"`)
}

/**
 * `--format json` → 'json'; `--format schema.json` → the schema object read from the file;
 * `--format '{"type":"object",…}'` → the inline schema.
 */
export async function parseFormat(
  value: string | Record<string, unknown> | undefined,
  cwd: string,
): Promise<Format | undefined> {
  if (value === undefined || typeof value === 'object') return value
  if (value === 'json') return 'json'
  const text = value.trim().startsWith('{') ? value : await readSchemaFile(value, cwd)
  let schema: unknown
  try {
    schema = JSON.parse(text)
  } catch (error) {
    throw new CliError(`--format ${value}: not valid JSON (${(error as Error).message})`)
  }
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new CliError(`--format ${value}: a JSON schema must be an object`)
  }
  return schema as Record<string, unknown>
}

async function readSchemaFile(path: string, cwd: string): Promise<string> {
  try {
    return await readFile(resolve(cwd, path), 'utf8')
  } catch {
    throw new CliError(`--format expects "json" or a JSON schema file; cannot read ${path}`)
  }
}

/** `--keep-alive 5m` → '5m', `--keep-alive 0` → 0, `--keep-alive -1` → -1 (Ollama's forms). */
export function parseKeepAlive(value: string | number | undefined): string | number | undefined {
  if (value === undefined || typeof value === 'number') return value
  return /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value.trim()
}

/** Parses a whole number of at least `minimum`, or throws a usage error naming the flag. */
export function parseInteger(value: string | number, flag: string, minimum: number): number {
  const number = typeof value === 'number' ? value : Number(value)
  if (!Number.isInteger(number) || number < minimum) {
    throw new CliError(`${flag} expects a whole number ≥ ${minimum}, got "${value}"`)
  }
  return number
}

/** Reads a `--system-file` / `--template-file`, or throws a usage error. */
export async function readTextFile(path: string, flag: string, cwd: string): Promise<string> {
  try {
    return await readFile(resolve(cwd, path), 'utf8')
  } catch {
    throw new CliError(`${flag}: cannot read ${path}`)
  }
}
