// The in-process backend for `-m ./model.gguf` (or `--api llama-cpp`): @spout/llama is imported only
// here, only when asked, so other commands start as fast as before and an Ollama-only install
// never needs llama.cpp.

import { resolve } from 'node:path'
import type { Backend } from '@spout/core'
import { SpoutError } from '@spout/core/errors'
import type { Options } from '@spout/core/ollama'
import { CliError } from './cli-error.ts'

/** The backends `--api` names. */
export const apis = ['ollama', 'openai', 'llama-cpp'] as const
export type Api = (typeof apis)[number]

/** In process when `--api llama-cpp`, or when the model is a `.gguf` path and no other API is named. */
export function usesLlama(model: string, api: string | undefined): boolean {
  if (api !== undefined) return api === 'llama-cpp'
  return model.toLowerCase().endsWith('.gguf')
}

export const llamaMissingMessage =
  'a .gguf model runs in process with @spout/llama, which is not installed: npm install -g @spout/llama (next to @spout/cli)'

export interface LlamaBackendHandle extends Backend {
  close(): Promise<void>
}

export interface OpenLlamaOptions {
  cwd: string
  /** Records at once (`-c`): the context's sequences. */
  sequences: number
  /** `--option` values: `num_ctx`, `num_thread` and `num_gpu: 0` (CPU only) are load-time here. */
  options: Options
  /** Tests replace the import to see the not-installed message. */
  importLlama?: () => Promise<typeof import('@spout/llama')>
}

/** Loads the model (a `ModelFileError` becomes a one-line usage error naming the file). */
export async function openLlama(model: string, options: OpenLlamaOptions): Promise<LlamaBackendHandle> {
  let llama: typeof import('@spout/llama')
  try {
    llama = await (options.importLlama ?? (() => import('@spout/llama')))()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes('@spout/llama')) {
      throw new CliError(llamaMissingMessage, { cause: error })
    }
    throw error
  }
  const { num_ctx, num_thread, num_gpu } = options.options
  const backend = new llama.LlamaBackend({
    model: resolve(options.cwd, model),
    sequences: options.sequences,
    ...(num_ctx === undefined ? {} : { contextSize: num_ctx }),
    ...(num_thread === undefined ? {} : { threads: num_thread }),
    ...(num_gpu === 0 ? { gpu: false as const } : {}),
  })
  try {
    await backend.load()
  } catch (error) {
    throw new CliError((error as Error).message, {
      cause: error,
      ...(error instanceof SpoutError ? { code: error.code } : {}),
    })
  }
  return backend
}
