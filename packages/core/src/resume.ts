import { createReadStream } from 'node:fs'
import { open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { ResumeError } from './errors.ts'

export interface ResumeState {
  /** Ids with a successful line: pass as `skip` to `runPipeline`. */
  done: Set<string>
  /** Lines kept (one successful line per id). */
  kept: number
  /** Lines dropped: failed records, repeated ids, a torn last line. */
  dropped: number
  /** True when the last line was torn (a crash while writing it) and has been removed or completed. */
  repaired: boolean
}

export interface FileLine {
  /** 1-based. */
  readonly number: number
  readonly text: string
  /** False for a last line without `\n`. */
  readonly terminated: boolean
  /** Where the line starts in the file, in bytes. */
  readonly offset: number
  /** Its length in bytes, without the `\n`. */
  readonly bytes: number
}

/** Reads a file line by line from bytes; memory stays linear in the longest line. */
export async function* readLines(path: string): AsyncGenerator<FileLine> {
  let pending: Buffer[] = []
  let number = 0
  let offset = 0
  const line = (terminated: boolean): FileLine => {
    const bytes = Buffer.concat(pending)
    number += 1
    const result = { number, text: bytes.toString('utf8'), terminated, offset, bytes: bytes.length }
    offset += bytes.length + 1
    pending = []
    return result
  }
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    let start = 0
    let newline = chunk.indexOf(10, start)
    while (newline !== -1) {
      pending.push(chunk.subarray(start, newline))
      yield line(true)
      start = newline + 1
      newline = chunk.indexOf(10, start)
    }
    if (start < chunk.length) pending.push(chunk.subarray(start))
  }
  if (pending.length > 0) yield line(false)
}

type Verdict = 'keep' | 'drop' | 'complete'

/**
 * Prepares an output file for a resumed run: keeps exactly one successful line per id and drops
 * failed lines, repeated ids and a torn last line (left by `kill -9` mid-write), rewriting the file
 * atomically (temporary file, then rename) when anything changes. A missing file is an empty one.
 * Resume with `runPipeline({ skip: done, plugins: [jsonlSink(path, { append: true })] })`: every input
 * id then ends up in the file exactly once.
 *
 * @throws ResumeError when a line other than the last is not a JSON object with an `id`.
 */
export async function prepareResume(path: string): Promise<ResumeState> {
  const done = new Set<string>()
  const verdicts = new Map<number, Verdict>()
  let kept = 0
  let dropped = 0
  let repaired = false
  try {
    for await (const line of readLines(path)) {
      if (line.text.trim() === '') {
        verdicts.set(line.number, 'drop')
        continue
      }
      let value: unknown
      try {
        value = JSON.parse(line.text)
      } catch {
        if (!line.terminated) {
          repaired = true
          dropped += 1
          verdicts.set(line.number, 'drop')
          continue
        }
        throw new ResumeError(path, line.number, 'not a JSON line (was the file written by another program?)')
      }
      const id = (value as { id?: unknown } | null)?.id
      if (typeof value !== 'object' || value === null || (typeof id !== 'string' && typeof id !== 'number')) {
        throw new ResumeError(path, line.number, 'not a result line (no `id`)')
      }
      const record = value as { error?: unknown; skipped?: unknown }
      const key = String(id)
      if ((record.error !== undefined && record.error !== null) || record.skipped || done.has(key)) {
        dropped += 1
        verdicts.set(line.number, 'drop')
        continue
      }
      done.add(key)
      kept += 1
      if (!line.terminated) {
        repaired = true
        verdicts.set(line.number, 'complete')
      }
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { done, kept: 0, dropped: 0, repaired: false }
    throw error
  }
  if (verdicts.size > 0) await rewrite(path, verdicts)
  return { done, kept, dropped, repaired }
}

async function rewrite(path: string, verdicts: ReadonlyMap<number, Verdict>): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.resume`)
  const output = await open(temporary, 'w')
  try {
    let batch = ''
    for await (const line of readLines(path)) {
      const verdict = verdicts.get(line.number) ?? 'keep'
      if (verdict === 'drop') continue
      batch += `${line.text}\n`
      if (batch.length >= 1 << 16) {
        await output.write(batch)
        batch = ''
      }
    }
    if (batch) await output.write(batch)
    await output.sync()
  } catch (error) {
    await output.close()
    await rm(temporary, { force: true })
    throw error
  }
  await output.close()
  await rename(temporary, path)
}
