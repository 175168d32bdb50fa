import { type FileHandle, open } from 'node:fs/promises'
import { join } from 'node:path'
import { ResumeError } from './errors.ts'
import type { RecordResult } from './plugin.ts'
import { prepareResume, readLines } from './resume.ts'

/** One line of a stage file: what the stage made of one record (its result, without the input). */
export type StageLine = Omit<RecordResult, 'input' | 'error' | 'skipped'>

/** Where a stage's results go: `<directory>/<stage>.jsonl`. */
export function stageFile(directory: string, stage: string): string {
  return join(directory, `${stage}.jsonl`)
}

/**
 * The results a stage file holds, found by record id, without holding them in memory: opening it
 * repairs the file as `prepareResume` does (a torn last line left by `kill -9` is dropped), then
 * streams it once and keeps only each id's place in the file. A result is read back from the file
 * when its record reaches the stage, once. These are the truth of a resumed run: a record with a
 * line here is not asked of that stage again.
 */
export class StageIndex {
  readonly #path: string
  /** Record id → where its line is: byte offset, length, and line number (for messages). */
  readonly #places = new Map<string, { offset: number; bytes: number; line: number }>()
  #file: FileHandle | undefined

  private constructor(path: string) {
    this.#path = path
  }

  /** The index of `path` (a missing file holds no result). */
  static async open(path: string): Promise<StageIndex> {
    const index = new StageIndex(path)
    const state = await prepareResume(path)
    if (state.kept === 0) return index
    for await (const line of readLines(path)) {
      if (line.text.trim() === '') continue
      const id = String((JSON.parse(line.text) as { id: string | number }).id)
      index.#places.set(id, { offset: line.offset, bytes: line.bytes, line: line.number })
    }
    index.#file = await open(path, 'r')
    return index
  }

  /** Results not yet taken. */
  get size(): number {
    return this.#places.size
  }

  /** The stored result of record `id`, read from the file, and forgotten (a record reaches a stage once). */
  async take(id: string): Promise<StageLine | undefined> {
    const place = this.#places.get(id)
    if (!place || !this.#file) return undefined
    this.#places.delete(id)
    const buffer = Buffer.allocUnsafe(place.bytes)
    let read = 0
    while (read < place.bytes) {
      const { bytesRead } = await this.#file.read(buffer, read, place.bytes - read, place.offset + read)
      if (bytesRead === 0) throw new ResumeError(this.#path, place.line, 'the file was cut during the run')
      read += bytesRead
    }
    try {
      return JSON.parse(buffer.toString('utf8')) as StageLine
    } catch {
      throw new ResumeError(this.#path, place.line, 'the line changed during the run')
    }
  }

  async close(): Promise<void> {
    const file = this.#file
    this.#file = undefined
    await file?.close()
  }
}
