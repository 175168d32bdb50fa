import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { configIssue, hostConfigSchema, spoutConfigSchema, stageConfigSchema } from './config-schema.ts'

function complaint(input: unknown): string {
  const parsed = spoutConfigSchema.safeParse(input)
  if (parsed.success) throw new Error(`accepted: ${JSON.stringify(input)}`)
  return configIssue(parsed.error, 'spout.config.ts', input)
}

describe('spoutConfigSchema', () => {
  it('takes a full config as it is, functions and plugins included', () => {
    const filter = () => false
    const plugin = { name: 'p' }
    const config = {
      model: 'qwen3',
      api: 'openai',
      hosts: ['a', { address: 'b', api: 'ollama', concurrency: 2, weight: 0.5, models: ['m'] }],
      concurrency: 4,
      retries: 0,
      think: 'max',
      format: { type: 'object' },
      keepAlive: -1,
      options: { temperature: 0.2 },
      plugins: [plugin, false, [null]],
      timeouts: { firstByte: 0 },
      headers: { Authorization: 'Bearer x' },
      stages: [{ name: 'judge', template: '{{item}}', split: 'lines', filter, think: false }],
      input: 'in.jsonl',
    }
    const parsed = spoutConfigSchema.parse(config)
    expect(parsed).toEqual(config)
    expect(parsed.stages?.[0]?.filter).toBe(filter)
    expect(parsed.plugins?.[0]).toBe(plugin)
  })

  it.each([
    [42, 'spout.config.ts: the default export must be an object (use defineConfig({ … }))'],
    [{ modle: 'x', concurrency: 0 }, 'spout.config.ts: unknown key "modle" (known: model, host, api, hosts,'],
    [{ concurrency: 1.5 }, 'spout.config.ts: "concurrency" must be a whole number ≥ 1'],
    [{ retries: -1 }, 'spout.config.ts: "retries" must be a whole number ≥ 0'],
    [{ think: 'huge' }, 'spout.config.ts: "think" must be a boolean or low/medium/high/max'],
    [{ format: 'yaml' }, 'spout.config.ts: "format" must be "json" or a JSON schema object'],
    [{ timeouts: 5 }, 'spout.config.ts: "timeouts" must be an object of connect, firstByte, idle (ms ≥ 0)'],
    [
      { timeouts: { firstbyte: 5 } },
      'spout.config.ts: timeouts: unknown key "firstbyte" (known: connect, firstByte, idle)',
    ],
    [{ timeouts: { idle: -1 } }, 'spout.config.ts: timeouts: "idle" must be ms ≥ 0'],
    [{ headers: { 'X-A': 1 } }, 'spout.config.ts: headers: "X-A" must be a string (a header value)'],
    [{ hosts: 'a' }, 'spout.config.ts: "hosts" must be an array of addresses or { address, … }'],
    [
      { hosts: ['a', 5] },
      'spout.config.ts: hosts[1] must be an address or { address, api, concurrency, weight, models }',
    ],
    [{ hosts: [{ adress: 'a' }] }, 'spout.config.ts: hosts[0]: unknown key "adress" (known: address, api,'],
    [{ hosts: [{}] }, 'spout.config.ts: hosts[0]: "address" must be a string'],
    [{ hosts: [{ address: 'b', weight: 0 }] }, 'spout.config.ts: hosts[0]: "weight" must be a number > 0'],
    [{ stages: [] }, 'spout.config.ts: "stages" must be a non-empty array'],
    [{ stages: [5] }, 'spout.config.ts: stages[0] must be an object'],
    [{ stages: [{ name: 'teacher' }] }, 'spout.config.ts: stages[0] (teacher): "template" is required'],
    [
      { stages: [{ name: 'teacher', template: '' }] },
      'spout.config.ts: stages[0] (teacher): "template" is required',
    ],
    [{ stages: [{ name: 'a b', template: 't' }] }, 'spout.config.ts: stages[0] (a b): "name" must be a word'],
    [
      {
        stages: [
          { name: 'a', template: 't' },
          { name: 'b', template: 't', hosts: [{ address: 'h', slots: 1 }] },
        ],
      },
      'spout.config.ts: stages[1] (b): hosts[0]: unknown key "slots"',
    ],
    [
      { stages: [{ name: 'a', template: 't', split: 'words' }] },
      `"split" must be 'lines', 'json-array' or a function`,
    ],
  ])('refuses %j in one line that says where', (input, message) => {
    const line = complaint(input)
    expect(line).toContain(message)
    expect(line).not.toContain('\n')
  })
})

/** The keys a docs table lists in its first column (rows after the header under `heading`). */
async function tableKeys(page: string, heading: RegExp): Promise<string[]> {
  const text = await readFile(new URL(`../../../docs/guide/${page}`, import.meta.url), 'utf8')
  const lines = text.slice(text.search(heading)).split('\n')
  const start = lines.findIndex((line) => line.startsWith('|'))
  const keys: string[] = []
  for (const line of lines.slice(start + 2)) {
    const key = /^\|\s*`(\w+)`/.exec(line)
    if (!key) break
    keys.push(key[1]!)
  }
  return keys
}

describe('the docs and the schema list the same keys', () => {
  it('configuration.md: every key of the config', async () => {
    const documented = await tableKeys('configuration.md', /^## `defineConfig`/m)
    expect(documented.toSorted()).toEqual(Object.keys(spoutConfigSchema.shape).toSorted())
  })

  it('many-hosts.md: every key of a host', async () => {
    const documented = await tableKeys('many-hosts.md', /^\| Field \| Default/m)
    expect(documented.toSorted()).toEqual(Object.keys(hostConfigSchema.shape).toSorted())
  })

  it('stages.md: every key of a stage', async () => {
    const text = await readFile(new URL('../../../docs/guide/stages.md', import.meta.url), 'utf8')
    const paragraph = /^Each stage: [\s\S]*?\n\n/m.exec(text)?.[0] ?? ''
    const documented = new Set([...paragraph.matchAll(/`(\w+)`/g)].map((match) => match[1]!))
    expect([...documented].toSorted()).toEqual(Object.keys(stageConfigSchema.shape).toSorted())
  })
})
