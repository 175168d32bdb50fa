/**
 * JSON text as Go's encoding/json writes it: compact, keys in the order given, strings coerced to
 * well-formed UTF-8, and `<` `>` `&` U+2028 U+2029 escaped as `\u003c` `\u003e` `\u0026` `\u2028` `\u2029`.
 */

const goEscapes: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
}

const goEscapable = /[<>&\u2028\u2029]/
const goEscapableAll = /[<>&\u2028\u2029]/g
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const loneSurrogateAll = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/** A JSON string literal (with quotes) exactly as Go's json.Marshal writes it. */
export function goString(value: string): string {
  const wellFormed = loneSurrogate.test(value) ? value.replace(loneSurrogateAll, '\uFFFD') : value
  const quoted = JSON.stringify(wellFormed)
  return goEscapable.test(quoted)
    ? quoted.replace(goEscapableAll, (character) => goEscapes[character]!)
    : quoted
}

/** Any JSON value encoded like Go: object keys in insertion order, `undefined` members left out. */
export function goJson(value: unknown): string {
  if (typeof value === 'string') return goString(value)
  if (value === null || value === undefined) return 'null'
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null'
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (Array.isArray(value)) return '[' + value.map((item) => goJson(item)).join(',') + ']'
  if (typeof value === 'object') {
    const parts: string[] = []
    for (const [key, member] of Object.entries(value)) {
      if (member === undefined) continue
      parts.push(goString(key) + ':' + goJson(member))
    }
    return '{' + parts.join(',') + '}'
  }
  return 'null'
}
