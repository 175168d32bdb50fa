import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { createReadStream, readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { JobStartEvent } from './events.ts'
import { jsonlSink } from './jsonl-sink.ts'
import type { PluginContext, RecordResult, SpoutPlugin } from './plugin.ts'

const context = {} as PluginContext
const jobStart: JobStartEvent = {
  type: 'job-start',
  jobId: 'j',
  name: 'n',
  model: 'm',
  host: 'h',
  startedAt: '',
}

function result(id: string, extra: Partial<RecordResult> = {}): RecordResult {
  return {
    id,
    input: { id },
    model: 'm',
    backend: 'ollama',
    system: null,
    prompt: `p${id}`,
    response: `r${id}`,
    done_reason: 'stop',
    metrics: {},
    attempts: 1,
    started_at: '2026-01-01T00:00:00.000Z',
    ended_at: '2026-01-01T00:00:01.000Z',
    ...extra,
  }
}

type Call = (value: unknown, context: PluginContext) => void | Promise<void>
const call = (plugin: SpoutPlugin, hook: 'jobStart' | 'recordEnd' | 'jobEnd', value: unknown) =>
  (plugin[hook] as unknown as Call)(value, context)

let directory: string
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'spout-jsonl-'))
})
afterEach(async () => {
  await rm(directory, { recursive: true, force: true })
})

describe('jsonlSink', () => {
  it('writes one line per record as soon as the record ends', async () => {
    const path = join(directory, 'out.jsonl')
    const sink = jsonlSink(path)
    await call(sink, 'jobStart', jobStart)
    await call(sink, 'recordEnd', result('1'))
    // On disk before the job ends: a kill now would keep this line.
    expect(await readFile(path, 'utf8')).toBe(`${JSON.stringify(result('1'))}\n`)
    await Promise.all([call(sink, 'recordEnd', result('2')), call(sink, 'recordEnd', result('3'))])
    await call(sink, 'jobEnd', {})
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n')
    expect(lines.map((line) => JSON.parse(line).id)).toEqual(['1', '2', '3'])
  })

  it('has a regular file hold the line by the time recordEnd returns', async () => {
    const path = join(directory, 'out.jsonl')
    const sink = jsonlSink(path)
    await call(sink, 'jobStart', jobStart)
    const first = call(sink, 'recordEnd', result('1'))
    // Read synchronously, before any await: the line is with the operating system already.
    expect(readFileSync(path, 'utf8')).toBe(`${JSON.stringify(result('1'))}\n`)
    await first
    await call(sink, 'jobEnd', {})
  })

  it.skipIf(process.platform === 'win32')('writes whole lines, in order, to a FIFO', async () => {
    const path = join(directory, 'out.fifo')
    execFileSync('mkfifo', [path])
    const reader = createReadStream(path)
    const received: Buffer[] = []
    reader.on('data', (chunk) => received.push(chunk as Buffer))
    const closed = once(reader, 'close')
    const sink = jsonlSink(path)
    await call(sink, 'jobStart', jobStart)
    await Promise.all(['1', '2', '3'].map((id) => call(sink, 'recordEnd', result(id))))
    await call(sink, 'recordEnd', result('4'))
    await call(sink, 'jobEnd', {})
    await closed
    const lines = Buffer.concat(received).toString('utf8').trimEnd().split('\n')
    expect(lines.map((line) => JSON.parse(line).id)).toEqual(['1', '2', '3', '4'])
  })

  it('truncates by default, appends with append, and never writes skipped records', async () => {
    const path = join(directory, 'out.jsonl')
    await writeFile(path, 'old\n')
    const fresh = jsonlSink(path)
    await call(fresh, 'jobStart', jobStart)
    await call(fresh, 'jobEnd', {})
    expect(await readFile(path, 'utf8')).toBe('')
    await writeFile(path, '{"id":"1"}\n')
    const appending = jsonlSink(path, { append: true })
    await call(appending, 'jobStart', jobStart)
    await call(appending, 'recordEnd', result('1', { skipped: true }))
    await call(appending, 'recordEnd', result('2'))
    await call(appending, 'jobEnd', {})
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n')
    expect(lines.map((line) => JSON.parse(line).id)).toEqual(['1', '2'])
  })

  it('writes to a stream without ending it', async () => {
    const stream = new PassThrough()
    const chunks: string[] = []
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()))
    const sink = jsonlSink(stream)
    await call(sink, 'jobStart', jobStart)
    await call(sink, 'recordEnd', result('a', { error: { code: 'X', message: 'boom' } }))
    await call(sink, 'jobEnd', {})
    expect(JSON.parse(chunks.join(''))).toMatchObject({ id: 'a', error: { code: 'X', message: 'boom' } })
    expect(stream.writableEnded).toBe(false)
  })

  it('fails jobStart when the file cannot be opened', async () => {
    const sink = jsonlSink(join(directory, 'missing-dir', 'out.jsonl'))
    await expect(call(sink, 'jobStart', jobStart)).rejects.toThrow(/ENOENT/)
    await call(sink, 'jobEnd', {})
  })
})
