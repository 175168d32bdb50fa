// The entry `@spout/core/ndjson`: the client's NDJSON decoder on its own (browser-safe), for reading
// Spout's JSONL output or any NDJSON stream. The main entry leaves it out: the client uses it inside.

export type { ByteParser, ByteSource } from './byte-parser.ts'
export { ParserStream } from './byte-parser.ts'
export type { NdjsonOptions } from './ndjson.ts'
export { decodeNdjson, defaultMaxLineLength, NdjsonDecoderStream, NdjsonParser } from './ndjson.ts'
