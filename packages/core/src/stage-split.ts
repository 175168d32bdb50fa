import { StageError } from './errors.ts'
import type { StageLine } from './stage-state.ts'

// StageError lives with every other error, in errors.ts (re-exported here for the split's tests).
export { StageError }

/** What a stage's response becomes: one record per line, per JSON array element, or what a function returns. */
export type StageSplit<Record = unknown> =
  | 'lines'
  | 'json-array'
  | ((result: StageLine, record: Record) => readonly unknown[])

/** A list marker at the start of a line (`1. `, `2) `, `- `, `* `, `• `). */
const listMarker = /^\s*(?:[-*•]|\d+[.)])\s+/

/**
 * The items a stage's result splits into, in order. `lines`: the non-blank lines, trimmed, list
 * markers removed. `json-array`: the parsed response (with `format`) or the response as JSON, either
 * an array or an object with exactly one array property.
 */
export function splitResult<Record>(
  stage: string,
  split: StageSplit<Record>,
  result: StageLine,
  record: Record,
): unknown[] {
  if (split === 'lines') {
    return result.response
      .split('\n')
      .map((line) => line.replace(listMarker, '').trim())
      .filter((line) => line !== '')
  }
  if (split === 'json-array') return jsonArray(stage, result)
  let items: unknown
  try {
    items = split(result, record)
  } catch (error) {
    throw new StageError('SPOUT_SPLIT_ERROR', stage, `split threw: ${(error as Error)?.message ?? error}`, {
      cause: error,
    })
  }
  if (!Array.isArray(items)) throw new StageError('SPOUT_SPLIT_ERROR', stage, 'split must return an array')
  return items
}

function jsonArray(stage: string, result: StageLine): unknown[] {
  let value = result.parsed
  if (value === undefined) {
    try {
      value = JSON.parse(result.response)
    } catch (error) {
      throw new StageError(
        'SPOUT_SPLIT_ERROR',
        stage,
        `split 'json-array': the response is not JSON (${(error as Error).message})`,
      )
    }
  }
  if (Array.isArray(value)) return value
  if (typeof value === 'object' && value !== null) {
    const arrays = Object.values(value).filter(Array.isArray)
    if (arrays.length === 1) return arrays[0] as unknown[]
  }
  throw new StageError(
    'SPOUT_SPLIT_ERROR',
    stage,
    "split 'json-array': the response is neither a JSON array nor an object with one array",
  )
}

/** A child's id: the parent's, a dot, the prefix and its 1-based position (`topic-3.q2`). */
export function childId(parentId: string, prefix: string, position: number): string {
  return `${parentId}.${prefix}${position}`
}
