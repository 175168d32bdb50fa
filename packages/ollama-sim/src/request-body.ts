import type { IncomingMessage } from 'node:http'

/**
 * Request bodies read and checked the way Ollama's Go handlers do (gin ShouldBindJSON →
 * encoding/json): the same 400 texts for a missing body, bad JSON and wrong field types.
 */

export type FieldType = 'string' | 'bool' | 'number' | 'array' | 'object' | 'any'
export type BodyResult = { ok: true; body: Record<string, unknown> } | { ok: false; message: string }

export function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = []
    request.on('data', (part: Buffer) => parts.push(part))
    request.on('end', () => resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts)))
    request.on('error', reject)
  })
}

const goTypeOf = (value: unknown): string => {
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'boolean') return 'bool'
  return typeof value
}

function decoderMessage(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : String(error)
  if (/end of JSON input|Unterminated/i.test(message)) return 'unexpected EOF'
  const position = /position (\d+)/.exec(message)
  const character = position ? text[Number(position[1])] : /Unexpected token '?(.)/.exec(message)?.[1]
  return `invalid character '${character ?? '?'}' looking for beginning of value`
}

function checkType(value: unknown, type: FieldType): boolean {
  if (value === null || type === 'any') return true
  switch (type) {
    case 'string':
      return typeof value === 'string'
    case 'bool':
      return typeof value === 'boolean'
    case 'number':
      return typeof value === 'number'
    case 'array':
      return Array.isArray(value)
    case 'object':
      return typeof value === 'object' && !Array.isArray(value)
  }
}

const goFieldTypes: Record<FieldType, string> = {
  string: 'string',
  bool: 'bool',
  number: 'int',
  array: '[]',
  object: 'map[string]interface {}',
  any: 'interface {}',
}

/** Parses a body into an object and checks the typed fields, with Go's decoder messages. */
export function parseBody(raw: Buffer, structName: string, fields: Record<string, FieldType>): BodyResult {
  const text = raw.toString('utf8')
  if (text.trim() === '') return { ok: false, message: 'missing request body' }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    return { ok: false, message: decoderMessage(error, text) }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    if (value === null) return { ok: true, body: {} }
    return {
      ok: false,
      message: `json: cannot unmarshal ${goTypeOf(value)} into Go value of type api.${structName}`,
    }
  }
  const body = value as Record<string, unknown>
  for (const [field, type] of Object.entries(fields)) {
    const member = body[field]
    if (member !== undefined && !checkType(member, type)) {
      return {
        ok: false,
        message: `json: cannot unmarshal ${goTypeOf(member)} into Go struct field ${structName}.${field} of type ${goFieldTypes[type]}`,
      }
    }
  }
  return { ok: true, body }
}

/** Checks chat messages: objects with string `role` and `content`. */
export function checkMessages(messages: unknown[]): string | undefined {
  for (const message of messages) {
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      return `json: cannot unmarshal ${goTypeOf(message)} into Go struct field ChatRequest.messages of type api.Message`
    }
    for (const field of ['role', 'content'] as const) {
      const member = (message as Record<string, unknown>)[field]
      if (member !== undefined && member !== null && typeof member !== 'string') {
        return `json: cannot unmarshal ${goTypeOf(member)} into Go struct field ChatRequest.messages.${field} of type string`
      }
    }
  }
  return undefined
}

const durationUnits: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
}

/** Go's time.ParseDuration, in milliseconds. */
export function parseGoDuration(text: string): number | { error: string } {
  if (text === '0' || text === '+0' || text === '-0') return 0
  const match = /^([-+]?)((?:\d*\.?\d+(?:ns|us|µs|ms|s|m|h))+)$/.exec(text)
  if (!match) {
    if (/^[-+]?\d*\.?\d+$/.test(text)) return { error: `time: missing unit in duration "${text}"` }
    return { error: `time: invalid duration "${text}"` }
  }
  let total = 0
  for (const part of match[2]!.matchAll(/(\d*\.?\d+)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(part[1]) * durationUnits[part[2]!]!
  }
  return match[1] === '-' ? -total : total
}

/**
 * `keep_alive` as Ollama reads it: a number of seconds or a Go duration string.
 * Returns milliseconds (negative = forever), `undefined` when absent, or an error text.
 */
export function parseKeepAlive(value: unknown): number | undefined | { error: string } {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'number') return value * 1000
  if (typeof value === 'string') return parseGoDuration(value)
  const goType = Array.isArray(value)
    ? '[]interface {}'
    : typeof value === 'boolean'
      ? 'bool'
      : 'map[string]interface {}'
  return { error: `Unsupported type: '${goType}'` }
}

/** `think` as Ollama reads it; `undefined` when absent. */
export function parseThink(value: unknown): boolean | string | undefined | { error: string } {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'boolean') return value
  if (typeof value === 'string') {
    if (['low', 'medium', 'high', 'max'].includes(value)) return value
    return {
      error: `invalid think value: "${value}" (must be "high", "medium", "low", "max", true, or false)`,
    }
  }
  return { error: `think must be a boolean or string, got ${goTypeOf(value)}` }
}
