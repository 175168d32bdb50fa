// Loads one GGUF model into one context with K sequences, turning each way it can fail into a
// typed one-line error that names the file. llama.cpp's own log lines never reach the console:
// the last error lines are kept to explain a failed load.

import { open } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { getLlama, type Llama, type LlamaContext, type LlamaModel } from 'node-llama-cpp'
import { ModelFileError } from './errors.ts'

/** `auto` uses a GPU when node-llama-cpp has a build for it (CUDA, Vulkan, Metal), else the CPU. */
export type GpuOption = 'auto' | 'cuda' | 'vulkan' | 'metal' | false

export interface LoadOptions {
  /** Path of the `.gguf` file. */
  model: string
  /** Sequences in the context: records generated at once. */
  sequences: number
  /** Tokens per sequence. Default: the model's training context, at most 4096 (Ollama's default). */
  contextSize?: number
  /** CPU threads. Default: `os.availableParallelism()`. */
  threads?: number
  gpu?: GpuOption
}

export interface LoadedModel {
  llama: Llama
  model: LlamaModel
  context: LlamaContext
  /** Nanoseconds spent loading the model and creating the context. */
  loadDuration: number
}

const defaultContextSize = 4096

async function checkFile(path: string): Promise<void> {
  let header: Buffer
  try {
    const file = await open(path, 'r')
    try {
      header = Buffer.alloc(4)
      const { bytesRead } = await file.read(header, 0, 4, 0)
      header = header.subarray(0, bytesRead)
    } finally {
      await file.close()
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      throw new ModelFileError({ code: 'SPOUT_MODEL_NOT_FOUND', path, message: 'no such file', cause: error })
    }
    const message = code === 'EISDIR' ? 'a directory, not a GGUF file' : (error as Error).message
    throw new ModelFileError({ code: 'SPOUT_NOT_GGUF', path, message, cause: error })
  }
  if (header.toString('latin1') !== 'GGUF') {
    throw new ModelFileError({
      code: 'SPOUT_NOT_GGUF',
      path,
      message: `not a GGUF file (starts with ${JSON.stringify(header.toString('latin1'))}, expected "GGUF")`,
    })
  }
}

/** The last few warnings and errors llama.cpp logged: the reason of a failed load is among them. */
class LogTail {
  readonly #lines: string[] = []

  push(level: string, message: string): void {
    if (level !== 'error' && level !== 'warn' && level !== 'fatal') return
    this.#lines.push(message.trim())
    if (this.#lines.length > 20) this.#lines.shift()
  }

  find(pattern: RegExp): RegExpMatchArray | undefined {
    for (let index = this.#lines.length - 1; index >= 0; index--) {
      const match = this.#lines[index]!.match(pattern)
      if (match) return match
    }
    return undefined
  }
}

function loadError(path: string, error: unknown, logs: LogTail): ModelFileError {
  const architecture = logs.find(/unknown model architecture: '([^']*)'/)
  if (architecture) {
    return new ModelFileError({
      code: 'SPOUT_UNSUPPORTED_ARCHITECTURE',
      path,
      message: `llama.cpp does not support the architecture "${architecture[1]}" (a newer node-llama-cpp may)`,
      cause: error,
    })
  }
  const reason = logs.find(/error loading model: (.*)/)?.[1] ?? (error as Error).message
  return new ModelFileError({
    code: 'SPOUT_MODEL_LOAD',
    path,
    message: `cannot load: ${reason}`,
    cause: error,
  })
}

const runtimes = new Map<string, Promise<{ llama: Llama; logs: LogTail }>>()

/** One llama.cpp runtime per GPU choice and thread count in this process: loading it takes seconds. */
function runtime(gpu: GpuOption, threads: number): Promise<{ llama: Llama; logs: LogTail }> {
  const key = `${gpu}/${threads}`
  let found = runtimes.get(key)
  if (!found) {
    const logs = new LogTail()
    found = getLlama({
      gpu,
      build: 'never',
      maxThreads: threads,
      logger: (level, message) => logs.push(level, message),
    }).then((llama) => ({ llama, logs }))
    found.catch(() => runtimes.delete(key))
    runtimes.set(key, found)
  }
  return found
}

/** Loads the model and creates its context; fails with a `ModelFileError` naming the file. */
export async function loadModel(options: LoadOptions): Promise<LoadedModel> {
  const started = process.hrtime.bigint()
  const path = options.model
  await checkFile(path)
  const threads = options.threads ?? availableParallelism()
  const gpu = options.gpu ?? 'auto'
  let llama: Llama
  let logs: LogTail
  try {
    ;({ llama, logs } = await runtime(gpu, threads))
  } catch (error) {
    const message = `no llama.cpp binary for this machine (${(error as Error).message}); see docs/guide/llama-cpp.md`
    throw new ModelFileError({ code: 'SPOUT_MODEL_LOAD', path, message, cause: error })
  }
  let model: LlamaModel
  try {
    model = await llama.loadModel({ modelPath: path })
  } catch (error) {
    throw loadError(path, error, logs)
  }
  try {
    const context = await model.createContext({
      sequences: options.sequences,
      contextSize: options.contextSize ?? Math.min(model.trainContextSize, defaultContextSize),
      threads,
    })
    return { llama, model, context, loadDuration: Number(process.hrtime.bigint() - started) }
  } catch (error) {
    await model.dispose()
    const message = `cannot create a context of ${options.sequences} sequence(s): ${(error as Error).message}`
    throw new ModelFileError({ code: 'SPOUT_MODEL_LOAD', path, message, cause: error })
  }
}
