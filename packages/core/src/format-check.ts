import { Ajv, type ValidateFunction } from 'ajv'
import { FormatError, type FormatFailure, SpoutError } from './errors.ts'

/** What the check found: the parsed value, or why the response is refused. */
export type FormatOutcome = { ok: true; parsed: unknown } | { ok: false; error: FormatError }

/**
 * Checks responses against a request's `format`: `"json"` asks for any JSON value, a schema object
 * for JSON that the schema accepts (checked with ajv, JSON Schema draft-07 keywords; unknown
 * keywords are ignored, as Ollama ignores them). Each schema object is compiled once.
 */
export class FormatChecker {
  /** Built at the first schema: a run without one never pays for ajv's meta-schemas. */
  #ajv: Ajv | undefined
  readonly #compiled = new WeakMap<object, ValidateFunction>()

  /** True when `format` asks for structured output (`"json"` or a schema object). */
  static applies(format: unknown): format is 'json' | Record<string, unknown> {
    return format === 'json' || (typeof format === 'object' && format !== null && !Array.isArray(format))
  }

  /**
   * Compiles a schema ahead of the first response, so a broken schema fails the job before any
   * request (code `SPOUT_INVALID_OPTION`).
   */
  prepare(format: unknown): void {
    if (typeof format === 'object' && format !== null) this.#validator(format)
  }

  check(
    format: 'json' | Record<string, unknown>,
    response: string,
    doneReason: string | null,
    recordId: string,
  ): FormatOutcome {
    if (doneReason === 'length') {
      return refuse(
        'length',
        recordId,
        'response cut off at the token limit (done_reason "length"): the JSON is incomplete; raise num_predict or num_ctx',
      )
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(response)
    } catch (error) {
      return refuse('invalid-json', recordId, `response is not valid JSON (${(error as Error).message})`)
    }
    if (format === 'json') return { ok: true, parsed }
    const validate = this.#validator(format)
    if (validate(parsed)) return { ok: true, parsed }
    const first = validate.errors?.[0]
    const path = first?.instancePath ?? ''
    const detail = first?.message ?? 'does not match'
    return refuse('schema', recordId, `response does not match the schema at ${path || '/'}: ${detail}`, path)
  }

  #validator(schema: object): ValidateFunction {
    let validate = this.#compiled.get(schema)
    if (!validate) {
      // `$schema` names a dialect ajv may not have loaded (2020-12); Ollama ignores it too.
      const { $schema: _dialect, ...body } = schema as Record<string, unknown>
      try {
        this.#ajv ??= new Ajv({ strict: false, allErrors: false, validateFormats: false })
        validate = this.#ajv.compile(body)
      } catch (error) {
        throw new SpoutError(
          'SPOUT_INVALID_OPTION',
          `format: not a usable JSON schema (${(error as Error).message})`,
          { cause: error },
        )
      }
      this.#compiled.set(schema, validate)
    }
    return validate
  }
}

function refuse(failure: FormatFailure, recordId: string, detail: string, path?: string): FormatOutcome {
  const init: ConstructorParameters<typeof FormatError>[0] = { failure, recordId, detail }
  if (path !== undefined) init.path = path
  return { ok: false, error: new FormatError(init) }
}
