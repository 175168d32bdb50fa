/**
 * Per-request directives: `[sim:fault=NAME,key=value,...]`, `[sim:chunking=byte]`, `[sim:tokens=N]`,
 * `[sim:style=markdown]`
 * anywhere in a generate prompt or in a chat request's last message.
 */

export const faultNames = [
  'midstream-error',
  'drop',
  'http-500',
  'http-503',
  'slow-start',
  'stall',
  'long-line',
  'malformed-line',
  'flaky-connect',
] as const

export type FaultName = (typeof faultNames)[number]

export const chunkingModes = ['line', 'byte', 'random', 'coalesce'] as const

/** How NDJSON bytes are cut into socket writes. */
export type Chunking = (typeof chunkingModes)[number]

/** A fault to inject; the same keys as the directive. */
export interface FaultSpec {
  name: FaultName
  /** Chunks written before the fault hits (midstream-error, drop, stall, malformed-line, long-line). Default 1. */
  after?: number
  /** Milliseconds of delay (slow-start, stall). Default 1000. */
  ms?: number
  /** Length in bytes of the long chunk's text (long-line). Default 1048576. */
  bytes?: number
  /** Hit only the first `times` requests with the same prompt text, then succeed. Default: every request. */
  times?: number
}

/** Everything the directives in one prompt ask for. */
export interface Directives {
  fault?: FaultSpec
  chunking?: Chunking
  /** Exact number of response tokens before `num_predict` applies. */
  tokens?: number
  /** `markdown`: the answer is Markdown (headings, lists, code, a table) instead of plain sentences. */
  style?: TextStyle
}

export const textStyles = ['plain', 'markdown'] as const

/** What the generated answer looks like. */
export type TextStyle = (typeof textStyles)[number]

/** A directive that cannot be understood; the server answers it with a 400. */
export class DirectiveError extends Error {
  override readonly name = 'DirectiveError'
}

const directivePattern = /\[sim:([^\]]*)\]/g
const maximumLongLineBytes = 512 * 1024 * 1024
const maximumTokens = 50_000_000

const isFaultName = (value: string): value is FaultName => (faultNames as readonly string[]).includes(value)
const isChunking = (value: string): value is Chunking => (chunkingModes as readonly string[]).includes(value)

function parseCount(
  key: string,
  value: string,
  directive: string,
  maximum = Number.MAX_SAFE_INTEGER,
): number {
  if (!/^\d+$/.test(value) || Number(value) > maximum) {
    throw new DirectiveError(`sim directive ${directive}: ${key} must be an integer from 0 to ${maximum}`)
  }
  return Number(value)
}

function applyDirective(body: string, result: Directives): void {
  const directive = `[sim:${body}]`
  let fault: FaultSpec | undefined
  const numbers: Partial<Record<'after' | 'ms' | 'bytes' | 'times', number>> = {}
  for (const part of body.split(',')) {
    const pair = part.trim()
    if (pair === '') continue
    const equals = pair.indexOf('=')
    const key = (equals === -1 ? pair : pair.slice(0, equals)).trim()
    const value = equals === -1 ? '' : pair.slice(equals + 1).trim()
    switch (key) {
      case 'fault':
        if (!isFaultName(value)) {
          throw new DirectiveError(
            `sim directive ${directive}: unknown fault "${value}" (one of ${faultNames.join(', ')})`,
          )
        }
        fault = { name: value }
        break
      case 'chunking':
        if (!isChunking(value)) {
          throw new DirectiveError(
            `sim directive ${directive}: chunking must be one of ${chunkingModes.join(', ')}`,
          )
        }
        result.chunking = value
        break
      case 'style':
        if (!(textStyles as readonly string[]).includes(value)) {
          throw new DirectiveError(
            `sim directive ${directive}: style must be one of ${textStyles.join(', ')}`,
          )
        }
        result.style = value as TextStyle
        break
      case 'tokens':
        result.tokens = parseCount(key, value, directive, maximumTokens)
        break
      case 'bytes':
        numbers.bytes = parseCount(key, value, directive, maximumLongLineBytes)
        break
      case 'after':
      case 'ms':
      case 'times':
        numbers[key] = parseCount(key, value, directive)
        break
      default:
        throw new DirectiveError(`sim directive ${directive}: unknown key "${key}"`)
    }
  }
  if (fault) result.fault = { ...fault, ...numbers }
  else if (Object.keys(numbers).length > 0) {
    throw new DirectiveError(
      `sim directive ${directive}: ${Object.keys(numbers).join(', ')} without fault=NAME`,
    )
  }
}

/** Reads every `[sim:...]` directive in `text` (later ones win). Throws DirectiveError on a bad one. */
export function parseDirectives(text: string): Directives {
  const result: Directives = {}
  if (!text.includes('[sim:')) return result
  for (const match of text.matchAll(directivePattern)) applyDirective(match[1]!, result)
  return result
}

/** Parses `NAME,key=value,...` (the bin's `--fault` value) into a FaultSpec. */
export function parseFaultSpec(text: string): FaultSpec {
  const directives = parseDirectives(`[sim:fault=${text}]`)
  return directives.fault!
}

/** The chunk index at which a chunk-counted fault hits. */
export const faultAfter = (fault: FaultSpec): number => fault.after ?? 1

/** Remembers how often each (fault, prompt text) pair has hit, for `times=K`. */
export class FaultMemory {
  readonly #hits = new Map<string, number>()

  /** Whether `fault` hits this request; counts the hit. */
  hits(fault: FaultSpec, promptText: string): boolean {
    if (fault.times === undefined) return true
    const key = fault.name + '\u0000' + promptText
    const count = this.#hits.get(key) ?? 0
    if (count >= fault.times) return false
    this.#hits.set(key, count + 1)
    return true
  }

  clear(): void {
    this.#hits.clear()
  }
}
