import type { Random } from './random.ts'

/**
 * Structured outputs: with `format: "json"` or a JSON schema, the answer is JSON text built from the
 * schema (every property, in order) and cut into small tokens, as a constrained model would write it.
 */

type Schema = { type?: unknown; properties?: unknown; items?: unknown; enum?: unknown }

const phraseWords = [
  'blue',
  'light',
  'river',
  'café',
  'naïve',
  '東京',
  '🚀',
  'über',
  'quick',
  'fox',
  'data',
  '—',
  'résumé',
]

function phrase(random: Random): string {
  const words: string[] = []
  const count = random.between(1, 4)
  for (let index = 0; index < count; index++) words.push(random.pick(phraseWords))
  return words.join(' ')
}

function valueFor(schema: Schema, random: Random, depth: number): unknown {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return random.pick(schema.enum)
  const type = Array.isArray(schema.type) ? schema.type.find((item) => item !== 'null') : schema.type
  switch (type) {
    case 'integer':
      return random.between(0, 100)
    case 'number':
      return random.between(0, 10_000) / 100
    case 'boolean':
      return random.next() % 2 === 0
    case 'null':
      return null
    case 'array': {
      const items = (typeof schema.items === 'object' && schema.items !== null ? schema.items : {}) as Schema
      const length = depth > 3 ? 0 : random.between(1, 3)
      return Array.from({ length }, () => valueFor(items, random, depth + 1))
    }
    case 'object': {
      const result: Record<string, unknown> = {}
      const properties =
        typeof schema.properties === 'object' && schema.properties !== null ? schema.properties : {}
      if (depth > 3) return result
      for (const [key, member] of Object.entries(properties)) {
        result[key] = valueFor(
          (typeof member === 'object' && member !== null ? member : {}) as Schema,
          random,
          depth + 1,
        )
      }
      return result
    }
    default:
      return phrase(random)
  }
}

/** Whether a request's `format` asks for structured output (`"json"` or a schema object). */
export function isStructuredFormat(format: unknown): boolean {
  return format === 'json' || (typeof format === 'object' && format !== null && !Array.isArray(format))
}

/** The JSON answer for a format, cut into tokens of 1 to 6 characters (never inside a character). */
export function structuredTokens(format: unknown, random: Random): string[] {
  const schema: Schema =
    format === 'json' ? { type: 'object', properties: { answer: { type: 'string' } } } : (format as Schema)
  const value = valueFor(
    schema.type === undefined && schema.properties ? { ...schema, type: 'object' } : schema,
    random,
    0,
  )
  const characters = Array.from(JSON.stringify(value))
  const tokens: string[] = []
  for (let index = 0; index < characters.length; ) {
    const size = random.between(1, 6)
    tokens.push(characters.slice(index, index + size).join(''))
    index += size
  }
  return tokens
}
