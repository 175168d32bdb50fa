// A tiny llama-architecture model for tests and benchmarks: random F32 weights from a seeded
// generator, a SentencePiece-style vocabulary (control tokens, the 256 byte tokens, then pieces),
// and a ChatML chat template. Its text is gibberish, but loading, tokenizing, templating, sampling,
// grammars and streaming are real llama.cpp. Key and tensor names follow llama.cpp's
// gguf-py/gguf/constants.py.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeGguf, type GgufTensor, type GgufValue } from './gguf-writer.ts'

export interface TinyModelShape {
  embedding: number
  layers: number
  heads: number
  feedForward: number
  contextLength: number
  /** Seed of the weights: the same seed writes the same bytes. */
  seed: number
}

export const tinyModelShape: TinyModelShape = {
  embedding: 64,
  layers: 2,
  heads: 4,
  feedForward: 128,
  contextLength: 512,
  seed: 1,
}

/** ChatML, so node-llama-cpp resolves its ChatML wrapper from the file's own template. */
const chatTemplate =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

const tokenType = { normal: 1, unknown: 2, control: 3, byte: 6 } as const

/** `<unk>`, `<s>`, `</s>`, `<|im_start|>`, `<|im_end|>`: the first tokens of the vocabulary. */
const controlTokens = 5

const words = [
  'the',
  'a',
  'and',
  'of',
  'to',
  'in',
  'is',
  'it',
  'sky',
  'blue',
  'sea',
  'tide',
  'rain',
  'sun',
  'light',
  'water',
  'why',
  'how',
  'what',
  'true',
  'false',
  'null',
  'name',
  'answer',
  'hello',
  'world',
]

function vocabulary(): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens: string[] = []
  const scores: number[] = []
  const types: number[] = []
  const add = (token: string, type: number, score = 0) => {
    tokens.push(token)
    types.push(type)
    scores.push(score)
  }
  add('<unk>', tokenType.unknown)
  add('<s>', tokenType.control)
  add('</s>', tokenType.control)
  add('<|im_start|>', tokenType.control)
  add('<|im_end|>', tokenType.control)
  for (let byte = 0; byte < 256; byte++) {
    add(`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`, tokenType.byte)
  }
  const single = ['▁', ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?:;\'"-(){}[]']
  const pieces = [...new Set([...single, ...words.map((word) => `▁${word}`), ...words])]
  // SentencePiece merges towards the higher score: longer pieces win.
  for (const piece of pieces) add(piece, tokenType.normal, piece.length - tokens.length / 1000)
  return { tokens, scores, types }
}

/** mulberry32: a small seeded generator, so the weights are the same on every machine. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let value = state
    value = Math.imul(value ^ (value >>> 15), value | 1)
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61)
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296
  }
}

function tensors(shape: TinyModelShape, vocabSize: number): GgufTensor[] {
  const next = random(shape.seed)
  const weights = (name: string, dims: number[], scale: number): GgufTensor => {
    const data = new Float32Array(dims.reduce((product, dim) => product * dim, 1))
    for (let index = 0; index < data.length; index++) data[index] = (next() * 2 - 1) * scale
    return { name, dims, data }
  }
  const ones = (name: string, size: number): GgufTensor => ({
    name,
    dims: [size],
    data: new Float32Array(size).fill(1),
  })
  const { embedding: embd, feedForward: ff } = shape
  const list = [weights('token_embd.weight', [embd, vocabSize], 1), ones('output_norm.weight', embd)]
  // Control tokens (`</s>`, `<|im_end|>`…) get zero output weights, so their logit sits at the
  // median and top-k sampling seldom picks them: generations run to `num_predict` unless stopped.
  const output = weights('output.weight', [embd, vocabSize], 0.5)
  output.data.fill(0, 0, embd * controlTokens)
  list.push(output)
  for (let block = 0; block < shape.layers; block++) {
    const prefix = `blk.${block}`
    list.push(ones(`${prefix}.attn_norm.weight`, embd))
    for (const part of ['q', 'k', 'v', 'output']) {
      list.push(weights(`${prefix}.attn_${part}.weight`, [embd, embd], 0.2))
    }
    list.push(ones(`${prefix}.ffn_norm.weight`, embd))
    list.push(weights(`${prefix}.ffn_gate.weight`, [embd, ff], 0.2))
    list.push(weights(`${prefix}.ffn_up.weight`, [embd, ff], 0.2))
    list.push(weights(`${prefix}.ffn_down.weight`, [ff, embd], 0.2))
  }
  return list
}

/** The bytes of the tiny model (deterministic: the same shape gives the same bytes). */
export function tinyModelBytes(shape: TinyModelShape = tinyModelShape): Uint8Array {
  const vocab = vocabulary()
  const u32 = (value: number): GgufValue => ({ type: 'uint32', value })
  const f32 = (value: number): GgufValue => ({ type: 'float32', value })
  const metadata = new Map<string, GgufValue>([
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: 'spout-tiny' }],
    ['general.file_type', u32(0)],
    ['llama.vocab_size', u32(vocab.tokens.length)],
    ['llama.context_length', u32(shape.contextLength)],
    ['llama.embedding_length', u32(shape.embedding)],
    ['llama.block_count', u32(shape.layers)],
    ['llama.feed_forward_length', u32(shape.feedForward)],
    ['llama.attention.head_count', u32(shape.heads)],
    ['llama.attention.head_count_kv', u32(shape.heads)],
    ['llama.rope.dimension_count', u32(shape.embedding / shape.heads)],
    ['llama.rope.freq_base', f32(10_000)],
    ['llama.attention.layer_norm_rms_epsilon', f32(1e-5)],
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', items: vocab.tokens }],
    ['tokenizer.ggml.scores', { type: 'array', itemType: 'float32', items: vocab.scores }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'int32', items: vocab.types }],
    ['tokenizer.ggml.bos_token_id', u32(1)],
    ['tokenizer.ggml.eos_token_id', u32(2)],
    ['tokenizer.ggml.unknown_token_id', u32(0)],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
    ['tokenizer.chat_template', { type: 'string', value: chatTemplate }],
  ])
  return encodeGguf({ metadata, tensors: tensors(shape, vocab.tokens.length), alignment: 32 })
}

let written: { dir: string; path: string } | undefined

/**
 * Writes the tiny model once per process into a temporary folder and returns its path; the folder
 * is removed when the process exits.
 */
export function tinyModelPath(): string {
  if (written) return written.path
  const dir = mkdtempSync(join(tmpdir(), 'spout-tiny-gguf-'))
  mkdirSync(dir, { recursive: true })
  const path = join(dir, 'tiny.gguf')
  writeFileSync(path, tinyModelBytes())
  written = { dir, path }
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  return path
}
