// A chunk sink: writes each record's response to its own text file as the tokens stream in, so
// `tail -f streams/q1.txt` follows a record live. As a --plugin the factory is called with no
// arguments (./streams); from a config file, `plugins: [streamToFiles('some/directory')]`.
//   spout run questions.jsonl -m llama3.2 -o answers.jsonl --plugin ./examples/plugins/stream-to-files.ts
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { SpoutPlugin } from '@spout/core'

export default function streamToFiles(directoryName = 'streams'): SpoutPlugin {
  const directory = resolve(directoryName)
  /** The open file of each record in flight, by record id. */
  const files = new Map<string, number>()
  const close = (recordId: string) => {
    const descriptor = files.get(recordId)
    if (descriptor === undefined) return
    closeSync(descriptor)
    files.delete(recordId)
  }
  return {
    name: 'stream-to-files',
    jobStart() {
      mkdirSync(directory, { recursive: true })
    },
    recordStart(event) {
      // A retry starts the record's text again: truncate its file.
      close(event.recordId)
      files.set(event.recordId, openSync(join(directory, `${encodeURIComponent(event.recordId)}.txt`), 'w'))
    },
    writeChunk(chunk) {
      const descriptor = files.get(chunk.recordId)
      if (descriptor !== undefined && chunk.text !== '') writeSync(descriptor, chunk.text)
    },
    recordEnd(result) {
      close(result.id)
    },
    jobEnd() {
      for (const recordId of [...files.keys()]) close(recordId)
    },
  }
}
