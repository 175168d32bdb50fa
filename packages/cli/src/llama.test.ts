import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tinyModelPath } from '@spout/llama/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CliError } from './cli-error.ts'
import { llamaMissingMessage, openLlama, usesLlama } from './llama.ts'
import { runCli, startCli } from './testing/harness.ts'

let directory: string
let model: string
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'spout-llama-cli-'))
  model = tinyModelPath()
})
afterAll(() => rm(directory, { recursive: true, force: true }))

// One thread: the test machines are small and shared.
const oneThread = ['--option', 'num_thread=1']

interface Line {
  id: string
  response: string
  backend?: string
  done_reason: string
  metrics: { eval_count?: number }
  error?: unknown
}

const readLines = async (path: string): Promise<Line[]> =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Line)

describe('usesLlama', () => {
  it('picks the in-process backend for a .gguf path or --api llama-cpp', () => {
    expect(usesLlama('./models/qwen3.GGUF', undefined)).toBe(true)
    expect(usesLlama('qwen3', 'llama-cpp')).toBe(true)
    expect(usesLlama('llama3.2', undefined)).toBe(false)
    expect(usesLlama('./x.gguf', 'ollama')).toBe(false)
  })
})

describe('spout gen -m ./model.gguf', () => {
  it('streams a generation from the model file, the same text for the same seed', async () => {
    const argv = [
      'gen',
      '-m',
      model,
      ...oneThread,
      '--option',
      'seed=4',
      '--option',
      'num_predict=12',
      'hello',
    ]
    const first = await runCli(argv, { cwd: directory })
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout.length).toBeGreaterThan(1)
    const again = await runCli(argv, { cwd: directory })
    expect(again.stdout).toBe(first.stdout)
  })

  it('prints the raw chunks with --json: Ollama-shaped, ending with done_reason length', async () => {
    const run = await runCli(
      ['gen', '-m', model, '--api', 'llama-cpp', ...oneThread, '--option', 'num_predict=5', '--json', 'hi'],
      { cwd: directory },
    )
    expect(run.code, run.stderr).toBe(0)
    const chunks = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(chunks.at(-1)).toMatchObject({ done: true, done_reason: 'length', eval_count: 5 })
  })

  it('says in one line that the file is missing', async () => {
    const run = await runCli(['gen', '-m', './nope.gguf', 'hi'], { cwd: directory })
    expect(run.code).toBe(2)
    expect(run.stderr).toBe(`spout: [${join(directory, 'nope.gguf')}] no such file\n`)
  })

  it('says in one line how to install @spout/llama when it is missing', async () => {
    const missing = Object.assign(new Error("Cannot find package '@spout/llama' imported from /x/cli.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    })
    const opened = openLlama(model, {
      cwd: directory,
      sequences: 1,
      options: {},
      importLlama: () => Promise.reject(missing),
    })
    await expect(opened).rejects.toThrow(new CliError(llamaMissingMessage))
  })
})

describe('spout run -m ./model.gguf', () => {
  const records = ['a', 'b', 'c', 'd', 'e'].map((id) => JSON.stringify({ id, prompt: `tell me about ${id}` }))

  it('writes one line per record with K sequences, and --resume runs only the missing ones', async () => {
    await writeFile(join(directory, 'in.jsonl'), `${records.join('\n')}\n`)
    const argv = ['run', 'in.jsonl', '-m', model, '-c', '2', ...oneThread, '--option', 'num_predict=8']
    const run = await runCli([...argv, '-o', 'out.jsonl'], { cwd: directory })
    expect(run.code, run.stderr).toBe(0)
    const lines = await readLines(join(directory, 'out.jsonl'))
    expect(lines.map((line) => line.id).sort()).toEqual(['a', 'b', 'c', 'd', 'e'])
    for (const line of lines) {
      expect(line).toMatchObject({ backend: 'llama-cpp', done_reason: 'length', metrics: { eval_count: 8 } })
      expect(line.error).toBeUndefined()
    }

    // As if killed after three records: the resume adds the other two, once each.
    const kept = (await readFile(join(directory, 'out.jsonl'), 'utf8')).split('\n').slice(0, 3)
    await writeFile(join(directory, 'out.jsonl'), `${kept.join('\n')}\n`)
    const resumed = await runCli([...argv, '-o', 'out.jsonl', '--resume'], { cwd: directory })
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(resumed.stderr).toContain('resuming out.jsonl: 3 done')
    const after = await readLines(join(directory, 'out.jsonl'))
    expect(after.map((line) => line.id).sort()).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(after.slice(0, 3)).toEqual(lines.slice(0, 3))
  })

  it('stops on Ctrl-C with exit 130, and --resume finishes with every record once', async () => {
    const many = Array.from({ length: 8 }, (_, index) =>
      JSON.stringify({ id: `r${index}`, prompt: `r${index}` }),
    )
    await writeFile(join(directory, 'many.jsonl'), `${many.join('\n')}\n`)
    const argv = ['run', 'many.jsonl', '-m', model, '-c', '2', ...oneThread, '--option', 'num_predict=300']
    const output = join(directory, 'many-out.jsonl')
    const run = startCli([...argv, '-o', 'many-out.jsonl'], { cwd: directory })
    // Interrupt once the first record is written, with others in flight.
    while (!(await readFile(output, 'utf8').catch(() => '')).includes('\n')) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    run.interrupt()
    expect(await run.done).toBe(130)
    const before = await readLines(output)
    expect(before.length).toBeGreaterThanOrEqual(1)
    expect(before.length).toBeLessThan(8)

    const resumed = await runCli([...argv, '-o', 'many-out.jsonl', '--resume'], { cwd: directory })
    expect(resumed.code, resumed.stderr).toBe(0)
    const ok = (await readLines(output)).filter((line) => line.error === undefined)
    expect(ok.map((line) => line.id).sort()).toEqual(many.map((_, index) => `r${index}`))
  })

  it('fails a record whose prompt does not fit the context, and runs the others', async () => {
    const long = JSON.stringify({ id: 'long', prompt: 'the sky is blue '.repeat(200) })
    await writeFile(join(directory, 'mixed.jsonl'), `${records[0]}\n${long}\n${records[1]}\n`)
    const run = await runCli(
      [
        'run',
        'mixed.jsonl',
        '-m',
        model,
        ...oneThread,
        '--option',
        'num_ctx=256',
        '--option',
        'num_predict=4',
      ],
      { cwd: directory, env: {} },
    )
    expect(run.code).toBe(1)
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Line)
    expect(lines.map((line) => [line.id, (line.error as { code?: string } | undefined)?.code])).toEqual([
      ['a', undefined],
      ['long', 'SPOUT_CONTEXT_TOO_SMALL'],
      ['b', undefined],
    ])
  })

  it('broadcasts the run to a hub', async () => {
    const serve = startCli(['serve', '--port', '0'], { cwd: directory })
    await serve.stdout.waitFor(/^http:\/\/127\.0\.0\.1:\d+\n/)
    const url = serve.stdout.text.trim()
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`)
    const events: { type: string; recordId?: string; host?: string }[] = []
    const finished = new Promise<void>((resolve) => {
      socket.addEventListener('message', (message) => {
        const frame = JSON.parse(String(message.data))
        events.push(...(Array.isArray(frame) ? frame : [frame]))
        if (events.some((event) => event.type === 'job-end')) resolve()
      })
    })
    await new Promise((resolve) => socket.addEventListener('open', resolve))
    try {
      await writeFile(join(directory, 'two.jsonl'), `${records[0]}\n${records[1]}\n`)
      const run = await runCli(
        [
          'run',
          'two.jsonl',
          '-m',
          model,
          ...oneThread,
          '--option',
          'num_predict=4',
          '-o',
          'two-out.jsonl',
        ].concat(['--broadcast', url]),
        { cwd: directory },
      )
      expect(run.code, run.stderr).toBe(0)
      await finished
      expect(events.find((event) => event.type === 'job-start')).toMatchObject({ host: model })
      const ends = events.filter((event) => event.type === 'record-end').map((event) => event.recordId)
      expect(ends.sort()).toEqual(['a', 'b'])
      expect(events.filter((event) => event.type === 'chunk').length).toBeGreaterThanOrEqual(2)
    } finally {
      socket.close()
      serve.interrupt()
      await serve.done
    }
  })
})
