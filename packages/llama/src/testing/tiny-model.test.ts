import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { readGgufFileInfo } from 'node-llama-cpp'
import { describe, expect, it } from 'vitest'
import { encodeGguf } from './gguf-writer.ts'
import { tinyModelBytes, tinyModelPath, tinyModelShape } from './tiny-model.ts'

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

describe('encodeGguf', () => {
  it('writes the v3 header, then the metadata count with general.alignment added', () => {
    const bytes = encodeGguf({
      metadata: new Map([['general.architecture', { type: 'string', value: 'llama' }]]),
      tensors: [{ name: 'x', dims: [3], data: Float32Array.of(1, 2, 3) }],
    })
    const view = new DataView(bytes.buffer)
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('GGUF')
    expect(view.getUint32(4, true)).toBe(3)
    expect(view.getBigUint64(8, true)).toBe(1n)
    expect(view.getBigUint64(16, true)).toBe(2n)
    // The tensor data starts aligned and ends the file, padded to the alignment.
    expect(bytes.byteLength % 32).toBe(0)
    expect(view.getFloat32(bytes.byteLength - 32 + 8, true)).toBe(3)
  })

  it('refuses a tensor whose dims do not match its data', () => {
    expect(() =>
      encodeGguf({ metadata: new Map(), tensors: [{ name: 'x', dims: [2, 2], data: new Float32Array(3) }] }),
    ).toThrow('tensor x: dims 2x2 ≠ 3 values')
  })
})

describe('tiny model', () => {
  it('is the same bytes on every call and differs with the seed', () => {
    const first = tinyModelBytes()
    expect(sha(tinyModelBytes())).toBe(sha(first))
    expect(sha(tinyModelBytes({ ...tinyModelShape, seed: 2 }))).not.toBe(sha(first))
    expect(first.byteLength).toBeLessThan(1_000_000)
  })

  it('is written once per process and reads back with llama.cpp keys and tensor shapes', async () => {
    const path = tinyModelPath()
    expect(tinyModelPath()).toBe(path)
    expect(existsSync(path)).toBe(true)
    expect(sha(readFileSync(path))).toBe(sha(tinyModelBytes()))

    const info = await readGgufFileInfo(path)
    expect(info.version).toBe(3)
    expect(info.metadata.general.architecture).toBe('llama')
    const llama = info.metadata.llama as { embedding_length: number; block_count: number }
    expect(llama.embedding_length).toBe(64)
    expect(llama.block_count).toBe(2)
    const tokens = info.metadata.tokenizer.ggml.tokens as string[]
    expect(tokens.slice(0, 3)).toEqual(['<unk>', '<s>', '</s>'])
    expect(tokens).toContain('<0xFF>')
    const tensors = new Map(
      info.fullTensorInfo?.map((tensor) => [tensor.name, tensor.dimensions.map(Number)]),
    )
    expect(tensors.get('token_embd.weight')).toEqual([64, tokens.length])
    expect(tensors.get('blk.1.ffn_down.weight')).toEqual([128, 64])
    expect(tensors.size).toBe(3 + 2 * 9)
  })
})
