// @spout/llama/testing: a tiny GGUF model for tests and benchmarks (random weights, real llama.cpp).

export type { GgufFile, GgufScalar, GgufTensor, GgufValue } from './gguf-writer.ts'
export { encodeGguf } from './gguf-writer.ts'
export type { TinyModelShape } from './tiny-model.ts'
export { tinyModelBytes, tinyModelPath, tinyModelShape } from './tiny-model.ts'
