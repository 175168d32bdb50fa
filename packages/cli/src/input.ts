import { createReadStream } from 'node:fs'
import { access } from 'node:fs/promises'
import { extname, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import type { InputRecord } from '@spout/core'
import { parse } from 'csv-parse'
import { CliError } from './cli-error.ts'
import type { InputFormat } from './input-format.ts'
import { malformedLine } from './input-line-error.ts'

export { type InputFormat, inputFormats } from './input-format.ts'

/** A record read from the input: core's `InputRecord`. */
export type { InputRecord }

export interface InputSource {
  /** What to call the input in messages: the path, or `stdin`. */
  label: string
  /** Absolute path, or undefined for stdin. */
  path?: string
  /** `auto` for stdin without --input-format: JSONL or text, decided from the first line when read. */
  format: InputFormat | 'auto'
  /** The records, read lazily: the file is never held in memory. */
  records(): AsyncIterable<InputRecord>
}

const formatByExtension: Record<string, InputFormat> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.csv': 'csv',
  '.txt': 'txt',
}

/** The format a file name implies, or undefined when the extension says nothing. */
export function formatFromPath(path: string): InputFormat | undefined {
  return formatByExtension[extname(path).toLowerCase()]
}

/**
 * Opens `spout run`'s input: a path (format from its extension unless `format` is given) or `-`
 * for stdin (JSONL when its first line is a JSON object, else one prompt per line).
 */
export async function openInput(
  argument: string,
  options: { cwd: string; stdin: Readable; format?: InputFormat },
): Promise<InputSource> {
  if (argument === '-') return openStdin(options.stdin, options.format)
  const path = resolve(options.cwd, argument)
  try {
    await access(path)
  } catch {
    throw new CliError(`input not found: ${argument}`)
  }
  const format = options.format ?? formatFromPath(path)
  if (!format) {
    throw new CliError(
      `cannot tell the format of ${argument} from its extension: use .jsonl, .csv or .txt, or pass --input-format`,
    )
  }
  return {
    label: argument,
    path,
    format,
    records: () => readRecords(createReadStream(path), format, argument),
  }
}

function openStdin(stdin: Readable, format: InputFormat | undefined): InputSource {
  if (format) return { label: 'stdin', format, records: () => readRecords(stdin, format, 'stdin') }
  return { label: 'stdin', format: 'auto', records: () => detectedRecords(stdin) }
}

/** Reads stdin as JSONL when its first non-empty line is a JSON object, else as text. Nothing is read before the first `next()`. */
async function* detectedRecords(stdin: Readable): AsyncGenerator<InputRecord> {
  const lines = lineReader(stdin)
  const first = await nextNonEmpty(lines)
  const detected = first !== undefined && looksLikeJsonObject(first.text) ? 'jsonl' : 'txt'
  yield* recordsFromLines(prepend(first, lines), detected, 'stdin')
}

function looksLikeJsonObject(line: string): boolean {
  const trimmed = line.trim()
  if (!trimmed.startsWith('{')) return false
  try {
    const value: unknown = JSON.parse(trimmed)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
  } catch {
    return false
  }
}

interface Line {
  text: string
  number: number
}

async function* lineReader(stream: Readable): AsyncGenerator<Line> {
  const reader = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })
  let number = 0
  try {
    for await (const text of reader) {
      number += 1
      yield { text: number === 1 ? text.replace(/^\uFEFF/, '') : text, number }
    }
  } finally {
    reader.close()
  }
}

async function nextNonEmpty(lines: AsyncIterator<Line>): Promise<Line | undefined> {
  for (;;) {
    const result = await lines.next()
    if (result.done) return undefined
    if (result.value.text.trim() !== '') return result.value
  }
}

async function* prepend(first: Line | undefined, rest: AsyncIterator<Line>): AsyncGenerator<Line> {
  if (first) yield first
  for (;;) {
    const result = await rest.next()
    if (result.done) return
    yield result.value
  }
}

function readRecords(stream: Readable, format: InputFormat, label: string): AsyncIterable<InputRecord> {
  if (format === 'csv') return csvRecords(stream, label)
  return recordsFromLines(lineReader(stream), format, label)
}

async function* recordsFromLines(
  lines: AsyncIterable<Line>,
  format: 'jsonl' | 'txt',
  label: string,
): AsyncGenerator<InputRecord> {
  for await (const line of lines) {
    if (line.text.trim() === '') continue
    if (format === 'txt') {
      yield { prompt: line.text }
      continue
    }
    yield parseJsonLine(line, label)
  }
}

/** A JSONL line as a record; a malformed line becomes a record that fails alone (see `malformedLine`). */
function parseJsonLine(line: Line, label: string): InputRecord {
  let value: unknown
  try {
    value = JSON.parse(line.text)
  } catch (error) {
    return malformedLine(`${label}:${line.number}: not valid JSON (${(error as Error).message})`)
  }
  if (typeof value === 'string') return { prompt: value }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return malformedLine(`${label}:${line.number}: expected a JSON object (or a string prompt)`)
  }
  return value as InputRecord
}

/**
 * CSV rows as records keyed by the header row. A row with another number of columns than the header
 * becomes a record that fails alone; a file the parser cannot read on (an unclosed quote) stops the job.
 */
async function* csvRecords(stream: Readable, label: string): AsyncGenerator<InputRecord> {
  const parser = stream.pipe(
    parse({ bom: true, skip_empty_lines: true, relax_column_count: true, info: true }),
  )
  let header: string[] | undefined
  try {
    for await (const row of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!header) {
        header = row.record
        continue
      }
      if (row.record.length !== header.length) {
        yield malformedLine(
          `${label}:${row.info.lines}: ${row.record.length} column${row.record.length === 1 ? '' : 's'} where the header has ${header.length}`,
        )
        continue
      }
      const record: InputRecord = {}
      header.forEach((name, index) => {
        // Defined, not assigned: a column named `__proto__` is a field like any other.
        Object.defineProperty(record, name, {
          value: row.record[index],
          enumerable: true,
          writable: true,
          configurable: true,
        })
      })
      yield record
    }
  } catch (error) {
    throw new CliError(`${label}: ${(error as Error).message}`, { code: 'SPOUT_INPUT_ERROR', cause: error })
  } finally {
    parser.destroy()
    stream.destroy()
  }
}

/**
 * Counts the records of a file input without keeping it in memory, so progress can show a total
 * and an ETA. Undefined for stdin.
 */
export async function countRecords(source: InputSource): Promise<number | undefined> {
  if (!source.path) return undefined
  if (source.format === 'csv') {
    let count = 0
    const parser = createReadStream(source.path).pipe(
      parse({ columns: true, bom: true, skip_empty_lines: true, relax_column_count: true }),
    )
    try {
      for await (const _record of parser) count += 1
    } catch {
      return undefined
    }
    return count
  }
  let count = 0
  for await (const line of lineReader(createReadStream(source.path))) {
    if (line.text.trim() !== '') count += 1
  }
  return count
}
