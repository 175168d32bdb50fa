import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CliError } from '../cli-error.ts'
import type { LoadedConfig } from '../config.ts'
import type { CliIo } from '../io.ts'
import { CaptureStream } from '../testing/harness.ts'
import { planRun } from './run-plan.ts'

let cwd: string

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'spout-plan-'))
  await writeFile(join(cwd, 'system.txt'), 'You are terse.\n')
})

afterAll(async () => {
  await rm(cwd, { recursive: true, force: true })
})

function io(stdoutIsTTY = false): CliIo {
  return {
    stdin: Readable.from([]),
    stdout: new CaptureStream(stdoutIsTTY),
    stderr: new CaptureStream(),
    env: {},
    cwd,
    onInterrupt: () => () => {},
  } as unknown as CliIo
}

const noConfig: LoadedConfig = { config: {} }

describe('planRun', () => {
  it('takes the flags over the config, and the defaults for the rest', async () => {
    const loaded: LoadedConfig = {
      config: { model: 'config-model', concurrency: 3, think: 'low', options: { temperature: 0.2 } },
    }
    const plan = await planRun(
      'in.jsonl',
      {
        model: 'flag-model',
        output: 'out.jsonl',
        systemFile: 'system.txt',
        option: ['seed=7'],
        keepAlive: '300',
      },
      loaded,
      io(),
      true,
    )
    expect(plan).toMatchObject({
      input: 'in.jsonl',
      model: 'flag-model',
      concurrency: 3,
      concurrencyGiven: true,
      retries: undefined,
      system: 'You are terse.\n',
      chat: false,
      output: 'out.jsonl',
      outputPath: join(cwd, 'out.jsonl'),
      quiet: false,
      showProgress: true,
      live: true,
    })
    expect(plan.request).toEqual({ think: 'low', keep_alive: 300, options: { temperature: 0.2, seed: 7 } })
  })

  it('sends the dataset to stdout when it is not a terminal, and no live display then', async () => {
    const plan = await planRun('-', { model: 'm', quiet: true }, noConfig, io(false), true)
    expect(plan).toMatchObject({
      outputPath: undefined,
      concurrency: 1,
      concurrencyGiven: false,
      live: false,
    })
    expect(plan.showProgress).toBe(false)
    expect(plan.request).toEqual({})
  })

  it('refuses what it cannot do, each in one line', async () => {
    await expect(planRun(undefined, { model: 'm' }, noConfig, io(), false)).rejects.toThrow(/no input/)
    await expect(planRun('in.jsonl', { model: 'm' }, noConfig, io(true), false)).rejects.toThrow(
      /stdout is a terminal/,
    )
    await expect(planRun('in.jsonl', { model: 'm', resume: true }, noConfig, io(), false)).rejects.toThrow(
      /--resume needs -o/,
    )
    await expect(
      planRun('in.jsonl', { model: 'm', concurrency: '0', output: 'o.jsonl' }, noConfig, io(), false),
    ).rejects.toBeInstanceOf(CliError)
  })
})
