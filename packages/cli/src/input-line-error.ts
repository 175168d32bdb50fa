import { type InputRecord, PluginError, type SpoutPlugin } from '@spout/core'

/**
 * A malformed input line (bad JSON, a CSV row with the wrong number of columns): that record fails
 * alone, with code `SPOUT_INPUT_ERROR` and a message naming the file and line; the rest runs.
 *
 * The pipeline records whatever a `buildPrompt` hook throws as that record's failure. It wraps
 * other errors as `SPOUT_PLUGIN_ERROR`, but passes a `PluginError` through as it is: so this is one,
 * with the input's code and message.
 */
export class InputLineError extends PluginError {
  override name = 'InputLineError'
  override readonly code = 'SPOUT_INPUT_ERROR'

  constructor(message: string) {
    super({ plugin: inputLineErrorPluginName, hook: 'buildPrompt', cause: new Error(message) })
    this.message = message
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
