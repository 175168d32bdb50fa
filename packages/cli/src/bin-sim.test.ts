// The built `spout` bin as a child process against the simulator over real HTTP: what reaches the
// server (system prompt, concurrency), malformed input lines, a plugin from a config file, and the
// live display under a real pseudo-terminal (util-linux `script`).
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { stripVTControlCharacters as stripAnsi } from 'node:util'
import { type Simulator, startSimulator } from '@spout/ollama-sim'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { shellQuote } from './commands/shared.ts'
import { bin, buildBinIfStale, spawnSpout } from './testing/bin.ts'
import { parseJsonl } from './testing/harness.ts'

const examples = resolve(import.meta.dirname, '../../../examples/plugins')
const model = 'llama3.2'
let sim: Simulator
let directory: string

beforeAll(async () => {
  await buildBinIfStale()
  // Room for more than -c on the server, and a pace so that records overlap.
  sim = await startSimulator({ tokensPerSecond: 200, numParallel: 8 })
  directory = await mkdtemp(join(tmpdir(), 'spout-bin-sim-'))
}, 240_000)

afterAll(async () => {
  await sim?.close()
  if (directory) await rm(directory, { recursive: true, force: true })
})

const spout = (argv: string[], cwd = directory) => spawnSpout(argv, { cwd, env: { OLLAMA_HOST: sim.url } })
const jsonl = (records: object[]) => records.map((record) => `${JSON.stringify(record)}\n`).join('')
const readOutput = async (path: string) => parseJsonl(await readFile(join(directory, path), 'utf8'))

describe('the spout bin against the simulator', () => {
  it('sends the system prompt, filled from each record, to the server', async () => {
    await writeFile(
      join(directory, 'roles.jsonl'),
      jsonl([
        { id: 'a', role: 'pirate', prompt: 'Say hello.' },
        { id: 'b', role: 'poet', prompt: 'Say goodbye.' },
      ]),
    )
    const result = await spout([
      'run',
      'roles.jsonl',
      '-m',
      model,
      '-s',
      'You are a {{role}}.',
      '-o',
      'roles.out.jsonl',
    ]).exit
    expect(result.code, result.stderr).toBe(0)
    const lines = await readOutput('roles.out.jsonl')
    expect(lines).toHaveLength(2)
    for (const line of lines) {
      const system = `You are a ${line.id === 'a' ? 'pirate' : 'poet'}.`
      expect(line.system).toBe(system)
      // The simulator's answer depends on the system prompt it received.
      expect(line.response).toBe(
        sim.expectedResponse({ model, prompt: line.prompt as string, system }).response,
      )
      expect(line.response).not.toBe(sim.expectedResponse({ model, prompt: line.prompt as string }).response)
    }
  })

  it('keeps -c requests in flight at the server, never more', async () => {
    const ids = Array.from({ length: 9 }, (_, index) => `r${index + 1}`)
    await writeFile(
      join(directory, 'many.jsonl'),
      jsonl(ids.map((id) => ({ id, prompt: `Write about ${id} [sim:tokens=40]` }))),
    )
    sim.resetCounters()
    const result = await spout(['run', 'many.jsonl', '-m', model, '-c', '3', '-o', 'many.out.jsonl']).exit
    expect(result.code, result.stderr).toBe(0)
    expect(sim.counters.maxInFlight).toBe(3)
    expect((await readOutput('many.out.jsonl')).map((line) => line.id).sort()).toEqual([...ids].sort())
  })

  it('fails a malformed input line alone and runs the rest; --resume keeps one line per id', async () => {
    await writeFile(
      join(directory, 'broken.jsonl'),
      '{"id":"x","prompt":"one"}\n{"id":"y","prompt":\n{"id":"z","prompt":"three"}\n',
    )
    const first = await spout(['run', 'broken.jsonl', '-m', model, '-o', 'broken.out.jsonl']).exit
    expect(first.code).toBe(1)
    expect(first.stderr).toMatch(/broken\.jsonl:2: not valid JSON/)
    expect(first.stderr).toMatch(/2 ok, 1 failed/)
    const resumed = await spout(['run', 'broken.jsonl', '-m', model, '-o', 'broken.out.jsonl', '--resume'])
      .exit
    expect(resumed.code).toBe(1)
    const lines = await readOutput('broken.out.jsonl')
    expect(lines.map((line) => line.id).sort()).toEqual(['2', 'x', 'z'])
    expect(lines.find((line) => line.id === '2')?.error).toMatchObject({
      code: 'SPOUT_INPUT_ERROR',
      message: expect.stringMatching(/^broken\.jsonl:2: /),
    })
  })

  it('loads plugins from the spout.config.ts it finds in its working directory', async () => {
    const project = join(directory, 'project')
    await mkdir(project)
    await writeFile(
      join(project, 'spout.config.ts'),
      [
        `import answerBriefly from ${JSON.stringify(join(examples, 'answer-briefly.js'))}`,
        `import streamToFiles from ${JSON.stringify(join(examples, 'stream-to-files.ts'))}`,
        `export default { model: ${JSON.stringify(model)}, plugins: [answerBriefly(), streamToFiles('live')] }`,
        '',
      ].join('\n'),
    )
    await writeFile(join(project, 'in.jsonl'), jsonl([{ id: 'q1', prompt: 'What is light?' }]))
    const result = await spout(['run', 'in.jsonl', '-o', 'out.jsonl'], project).exit
    expect(result.code, result.stderr).toBe(0)
    const [line] = parseJsonl(await readFile(join(project, 'out.jsonl'), 'utf8'))
    // The prompt builder rewrote the request the server answered.
    expect(line?.prompt).toBe('What is light? (briefly)')
    expect(line?.response).toBe(
      sim.expectedResponse({ model, prompt: 'What is light? (briefly)', system: 'Answer in one sentence.' })
        .response,
    )
    // The chunk sink wrote the streamed text to its file.
    expect(await readFile(join(project, 'live', 'q1.txt'), 'utf8')).toBe(line?.response)
  })
})

describe('the live display under a pseudo-terminal', () => {
  // The record streams 4 tokens, then the server stalls for a while before the rest.
  const prompt = 'Tell me about rivers [sim:fault=stall,after=4,ms=3000]'

  beforeAll(async () => {
    await writeFile(join(directory, 'stall.jsonl'), jsonl([{ id: 's1', prompt }]))
  })

  it('shows the tokens of a record before the record ends', async () => {
    const command = [
      'stty cols 100 rows 30;',
      ...[process.execPath, bin, 'run', 'stall.jsonl', '-m', model, '-o', 'stall.out.jsonl'].map(shellQuote),
    ].join(' ')
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: directory,
      env: { PATH: process.env.PATH ?? '', TERM: 'xterm-256color', OLLAMA_HOST: sim.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const exit = new Promise<number | null>((resolve) => child.on('close', resolve))
    const expected = sim.expectedResponse({ model, prompt })
    const partial = expected.tokens.slice(0, 3).join('')
    let screen = ''
    let partialSeenWhileRunning: boolean | undefined
    child.stdout.on('data', (chunk: Buffer) => {
      screen += chunk.toString()
      if (partialSeenWhileRunning === undefined && stripAnsi(screen).includes(partial)) {
        // The server is still holding the rest of the record back: it has not ended.
        partialSeenWhileRunning = sim.counters.completed === 0
      }
    })
    sim.resetCounters()
    expect(await exit).toBe(0)
    expect(partialSeenWhileRunning).toBe(true)
    expect(screen).toMatch(/\x1b\[/)
    expect(stripAnsi(screen)).toMatch(/1 ok, 0 failed/)
    const [line] = await readOutput('stall.out.jsonl')
    expect(line?.response).toBe(expected.response)
  }, 30_000)

  it('writes no ANSI escape when stderr is piped', async () => {
    await writeFile(join(directory, 'plain.jsonl'), jsonl([{ id: 'p1', prompt: 'Tell me about rivers' }]))
    const result = await spout(['run', 'plain.jsonl', '-m', model, '-o', 'plain.out.jsonl']).exit
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(/1 ok, 0 failed/)
    expect(result.stderr).not.toMatch(/\x1b/)
  }, 30_000)
})
