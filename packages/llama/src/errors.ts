// The failures of loading and running a GGUF model in process: typed, one line each, saying which file.

import { SpoutError } from '@spout/core'

export type LlamaErrorCode =
  | 'SPOUT_MODEL_NOT_FOUND'
  | 'SPOUT_NOT_GGUF'
  | 'SPOUT_UNSUPPORTED_ARCHITECTURE'
  | 'SPOUT_MODEL_LOAD'
  | 'SPOUT_CONTEXT_TOO_SMALL'
  | 'SPOUT_INVALID_FORMAT'

/** A model file could not be used: missing, not GGUF, an architecture llama.cpp lacks, or it failed to load. */
export class ModelFileError extends SpoutError {
  override name = 'ModelFileError'
  /** The `.gguf` path as given. */
  readonly path: string

  constructor(init: {
    code: Exclude<LlamaErrorCode, 'SPOUT_CONTEXT_TOO_SMALL' | 'SPOUT_INVALID_FORMAT'>
    path: string
    message: string
    cause?: unknown
  }) {
    super(init.code, `[${init.path}] ${init.message}`, { cause: init.cause })
    this.path = init.path
  }
}

/** The prompt (after the chat template) does not fit the context of one sequence. */
export class ContextTooSmallError extends SpoutError {
  override name = 'ContextTooSmallError'
  readonly path: string
  /** Tokens of the templated prompt. */
  readonly promptTokens: number
  /** Tokens one sequence holds. */
  readonly contextSize: number

  constructor(init: { path: string; promptTokens: number; contextSize: number }) {
    super(
      'SPOUT_CONTEXT_TOO_SMALL',
      `[${init.path}] the prompt is ${init.promptTokens} tokens, the context holds ${init.contextSize}` +
        ' (raise num_ctx or shorten the prompt)',
    )
    this.path = init.path
    this.promptTokens = init.promptTokens
    this.contextSize = init.contextSize
  }
}

/** `format` is neither `"json"` nor a JSON schema node-llama-cpp can turn into a grammar. */
export class FormatError extends SpoutError {
  override name = 'FormatError'
  readonly path: string

  constructor(init: { path: string; cause: unknown }) {
    const reason = init.cause instanceof Error ? init.cause.message : String(init.cause)
    super('SPOUT_INVALID_FORMAT', `[${init.path}] format: cannot make a grammar of this schema: ${reason}`, {
      cause: init.cause,
    })
    this.path = init.path
  }
}
