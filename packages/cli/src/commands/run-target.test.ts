import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../config.ts'
import { hostSpecs } from './run-target.ts'

let directory: string
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'spout-hosts-'))
})
afterEach(async () => {
  await rm(directory, { recursive: true, force: true })
})

describe('hostSpecs', () => {
  it('is one host without --host or hosts: --host, then the config host, then OLLAMA_HOST', async () => {
    expect(await hostSpecs(undefined, {}, {})).toEqual([{ address: 'http://127.0.0.1:11434', api: 'ollama' }])
    expect(await hostSpecs(undefined, { host: 'gpu:11434' }, {})).toEqual([
      { address: 'gpu:11434', api: 'ollama' },
    ])
    expect(await hostSpecs(['a:1'], { host: 'gpu' }, {})).toEqual([{ address: 'a:1', api: 'ollama' }])
  })

  it('makes a pool of repeated --host flags, which win over the config hosts', async () => {
    const specs = await hostSpecs(['a:1', 'b:2'], { hosts: ['c:3'] }, {})
    expect(specs.map((spec) => spec.address)).toEqual(['a:1', 'b:2'])
  })

  it('takes the config hosts with their settings', async () => {
    const specs = await hostSpecs(
      undefined,
      { hosts: ['a:1', { address: 'b:2', concurrency: 4, weight: 2, models: ['llama3.2'] }] },
      {},
    )
    expect(specs).toEqual([
      { address: 'a:1', api: 'ollama' },
      { address: 'b:2', api: 'ollama', concurrency: 4, weight: 2, models: ['llama3.2'] },
    ])
  })

  it('refuses an address that is not one', async () => {
    await expect(hostSpecs(['a:1', 'ftp://b'], {}, {})).rejects.toThrow(/ftp/)
  })
})

describe('the hosts key of spout.config', () => {
  it('names the entry and field of a mistake', async () => {
    const cases: [string, RegExp][] = [
      ['{"hosts":"a"}', /"hosts" must be an array/],
      ['{"hosts":[{"adress":"a"}]}', /hosts\[0\]: unknown key "adress"/],
      [
        '{"hosts":["a",{"address":"b","concurrency":0}]}',
        /hosts\[1\]: "concurrency" must be a whole number ≥ 1/,
      ],
      ['{"hosts":[{"address":"b","api":"grpc"}]}', /"api" must be "ollama" or "openai"/],
      ['{"hosts":[{"address":"b","weight":0}]}', /"weight" must be a number > 0/],
      ['{"hosts":[{"address":"b","models":"x"}]}', /"models" must be an array/],
    ]
    for (const [text, message] of cases) {
      await writeFile(join(directory, 'spout.config.json'), text)
      await expect(loadConfig(directory)).rejects.toThrow(message)
    }
    await writeFile(join(directory, 'spout.config.json'), '{"hosts":["a",{"address":"b","api":"ollama"}]}')
    expect((await loadConfig(directory)).config.hosts).toEqual(['a', { address: 'b', api: 'ollama' }])
  })
})
