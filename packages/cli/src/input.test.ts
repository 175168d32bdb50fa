import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CliError } from './cli-error.ts'
import { countRecords, type InputRecord, openInput } from './input.ts'

let directory: string
const noStdin = Readable.from([])

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'spout-input-'))
})
afterAll(async () => {
  await rm(directory, { recursive: true, force: true })
})

async function collect(records: AsyncIterable<InputRecord>): Promise<InputRecord[]> {
  const all: InputRecord[] = []
  for await (const record of records) all.push(record)
  return all
}

async function file(name: string, text: string): Promise<string> {
  await writeFile(join(directory, name), text)
  return name
}

describe('openInput', () => {
  it('reads JSONL objects, skipping blank lines and CRLF endings', async () => {
    const name = await file('a.jsonl', '{"id":"a","prompt":"one"}\r\n\r\n{"id":"b","prompt":"two"}\n')
    const source = await openInput(name, { cwd: directory, stdin: noStdin })
    expect(source.format).toBe('jsonl')
    expect(await collect(source.records())).toEqual([
      { id: 'a', prompt: 'one' },
      { id: 'b', prompt: 'two' },
    ])
    expect(await countRecords(source)).toBe(2)
  })

  it('names the file and line of a broken JSONL line', async () => {
    const name = await file('broken.jsonl', '{"prompt":"ok"}\n{"prompt":\n')
    const source = await openInput(name, { cwd: directory, stdin: noStdin })
    await expect(collect(source.records())).rejects.toThrow(/broken\.jsonl:2: not valid JSON/)
  })

  it('reads CSV with a header row, quoted commas and newlines, and a BOM', async () => {
    const name = await file('q.csv', '\uFEFFid,question\n1,"Hello, world"\n2,"two\nlines"\n')
    const source = await openInput(name, { cwd: directory, stdin: noStdin })
    expect(await collect(source.records())).toEqual([
      { id: '1', question: 'Hello, world' },
      { id: '2', question: 'two\nlines' },
    ])
    expect(await countRecords(source)).toBe(2)
  })

  it('reads text as one prompt per non-empty line', async () => {
    const name = await file('p.txt', 'first prompt\n\nsecond prompt\n')
    const source = await openInput(name, { cwd: directory, stdin: noStdin })
    expect(await collect(source.records())).toEqual([{ prompt: 'first prompt' }, { prompt: 'second prompt' }])
  })

  it('detects JSONL on stdin when the first line is an object, else text', async () => {
    const jsonl = await openInput('-', {
      cwd: directory,
      stdin: Readable.from(['\n{"id":"x","prompt":"p"}\n', '{"id":"y","prompt":"q"}\n']),
    })
    expect(await collect(jsonl.records())).toEqual([
      { id: 'x', prompt: 'p' },
      { id: 'y', prompt: 'q' },
    ])
    const text = await openInput('-', {
      cwd: directory,
      stdin: Readable.from(['why is the sky blue?\n{not json\n']),
    })
    expect(await collect(text.records())).toEqual([
      { prompt: 'why is the sky blue?' },
      { prompt: '{not json' },
    ])
    expect(await countRecords(text)).toBeUndefined()
  })

  it('refuses a missing file and an unknown extension with usage errors', async () => {
    await expect(openInput('nope.jsonl', { cwd: directory, stdin: noStdin })).rejects.toThrow(CliError)
    const name = await file('data.xml', '<x/>')
    await expect(openInput(name, { cwd: directory, stdin: noStdin })).rejects.toThrow(/--input-format/)
    const forced = await openInput(name, { cwd: directory, stdin: noStdin, format: 'txt' })
    expect(await collect(forced.records())).toEqual([{ prompt: '<x/>' }])
  })
})
