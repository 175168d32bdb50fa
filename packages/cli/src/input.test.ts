import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CliError } from './cli-error.ts'
import { countRecords, type InputRecord, openInput } from './input.ts'
import { lineError } from './input-line-error.ts'

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

  it('turns a broken JSONL line into a record that fails alone, naming the file and line', async () => {
    const name = await file('broken.jsonl', '{"prompt":"ok"}\n{"prompt":\n[1]\n{"prompt":"after"}\n')
    const source = await openInput(name, { cwd: directory, stdin: noStdin })
    const records = await collect(source.records())
    expect(records).toHaveLength(4)
    expect(records[0]).toEqual({ prompt: 'ok' })
    expect(lineError(records[1]!)?.message).toMatch(/^broken\.jsonl:2: not valid JSON/)
    expect(lineError(records[2]!)?.message).toBe(
      'broken.jsonl:3: expected a JSON object (or a string prompt)',
    )
    expect(lineError(records[1]!)?.code).toBe('SPOUT_INPUT_ERROR')
    expect(records[3]).toEqual({ prompt: 'after' })
    expect(lineError(records[3]!)).toBeUndefined()
  })

  it('turns a CSV row with the wrong number of columns into a record that fails alone', async () => {
    const name = await file('rows.csv', 'id,question\n1,first\n2,too,many\n3\n4,"last,one"\n')
    const source = await openInput(name, { cwd: directory, stdin: noStdin })
    const records = await collect(source.records())
    expect(records.map((record) => lineError(record)?.message ?? record)).toEqual([
      { id: '1', question: 'first' },
      'rows.csv:3: 3 columns where the header has 2',
      'rows.csv:4: 1 column where the header has 2',
      { id: '4', question: 'last,one' },
    ])
    expect(await countRecords(source)).toBe(4)
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

  it('keeps a CSV column named __proto__ as an ordinary field', async () => {
    const name = await file('proto.csv', 'id,__proto__,constructor\n1,a,b\n')
    const source = await openInput(name, { cwd: directory, stdin: noStdin })
    const [record] = await collect(source.records())
    expect(Object.keys(record!)).toEqual(['id', '__proto__', 'constructor'])
    expect(JSON.parse(JSON.stringify(record))).toMatchObject({ id: '1', constructor: 'b' })
    expect(Object.getOwnPropertyDescriptor(record, '__proto__')?.value).toBe('a')
    expect(Object.getPrototypeOf(record)).toBe(Object.prototype)
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
