import type { InputRecord, SpoutPlugin } from '@spout/core'
import { RecordError } from '@spout/core/errors'

/**
 * A malformed input line (bad JSON, a CSV row with the wrong number of columns): that record fails
 * alone, with code `SPOUT_INPUT_ERROR` and a message naming the file and line; the rest runs.
 *
 * The pipeline records whatever a `buildPrompt` hook throws as that record's failure. It wraps
 * most errors as `SPOUT_PLUGIN_ERROR`, but passes a `RecordError` through as it is: so this is one,
 * with the input's code and message.
 */
export class InputLineError extends RecordError {
  override name = 'InputLineError'

  constructor(message: string) {
    super('SPOUT_INPUT_ERROR', message)
  }
}

const inputLineErrorPluginName = 'spout-cli-input-errors'
/** The error of each record that stands for a malformed line (the record itself is empty). */
const lineErrors = new WeakMap<InputRecord, InputLineError>()

/** The record that stands for a malformed line in the input: it fails with `message` when its turn comes. */
export function malformedLine(message: string): InputRecord {
  const record: InputRecord = {}
  lineErrors.set(record, new InputLineError(message))
  return record
}

/** The error of a record from {@link malformedLine}, else undefined. */
export function lineError(record: InputRecord): InputLineError | undefined {
  return lineErrors.get(record)
}

/** Fails the records that stand for malformed lines, before any other prompt builder sees them. */
export function inputLineErrors(): SpoutPlugin {
  return {
    name: inputLineErrorPluginName,
    buildPrompt: {
      order: 'pre',
      handler(request, record) {
        const error = lineError(record as InputRecord)
        if (error) throw error
        return request
      },
    },
  }
}
