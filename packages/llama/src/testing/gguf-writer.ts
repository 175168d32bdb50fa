// A GGUF v3 encoder, written from the spec (ggml-org/ggml docs/gguf.md): header, metadata key/value
// pairs, tensor infos, padding, then the tensor data, each tensor aligned to `general.alignment`.
// Only what the tiny test model needs: scalar, string and array values, F32 tensors.

/** GGUF metadata value types (`gguf_metadata_value_type`). */
const valueTypes = {
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
} as const

/** `ggml_type` of F32 tensors. */
const ggmlTypeF32 = 0

export type GgufScalar =
  | { type: 'uint32'; value: number }
  | { type: 'int32'; value: number }
  | { type: 'float32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }

export type GgufValue =
  | GgufScalar
  | {
      type: 'array'
      itemType: 'uint32' | 'int32' | 'float32' | 'string'
      items: readonly (number | string)[]
    }

export interface GgufTensor {
  name: string
  /** Dimensions, innermost first (ggml's `ne[0]` is the row length). */
  dims: readonly number[]
  data: Float32Array
}

export interface GgufFile {
  metadata: ReadonlyMap<string, GgufValue>
  tensors: readonly GgufTensor[]
  /** `general.alignment`; written into the metadata too. Default 32. */
  alignment?: number
}

class ByteWriter {
  #chunks: Uint8Array[] = []
  #length = 0

  get length(): number {
    return this.#length
  }

  bytes(bytes: Uint8Array): void {
    this.#chunks.push(bytes)
    this.#length += bytes.byteLength
  }

  #fixed(size: number, write: (view: DataView) => void): void {
    const bytes = new Uint8Array(size)
    write(new DataView(bytes.buffer))
    this.bytes(bytes)
  }

  u32(value: number): void {
    this.#fixed(4, (view) => view.setUint32(0, value, true))
  }

  i32(value: number): void {
    this.#fixed(4, (view) => view.setInt32(0, value, true))
  }

  u64(value: number): void {
    this.#fixed(8, (view) => view.setBigUint64(0, BigInt(value), true))
  }

  f32(value: number): void {
    this.#fixed(4, (view) => view.setFloat32(0, value, true))
  }

  string(value: string): void {
    const encoded = new TextEncoder().encode(value)
    this.u64(encoded.byteLength)
    this.bytes(encoded)
  }

  padTo(alignment: number): void {
    const rest = this.#length % alignment
    if (rest !== 0) this.bytes(new Uint8Array(alignment - rest))
  }

  concat(): Uint8Array {
    const out = new Uint8Array(this.#length)
    let offset = 0
    for (const chunk of this.#chunks) {
      out.set(chunk, offset)
      offset += chunk.byteLength
    }
    return out
  }
}

function writeItem(writer: ByteWriter, type: GgufScalar['type'], value: number | string | boolean): void {
  if (type === 'uint32') writer.u32(value as number)
  else if (type === 'int32') writer.i32(value as number)
  else if (type === 'float32') writer.f32(value as number)
  else if (type === 'bool') writer.bytes(Uint8Array.of(value ? 1 : 0))
  else writer.string(value as string)
}

function writeValue(writer: ByteWriter, value: GgufValue): void {
  writer.u32(valueTypes[value.type])
  if (value.type !== 'array') {
    writeItem(writer, value.type, value.value)
    return
  }
  writer.u32(valueTypes[value.itemType])
  writer.u64(value.items.length)
  for (const item of value.items) writeItem(writer, value.itemType, item)
}

/** Encodes a GGUF v3 file: the same input gives the same bytes. */
export function encodeGguf(file: GgufFile): Uint8Array {
  const alignment = file.alignment ?? 32
  const metadata = new Map(file.metadata)
  metadata.set('general.alignment', { type: 'uint32', value: alignment })

  const writer = new ByteWriter()
  writer.bytes(new TextEncoder().encode('GGUF'))
  writer.u32(3)
  writer.u64(file.tensors.length)
  writer.u64(metadata.size)
  for (const [key, value] of metadata) {
    writer.string(key)
    writeValue(writer, value)
  }

  let offset = 0
  for (const tensor of file.tensors) {
    const elements = tensor.dims.reduce((product, dim) => product * dim, 1)
    if (elements !== tensor.data.length) {
      throw new Error(`tensor ${tensor.name}: dims ${tensor.dims.join('x')} ≠ ${tensor.data.length} values`)
    }
    writer.string(tensor.name)
    writer.u32(tensor.dims.length)
    for (const dim of tensor.dims) writer.u64(dim)
    writer.u32(ggmlTypeF32)
    writer.u64(offset)
    offset += Math.ceil(tensor.data.byteLength / alignment) * alignment
  }

  writer.padTo(alignment)
  for (const tensor of file.tensors) {
    writer.bytes(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength).slice())
    writer.padTo(alignment)
  }
  return writer.concat()
}
