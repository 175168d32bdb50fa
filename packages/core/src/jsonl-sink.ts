import { writeSync } from 'node:fs'
import { type FileHandle, open } from 'node:fs/promises'
import type { Writable } from 'node:stream'
import type { RecordResult, SpoutPlugin } from './plugin.ts'
import { WriteCoalescer } from './write-coalescer.ts'

export interface JsonlSinkOptions {
  /** Append to the file instead of truncating it (for resume). Default `false`. */
  append?: boolean
  /** Plugin name, default `jsonl-sink`. */
  name?: string
}

/**
 * Writes one JSON line per record to a file (or a `Writable` such as `process.stdout`), as soon as
 * the record ends. Each line goes to the operating system in one write before the record counts
 * as done (to a regular file, a synchronous `write(2)`: microseconds, no thread-pool round trip),
 * so a `kill -9` loses at most the line being written (a torn last line that `prepareResume`
 * repairs). Skipped records (resume) are not written again.
 *
 * A path is opened at `jobStart` (`w`, or `a` with `append`) and closed at `jobEnd`; a `Writable`
 * is written to and never ended.
 */
export function jsonlSink(target: string | Writable, options: JsonlSinkOptions = {}): SpoutPlugin {
  let file: FileHandle | undefined
  let opening: Promise<FileHandle> | undefined
  /** True when the path is a regular file: a line is then written with one synchronous `write(2)`. */
  let synchronous = false

  const openFile = (): Promise<FileHandle> => {
    if (typeof target !== 'string') throw new TypeError('not a path')
    opening ??= open(target, options.append ? 'a' : 'w').then(async (handle) => {
      // A regular file takes a line into the page cache in microseconds: write it synchronously,
      // without a thread-pool round trip per record. Anything else (a FIFO, a terminal) could block
      // the event loop, so it keeps the asynchronous path.
      synchronous = (await handle.stat()).isFile()
      file = handle
      return handle
    })
    return opening
  }

  const writeAsync = async (text: string): Promise<void> => {
    if (typeof target === 'string') {
      const handle = file ?? (await openFile())
      const bytes = Buffer.from(text)
      let written = 0
      while (written < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, written, bytes.length - written)
        written += bytesWritten
      }
      return
    }
    await writeToStream(target, text)
  }

  const lines = new WriteCoalescer(writeAsync)

  return {
    name: options.name ?? 'jsonl-sink',
    async jobStart() {
      if (typeof target === 'string') await openFile()
    },
    recordEnd(result: RecordResult) {
      if (result.skipped) return
      const line = `${JSON.stringify(result)}\n`
      if (synchronous && file && !lines.busy) {
        // The line is with the operating system when this returns (or the hook throws).
        writeAllSync(file.fd, line)
        return
      }
      return lines.write(line)
    },
    async jobEnd() {
      await lines.drain()
      const handle = file ?? (opening ? await opening.catch(() => undefined) : undefined)
      file = undefined
      opening = undefined
      synchronous = false
      await handle?.close()
    },
  }
}

/** One line to a file descriptor, whole: `write(2)` may take fewer bytes than asked. */
function writeAllSync(fd: number, line: string): void {
  const bytes = Buffer.from(line)
  let written = 0
  while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written)
}

/** Resolves once the stream has handed the line on (its write callback), so the slowest consumer paces records. */
function writeToStream(stream: Writable, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(line, (error) => {
      if (error) reject(error)
      else resolve()
    })
  })
}
