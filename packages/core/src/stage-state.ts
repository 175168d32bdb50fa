import { createReadStream } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { RecordResult } from './plugin.ts'
import { prepareResume } from './resume.ts'

/** One line of a stage file: what the stage made of one record (its result, without the input). */
export type StageLine = Omit<RecordResult, 'input' | 'error' | 'skipped'>

/** Where a stage's results go: `<directory>/<stage>.jsonl`. */
export function stageFile(directory: string, stage: string): string {
  return join(directory, `${stage}.jsonl`)
}

/**
 * The results a stage file holds, by record id, after repairing it as `prepareResume` does (a torn
 * last line left by `kill -9` is dropped). A missing file holds none. These are the truth of a resumed
 * run: a record with a line here is not asked of that stage again.
 */
export async function readStageFile(path: string): Promise<Map<string, StageLine>> {
  const results = new Map<string, StageLine>()
  const state = await prepareResume(path)
  if (state.kept === 0) return results
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY })
  for await (const text of lines) {
    if (text.trim() === '') continue
    const line = JSON.parse(text) as StageLine
    results.set(String(line.id), line)
  }
  return results
}
