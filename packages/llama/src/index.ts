// @spout/llama: generation inside this process from a GGUF file, on node-llama-cpp; a Backend for
// Spout's pipeline next to the Ollama and OpenAI-compatible clients.

export type { LlamaErrorCode } from './errors.ts'
export { ContextTooSmallError, FormatError, ModelFileError } from './errors.ts'
export type { LlamaBackendOptions } from './llama-backend.ts'
export { LlamaBackend } from './llama-backend.ts'
export type { GpuOption } from './load-model.ts'
