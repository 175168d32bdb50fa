import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from './config.ts'

let directory: string
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'spout-config-'))
})
afterEach(async () => {
  await rm(directory, { recursive: true, force: true })
})

describe('loadConfig', () => {
  it('finds spout.config.ts in the working directory and runs its TypeScript', async () => {
    await writeFile(
      join(directory, 'spout.config.ts'),
      `const concurrency: number = 3
export default { model: 'qwen3', concurrency, options: { temperature: 0.1 }, plugins: [{ name: 'p' }] }`,
    )
    const { config, path } = await loadConfig(directory)
    expect(path).toBe(join(directory, 'spout.config.ts'))
    expect(config).toEqual({
      model: 'qwen3',
      concurrency: 3,
      options: { temperature: 0.1 },
      plugins: [{ name: 'p' }],
    })
  })

  it('takes the first of ts, mjs, js, json, and an explicit --config path', async () => {
    await writeFile(join(directory, 'spout.config.json'), '{"model":"from-json"}')
    await writeFile(join(directory, 'spout.config.mjs'), `export default () => ({ model: 'from-mjs' })`)
    await writeFile(join(directory, 'other.json'), '{"model":"other"}')
    expect((await loadConfig(directory)).config.model).toBe('from-mjs')
    expect((await loadConfig(directory, 'other.json')).config.model).toBe('other')
  })

  it('is empty without a file, and names the file and key of a mistake', async () => {
    expect(await loadConfig(directory)).toEqual({ config: {} })
    await expect(loadConfig(directory, 'missing.ts')).rejects.toThrow(/config file not found: missing\.ts/)
    await writeFile(join(directory, 'spout.config.json'), '{"modle":"x"}')
    await expect(loadConfig(directory)).rejects.toThrow(/spout\.config\.json: unknown key "modle"/)
    await writeFile(join(directory, 'spout.config.json'), '{"concurrency":0}')
    await expect(loadConfig(directory)).rejects.toThrow(/"concurrency" must be a whole number/)
  })

  it('reports a config that throws as a one-line load error', async () => {
    await writeFile(join(directory, 'spout.config.mjs'), `throw new Error('bad config\\nsecond line')`)
    await expect(loadConfig(directory)).rejects.toThrow(/^cannot load spout\.config\.mjs: bad config$/)
  })
})
