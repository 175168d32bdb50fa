import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ResumeError } from './errors.ts'
import { prepareResume } from './resume.ts'

let directory: string
let path: string
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'spout-resume-'))
  path = join(directory, 'out.jsonl')
})
afterEach(async () => {
  await rm(directory, { recursive: true, force: true })
})

const ok = (id: string, response = 'r') => JSON.stringify({ id, response })
const failed = (id: string) => JSON.stringify({ id, response: '', error: { code: 'X', message: 'm' } })

describe('prepareResume', () => {
  it('treats a missing file as empty', async () => {
    expect(await prepareResume(path)).toEqual({ done: new Set(), kept: 0, dropped: 0, repaired: false })
  })

  it('leaves a clean file untouched', async () => {
    const text = `${ok('1')}\n${ok('2')}\n`
    await writeFile(path, text)
    const state = await prepareResume(path)
    expect(state).toEqual({ done: new Set(['1', '2']), kept: 2, dropped: 0, repaired: false })
    expect(await readFile(path, 'utf8')).toBe(text)
  })

  it('drops failed lines and repeated ids, keeping the first success', async () => {
    await writeFile(
      path,
      `${failed('1')}\n${ok('2', 'first')}\n${ok('1')}\n${ok('2', 'second')}\n${failed('3')}\n`,
    )
    const state = await prepareResume(path)
    expect(state).toEqual({ done: new Set(['1', '2']), kept: 2, dropped: 3, repaired: false })
    expect(await readFile(path, 'utf8')).toBe(`${ok('2', 'first')}\n${ok('1')}\n`)
    expect(await readdir(directory)).toEqual(['out.jsonl'])
  })

  it('repairs a torn last line left by a crash', async () => {
    await writeFile(path, `${ok('1')}\n${ok('2').slice(0, 9)}`)
    const state = await prepareResume(path)
    expect(state).toEqual({ done: new Set(['1']), kept: 1, dropped: 1, repaired: true })
    expect(await readFile(path, 'utf8')).toBe(`${ok('1')}\n`)
  })

  it('completes a last line that lost only its newline', async () => {
    await writeFile(path, `${ok('1')}\n${ok('2')}`)
    const state = await prepareResume(path)
    expect(state).toEqual({ done: new Set(['1', '2']), kept: 2, dropped: 0, repaired: true })
    expect(await readFile(path, 'utf8')).toBe(`${ok('1')}\n${ok('2')}\n`)
  })

  it('refuses a file with garbage before its last line', async () => {
    await writeFile(path, `${ok('1')}\nnot json\n${ok('2')}\n`)
    const error = await prepareResume(path).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ResumeError)
    expect(error).toMatchObject({ code: 'SPOUT_RESUME_CORRUPT', line: 2 })
    expect((error as Error).message).toBe(
      `${path}:2: not a JSON line (was the file written by another program?)`,
    )
  })

  it('handles lines longer than a read buffer', async () => {
    const long = ok('big', 'x'.repeat(200_000))
    await writeFile(path, `${long}\n${failed('2')}\n`)
    const state = await prepareResume(path)
    expect(state.done).toEqual(new Set(['big']))
    expect(await readFile(path, 'utf8')).toBe(`${long}\n`)
  })
})
