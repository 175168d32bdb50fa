import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { stripVTControlCharacters as stripAnsi } from 'node:util'
import { expectedResponse, type Simulator, startSimulator } from '@spout/ollama-sim'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseJsonl, runCli, startCli } from '../testing/harness.ts'

const examples = resolve(import.meta.dirname, '../../../../examples/plugins')
let sim: Simulator
let directory: string

beforeAll(async () => {
  sim = await startSimulator()
  directory = await mkdtemp(join(tmpdir(), 'spout-run-'))
})
afterAll(async () => {
  await sim.close()
  await rm(directory, { recursive: true, force: true })
})

const model = 'llama3.2'
const questions = ['Why is the sky blue?', 'What is a stream?', 'Name a fox.', 'Count to three.']

async function write(name: string, text: string): Promise<string> {
  await writeFile(join(directory, name), text)
  return name
}
async function readOutput(name: string) {
  return parseJsonl(await readFile(join(directory, name), 'utf8'))
}
const run = (argv: string[], options: Parameters<typeof runCli>[1] | object = {}) =>
  runCli(argv, { cwd: directory, env: { OLLAMA_HOST: sim.url }, ...options })

function expectEachIdOnce(lines: Record<string, unknown>[], ids: string[]) {
  expect(lines.map((line) => line.id).sort()).toEqual([...ids].sort())
}

describe('spout run', () => {
  it('runs a JSONL file into an output file, one line per record', async () => {
    const input = await write(
      'questions.jsonl',
      questions.map((prompt, index) => JSON.stringify({ id: `q${index + 1}`, prompt })).join('\n'),
    )
    const result = await run(['run', input, '-m', model, '-o', 'out.jsonl'])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('')
    const lines = await readOutput('out.jsonl')
    expectEachIdOnce(lines, ['q1', 'q2', 'q3', 'q4'])
    for (const line of lines) {
      expect(line.response).toBe(expectedResponse({ model, prompt: line.prompt as string }).response)
      expect(line.error).toBeUndefined()
    }
    // Not a terminal: no ANSI, a summary line.
    expect(result.stderr).not.toMatch(/\x1b/)
    expect(result.stderr).toMatch(/spout: 4 ok, 0 failed · [\d,]+ tokens .*→ out\.jsonl/)
  })

  it('reads CSV through a template and records the system prompt', async () => {
    const input = await write('topics.csv', 'id,topic,level\na,rivers,beginner\nb,"light, colour",expert\n')
    const result = await run([
      'run',
      input,
      '-m',
      model,
      '-o',
      'csv.jsonl',
      '-t',
      'Explain {{topic}}.',
      '-s',
      'You teach {{level}} students.',
      '-j',
      '2',
    ])
    expect(result.code).toBe(0)
    const lines = await readOutput('csv.jsonl')
    const byId = Object.fromEntries(lines.map((line) => [line.id, line]))
    expect(byId.b?.prompt).toBe('Explain light, colour.')
    expect(byId.b?.system).toBe('You teach expert students.')
    expect(byId.b?.response).toBe(
      expectedResponse({ model, prompt: 'Explain light, colour.', system: 'You teach expert students.' })
        .response,
    )
  })

  it('reads text and stdin, writing the dataset alone to stdout when it is a pipe', async () => {
    const fromText = await run(['run', await write('prompts.txt', 'first\n\nsecond\n'), '-m', model])
    expect(fromText.code).toBe(0)
    const lines = parseJsonl(fromText.stdout)
    expect(lines.map((line) => [line.id, line.prompt])).toEqual([
      ['1', 'first'],
      ['2', 'second'],
    ])
    const fromStdin = await run(['run', '-', '-m', model, '--quiet'], {
      stdin: '{"id":"s1","prompt":"one"}\n{"id":"s2","prompt":"two"}\n',
    })
    expect(fromStdin.code).toBe(0)
    expect(fromStdin.stderr).toBe('')
    expectEachIdOnce(parseJsonl(fromStdin.stdout), ['s1', 's2'])
  })

  it('uses /api/chat with --chat, and for records that carry messages', async () => {
    const input = await write(
      'chat.jsonl',
      [
        { id: 'p', prompt: 'hello there' },
        { id: 'm', messages: [{ role: 'user', content: 'from messages' }] },
      ]
        .map((record) => JSON.stringify(record))
        .join('\n'),
    )
    const before = sim.counters.byPath['/api/chat'] ?? 0
    const result = await run(['run', input, '-m', model, '-o', 'chat.out.jsonl', '--chat', '-s', 'Be kind.'])
    expect(result.code, result.stderr).toBe(0)
    expect((sim.counters.byPath['/api/chat'] ?? 0) - before).toBe(2)
    const byId = Object.fromEntries((await readOutput('chat.out.jsonl')).map((line) => [line.id, line]))
    expect(byId.m?.system).toBe('Be kind.')
    expect(byId.m?.response).toBe(
      expectedResponse({
        model,
        messages: [
          { role: 'system', content: 'Be kind.' },
          { role: 'user', content: 'from messages' },
        ],
      }).response,
    )
    expect(byId.p?.messages).toBeDefined()
  })

  it('exits 1 when some records fail, with one line per record and the error in it', async () => {
    const input = await write(
      'faulty.jsonl',
      [
        { id: 'ok', prompt: 'fine' },
        { id: 'bad', prompt: 'broken [sim:fault=http-500]' },
        { id: 'ok2', prompt: 'fine too' },
      ]
        .map((record) => JSON.stringify(record))
        .join('\n'),
    )
    const result = await run(['run', input, '-m', model, '-o', 'faulty.out.jsonl', '--retries', '0'])
    expect(result.code).toBe(1)
    const lines = await readOutput('faulty.out.jsonl')
    expectEachIdOnce(lines, ['ok', 'bad', 'ok2'])
    const bad = lines.find((line) => line.id === 'bad')
    expect(bad?.error).toMatchObject({ code: 'SPOUT_HTTP_ERROR' })
    expect(result.stderr).toMatch(/spout: ✗ bad: .*500/)
    expect(result.stderr).toMatch(/run again with --resume/)
  })

  it('resumes after failures: failed records run again, every id ends up exactly once', async () => {
    const input = await write(
      'flaky.jsonl',
      ['a', 'b [sim:fault=http-500,times=1]', 'c']
        .map((prompt, index) => JSON.stringify({ id: `r${index}`, prompt }))
        .join('\n'),
    )
    const first = await run(['run', input, '-m', model, '-o', 'flaky.out.jsonl', '--retries', '0'])
    expect(first.code).toBe(1)
    const second = await run(['run', input, '-m', model, '-o', 'flaky.out.jsonl', '--resume'])
    expect(second.code).toBe(0)
    expect(second.stderr).toMatch(/resuming flaky\.out\.jsonl: 2 done, 1 failed or torn lines dropped/)
    const lines = await readOutput('flaky.out.jsonl')
    expectEachIdOnce(lines, ['r0', 'r1', 'r2'])
    expect(lines.every((line) => line.error === undefined)).toBe(true)
  })

  it('refuses to resume from a file that is not a Spout output, with exit 2', async () => {
    const input = await write('r.jsonl', '{"id":"a","prompt":"x"}\n')
    await write('not-output.jsonl', 'hello\n{"id":"a"}\n')
    const result = await run(['run', input, '-m', model, '-o', 'not-output.jsonl', '--resume'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^spout: cannot resume from not-output\.jsonl: .+\n$/)
  })

  it('exits 130 on Ctrl-C with a resumable output, and --resume finishes the job', async () => {
    const slow = await startSimulator({ tokensPerSecond: 200 })
    try {
      const ids = Array.from({ length: 8 }, (_, index) => `i${index}`)
      const input = await write(
        'interrupt.jsonl',
        ids.map((id) => JSON.stringify({ id, prompt: `prompt ${id}` })).join('\n'),
      )
      const argv = ['run', input, '-m', model, '-o', 'interrupt.out.jsonl', '--host', slow.url]
      const running = startCli(argv, { cwd: directory, env: {} })
      while (slow.counters.completed < 2) await new Promise((resolve) => setTimeout(resolve, 20))
      running.interrupt()
      expect(await running.done).toBe(130)
      expect(running.stderr.text).toContain(`resume with: spout ${argv.join(' ')} --resume`)
      expect(running.stderr.text).not.toContain('✗') // cancelled records are not reported as failures
      expect(running.stderr.text).toMatch(/spout: interrupted: \d+ ok, 0 failed(, 1 cancelled)? · /)
      const partial = await readOutput('interrupt.out.jsonl')
      expect(partial.length).toBeLessThan(ids.length)

      const resumed = await runCli([...argv, '--resume'], { cwd: directory, env: {} })
      expect(resumed.code).toBe(0)
      const lines = await readOutput('interrupt.out.jsonl')
      expectEachIdOnce(lines, ids)
      expect(lines.every((line) => line.error === undefined)).toBe(true)
    } finally {
      await slow.close()
    }
  })

  it('stops with one line and exit 2 when Ollama is unreachable', async () => {
    const input = await write('one.jsonl', '{"prompt":"hi"}\n')
    const result = await run(['run', input, '-m', model, '-o', 'never.jsonl', '--host', 'http://127.0.0.1:1'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(
      /^spout: cannot reach Ollama at http:\/\/127\.0\.0\.1:1\b.*ollama serve.*OLLAMA_HOST/,
    )
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('stops with exit 2 when Ollama goes away mid-run, leaving a resumable output', async () => {
    const leaving = await startSimulator({ tokensPerSecond: 100 })
    const input = await write(
      'gone.jsonl',
      Array.from({ length: 6 }, (_, index) => JSON.stringify({ id: `g${index}`, prompt: `p${index}` })).join(
        '\n',
      ),
    )
    const argv = ['run', input, '-m', model, '-o', 'gone.out.jsonl', '--host', leaving.url, '--retries', '1']
    const running = startCli(argv, { cwd: directory, env: {} })
    while (leaving.counters.completed < 1) await new Promise((resolve) => setTimeout(resolve, 20))
    await leaving.close()
    expect(await running.done).toBe(2)
    expect(running.stderr.text).toMatch(
      /^spout: cannot reach Ollama at http:\/\/127\.0\.0\.1:\d+ \(connection refused\): start it/m,
    )
    expect(running.stderr.text).toContain(`resume with: spout ${argv.join(' ')} --resume`)
    expect(running.stderr.text.match(/cannot reach/g)).toHaveLength(1)
    const lines = await readOutput('gone.out.jsonl')
    expect(lines.filter((line) => line.error === undefined).length).toBeGreaterThanOrEqual(1)
    expect(lines.length).toBeLessThan(6)
  })

  it('fails only the record whose connection is dropped while Ollama still answers, and goes on', async () => {
    const prompts = ['Dropped [sim:fault=flaky-connect]', 'Clean one', 'Clean two', 'Clean three']
    const input = await write(
      'dropped.jsonl',
      prompts.map((prompt, index) => JSON.stringify({ id: `d${index + 1}`, prompt })).join('\n'),
    )
    const result = await run(['run', input, '-m', model, '-o', 'dropped.out.jsonl', '--retries', '1'])
    expect(result.code, result.stderr).toBe(1)
    // The record's own failure line, not the job-stopping one.
    expect(result.stderr).not.toMatch(/^spout: cannot reach Ollama/m)
    expect(result.stderr).toMatch(/^spout: ✗ d1: .*connection closed before a response$/m)
    expect(result.stderr).toContain('3 ok, 1 failed')
    const lines = await readOutput('dropped.out.jsonl')
    expect(
      lines.map((line) => [line.id, (line.error as { code?: string } | undefined)?.code ?? 'ok']),
    ).toEqual([
      ['d1', 'SPOUT_CONNECTION_ERROR'],
      ['d2', 'ok'],
      ['d3', 'ok'],
      ['d4', 'ok'],
    ])
  })

  it('stops at the first 404 when the model is missing, suggesting spout pull', async () => {
    const input = await write(
      'many.jsonl',
      Array.from({ length: 20 }, (_, index) => JSON.stringify({ prompt: `p${index}` })).join('\n'),
    )
    const before = sim.counters.byPath['/api/generate'] ?? 0
    const result = await run(['run', input, '-m', 'no-such-model', '-o', 'missing.jsonl'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/model 'no-such-model' not found at .*spout pull no-such-model/)
    expect(result.stderr.match(/not found/g)).toHaveLength(1)
    expect((sim.counters.byPath['/api/generate'] ?? 0) - before).toBeLessThan(20)
  })

  it('refuses usage errors with exit 2', async () => {
    const input = await write('u.jsonl', '{"prompt":"hi"}\n')
    const tty = await run(['run', input, '-m', model], { stdoutTTY: true })
    expect(tty.code).toBe(2)
    expect(tty.stderr).toMatch(/stdout is a terminal: pass -o/)
    const noModel = await run(['run', input, '-o', 'x.jsonl'])
    expect(noModel.code).toBe(2)
    expect(noModel.stderr).toMatch(/no model given/)
    const missing = await run(['run', 'absent.jsonl', '-m', model, '-o', 'x.jsonl'])
    expect(missing.stderr).toBe('spout: input not found: absent.jsonl\n')
  })

  it('fails a malformed input line alone, with its line number, and redoes it on --resume', async () => {
    const input = await write(
      'bad.jsonl',
      '{"id":"a","prompt":"first"}\n{oops\n\n{"id":"c","prompt":"third"}\n{"id":"d","prompt":"fourth"}\n',
    )
    const result = await run(['run', input, '-m', model, '-o', 'bad.out.jsonl', '-c', '2'])
    expect(result.code, result.stderr).toBe(1)
    const lines = await readOutput('bad.out.jsonl')
    // The bad line is the second record: its id is its position.
    expectEachIdOnce(lines, ['a', '2', 'c', 'd'])
    const bad = lines.find((line) => line.id === '2')
    expect(bad?.error).toEqual({
      code: 'SPOUT_INPUT_ERROR',
      message: expect.stringMatching(/^bad\.jsonl:2: not valid JSON/),
    })
    expect(lines.filter((line) => line.error === undefined)).toHaveLength(3)
    expect(result.stderr).toMatch(/1 failed/)
    expect(result.stderr).toMatch(/bad\.jsonl:2: not valid JSON/)
    expect(result.stderr).toMatch(/1 malformed input line: fix it in bad\.jsonl/)

    const before = sim.counters.byPath['/api/generate'] ?? 0
    const resumed = await run(['run', input, '-m', model, '-o', 'bad.out.jsonl', '--resume'])
    expect(resumed.code).toBe(1)
    expect((sim.counters.byPath['/api/generate'] ?? 0) - before).toBe(0)
    const again = await readOutput('bad.out.jsonl')
    expectEachIdOnce(again, ['a', '2', 'c', 'd'])
    expect(again.find((line) => line.id === '2')?.error).toMatchObject({ code: 'SPOUT_INPUT_ERROR' })
  })

  it('fails a CSV row with the wrong number of columns alone', async () => {
    const input = await write('rows.csv', 'id,prompt\nr1,one\nr2,two,extra\nr3,three\n')
    const result = await run(['run', input, '-m', model, '-o', 'rows.out.jsonl'])
    expect(result.code).toBe(1)
    const lines = await readOutput('rows.out.jsonl')
    expectEachIdOnce(lines, ['r1', '2', 'r3'])
    expect(lines.find((line) => line.id === '2')?.error).toEqual({
      code: 'SPOUT_INPUT_ERROR',
      message: 'rows.csv:3: 3 columns where the header has 2',
    })
  })

  it('loads plugins given with --plugin, in JavaScript and TypeScript', async () => {
    const input = await write('plug.jsonl', '{"id":"p1","prompt":"What is light?"}\n')
    const result = await run([
      'run',
      input,
      '-m',
      model,
      '-o',
      'plug.out.jsonl',
      '--plugin',
      join(examples, 'answer-briefly.js'),
      '--plugin',
      join(examples, 'length-report.ts'),
    ])
    expect(result.code).toBe(0)
    const [line] = await readOutput('plug.out.jsonl')
    expect(line?.system).toBe('Answer in one sentence.')
    expect(line?.prompt).toBe('What is light? (briefly)')
    expect(result.stderr).toMatch(/\[plugin length-report\] 1 responses/)
    const broken = await run(['run', input, '-m', model, '-o', 'x.jsonl', '--plugin', './nope.js'])
    expect(broken.code).toBe(2)
    expect(broken.stderr).toMatch(/--plugin \.\/nope\.js: cannot load it/)
  })

  it('loads a plugin by package name, resolved from the working directory', async () => {
    const packageDirectory = join(directory, 'node_modules', 'spout-plugin-shout')
    await mkdir(packageDirectory, { recursive: true })
    await writeFile(
      join(packageDirectory, 'package.json'),
      JSON.stringify({ name: 'spout-plugin-shout', type: 'module', exports: './index.js' }),
    )
    await writeFile(
      join(packageDirectory, 'index.js'),
      `export default () => [{ name: 'shout', buildPrompt: (request) => ({ ...request, prompt: request.prompt.toUpperCase() }) }]`,
    )
    const input = await write('shout.jsonl', '{"id":"s","prompt":"quiet please"}\n')
    const result = await run([
      'run',
      input,
      '-m',
      model,
      '-o',
      'shout.out.jsonl',
      '--plugin',
      'spout-plugin-shout',
    ])
    expect(result.code, result.stderr).toBe(0)
    const [line] = await readOutput('shout.out.jsonl')
    expect(line?.prompt).toBe('QUIET PLEASE')
  })

  it('takes settings from spout.config.mjs, with flags overriding them', async () => {
    const project = await mkdtemp(join(directory, 'project-'))
    await writeFile(
      join(project, 'spout.config.mjs'),
      `export default { model: 'llama3.2', template: 'Q: {{q}}', options: { num_predict: 3 } }`,
    )
    await writeFile(join(project, 'in.jsonl'), '{"id":"c1","q":"why"}\n')
    const result = await runCli(['run', 'in.jsonl', '-o', 'out.jsonl', '--option', 'num_predict=5'], {
      cwd: project,
      env: { OLLAMA_HOST: sim.url },
    })
    expect(result.code).toBe(0)
    const [line] = parseJsonl(await readFile(join(project, 'out.jsonl'), 'utf8'))
    expect(line?.prompt).toBe('Q: why')
    expect(line?.response).toBe(
      expectedResponse({ model, prompt: 'Q: why', options: { num_predict: 5 } }).response,
    )
    expect(line?.done_reason).toBe('length')
  })

  it('draws a live panel for several records in flight, and leaves the terminal clean', async () => {
    const paced = await startSimulator({ tokensPerSecond: 50, numParallel: 2 })
    try {
      const input = await write(
        'panel.jsonl',
        ['a', 'b', 'c [sim:fault=http-500]', 'd']
          .map((prompt, index) => JSON.stringify({ id: `n${index}`, prompt }))
          .join('\n'),
      )
      const result = await runCli(
        [
          'run',
          input,
          '-m',
          model,
          '-o',
          'panel.out.jsonl',
          '-c',
          '2',
          '--retries',
          '0',
          '--host',
          paced.url,
        ],
        { cwd: directory, env: {}, stdoutTTY: true, stderrTTY: true },
      )
      expect(result.code).toBe(1)
      const screen = stripAnsi(result.stderr)
      expect(screen).toMatch(/\d\/4 done · \d failed · [\d.]+ tok\/s/)
      expect(screen).toMatch(/^n0 +\S/m) // a line for an in-flight record with its text
      expect(screen).toMatch(/✗ n2: .*500/)
      expect(result.stderr.endsWith('\n')).toBe(true)
      expect(result.stderr.split('\x1b[?25l').length).toBe(result.stderr.split('\x1b[?25h').length)
    } finally {
      await paced.close()
    }
  })

  it('draws the live display only when both stdout and stderr are terminals', async () => {
    const input = await write('live.jsonl', '{"id":"l1","prompt":"stream me"}\n')
    const live = await run(['run', input, '-m', model, '-o', 'live.out.jsonl'], {
      stdoutTTY: true,
      stderrTTY: true,
    })
    expect(live.code).toBe(0)
    expect(live.stderr).toContain('── l1')
    expect(live.stderr).toContain(expectedResponse({ model, prompt: 'stream me' }).response)
    expect(live.stderr).toMatch(/\x1b\[/)
    const noColor = await run(['run', input, '-m', model, '-o', 'live.out.jsonl'], {
      stdoutTTY: true,
      stderrTTY: true,
      env: { OLLAMA_HOST: sim.url, NO_COLOR: '1' },
    })
    expect(noColor.stderr).not.toMatch(/\x1b\[\d+m/)
    const piped = await run(['run', input, '-m', model], { stderrTTY: true })
    expect(piped.stderr).not.toMatch(/\x1b/)
  })
})
