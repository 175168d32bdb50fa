import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PluginError } from './errors.ts'
import type { ChunkEvent } from './events.ts'
import type { PipelineRequest, PluginContext, PluginOption, SpoutPlugin } from './plugin.ts'
import { definePlugin } from './plugin.ts'
import { hookKinds, PluginDriver } from './plugin-driver.ts'

const job = { jobId: 'job-1', name: 'test', model: 'llama3.2', host: 'http://127.0.0.1:1' }
const quietLogger = { info() {}, warn() {} }

function driverFor(plugins: PluginOption, contexts: PluginContext[] = []): PluginDriver {
  const controller = new AbortController()
  return new PluginDriver(plugins, () => {
    const context = { signal: controller.signal, job, logger: quietLogger }
    contexts.push(context)
    return context
  })
}

const chunk = (text: string): ChunkEvent => ({ type: 'chunk', jobId: 'job-1', recordId: '1', seq: 0, text })
const request = (prompt: string): PipelineRequest => ({ model: 'llama3.2', prompt })

describe('PluginDriver', () => {
  it('gives every hook a kind', () => {
    expect(hookKinds).toEqual({
      buildPrompt: 'sequential',
      jobStart: 'parallel',
      recordQueued: 'parallel',
      recordStart: 'parallel',
      writeChunk: 'parallel',
      recordEnd: 'parallel',
      hosts: 'parallel',
      jobEnd: 'parallel',
    })
  })

  it('composes prompt builders in order: pre, then unordered, then post, user order inside each', async () => {
    const append = (name: string, order?: 'pre' | 'post'): SpoutPlugin => {
      const handler = (value: PipelineRequest) => ({
        ...value,
        prompt: `${(value as { prompt: string }).prompt}${name}`,
      })
      return { name, buildPrompt: order ? { handler, order } : handler }
    }
    const driver = driverFor([
      append('a'),
      append('b', 'post'),
      append('c', 'pre'),
      append('d'),
      append('e', 'pre'),
    ])
    const result = await driver.hookReduceArg0('buildPrompt', request('>'), { id: 1 })
    expect((result as { prompt: string }).prompt).toBe('>ceadb')
  })

  it('orders any mix of pre, unordered and post hooks as a stable partition of the user order', async () => {
    const orders = fc.constantFrom<'pre' | 'post' | undefined>('pre', 'post', undefined)
    await fc.assert(
      fc.asyncProperty(fc.array(orders, { maxLength: 12 }), async (plan) => {
        const called: number[] = []
        const plugins: SpoutPlugin[] = plan.map((order, index) => {
          const handler = () => void called.push(index)
          return { name: `p${index}`, writeChunk: order ? { handler, order } : handler }
        })
        await driverFor(plugins).hookParallel('writeChunk', chunk('x'))
        const rank = (order: 'pre' | 'post' | undefined) => (order === 'pre' ? 0 : order === 'post' ? 2 : 1)
        const expected = plan.map((_, index) => index).sort((a, b) => rank(plan[a]) - rank(plan[b]) || a - b)
        expect(called).toEqual(expected)
      }),
    )
  })

  it('keeps the request when a builder returns nothing, and passes the record and context', async () => {
    const contexts: PluginContext[] = []
    const seen: unknown[] = []
    const driver = driverFor(
      [
        {
          name: 'observer',
          buildPrompt(value, record, context) {
            seen.push(value, record, context)
          },
        },
      ],
      contexts,
    )
    const initial = request('hi')
    const result = await driver.hookReduceArg0('buildPrompt', initial, { id: 7 })
    expect(result).toBe(initial)
    expect(seen).toEqual([initial, { id: 7 }, contexts[0]])
  })

  it('creates one context per plugin and hands the same one to every call', async () => {
    const contexts: PluginContext[] = []
    const received: PluginContext[] = []
    const plugin: SpoutPlugin = {
      name: 'sink',
      writeChunk(_chunk, context) {
        received.push(context)
      },
      recordEnd(_result, context) {
        received.push(context)
      },
    }
    const driver = driverFor([plugin, { name: 'other' }], contexts)
    driver.hookParallel('writeChunk', chunk('a'))
    driver.hookParallel('writeChunk', chunk('b'))
    expect(contexts).toHaveLength(2)
    expect(received).toEqual([contexts[0], contexts[0]])
    expect(received[0]).toBe(received[1])
  })

  it('skips falsy plugins and flattens presets', async () => {
    const order: string[] = []
    const sink = (name: string): SpoutPlugin => ({ name, writeChunk: () => void order.push(name) })
    const enabled = false as boolean
    const driver = driverFor([sink('a'), enabled && sink('never'), null, undefined, [sink('b'), [sink('c')]]])
    expect(driver.plugins.map((plugin) => plugin.name)).toEqual(['a', 'b', 'c'])
    await driver.hookParallel('writeChunk', chunk('x'))
    expect(order).toEqual(['a', 'b', 'c'])
  })

  it('stays synchronous when every parallel handler is synchronous', () => {
    const driver = driverFor([
      { name: 'a', writeChunk() {} },
      { name: 'b', writeChunk() {} },
    ])
    expect(driver.hookParallel('writeChunk', chunk('x'))).toBeUndefined()
    expect(driverFor([]).hookParallel('writeChunk', chunk('x'))).toBeUndefined()
  })

  it('runs parallel handlers at once and waits for all of them', async () => {
    const events: string[] = []
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const driver = driverFor([
      {
        name: 'slow',
        async writeChunk() {
          events.push('slow start')
          await gate
          events.push('slow end')
        },
      },
      { name: 'fast', writeChunk: () => void events.push('fast') },
    ])
    const pending = driver.hookParallel('writeChunk', chunk('x'))
    expect(events).toEqual(['slow start', 'fast'])
    let settled = false
    void pending?.then(() => {
      settled = true
    })
    await Promise.resolve()
    expect(settled).toBe(false)
    release()
    await pending
    expect(events).toEqual(['slow start', 'fast', 'slow end'])
  })

  it('turns a throw into a PluginError naming the plugin and the hook, after the others finish', async () => {
    let otherFinished = false
    const driver = driverFor([
      {
        name: 'broken-sink',
        writeChunk() {
          throw new Error('disk full')
        },
      },
      {
        name: 'fine',
        async writeChunk() {
          await new Promise((resolve) => setTimeout(resolve, 5))
          otherFinished = true
        },
      },
    ])
    const error = await driver.hookParallel('writeChunk', chunk('x'))?.catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(PluginError)
    expect(error).toMatchObject({
      code: 'SPOUT_PLUGIN_ERROR',
      plugin: 'broken-sink',
      hook: 'writeChunk',
      message: '[plugin broken-sink] writeChunk: disk full',
    })
    expect((error as PluginError).cause).toBeInstanceOf(Error)
    expect(otherFinished).toBe(true)
  })

  it('attributes async rejections and prompt builder failures', async () => {
    const driver = driverFor([
      {
        name: 'async-sink',
        recordEnd: async () => {
          throw new Error('no route')
        },
      },
      definePlugin({
        name: 'bad-builder',
        buildPrompt: {
          order: 'pre',
          handler() {
            throw new Error('template broke')
          },
        },
      }),
    ])
    await expect(driver.hookReduceArg0('buildPrompt', request('x'), {})).rejects.toThrow(
      '[plugin bad-builder] buildPrompt: template broke',
    )
    const result = {
      id: '1',
      input: {},
      model: 'm',
      backend: 'ollama',
      system: null,
      response: '',
      done_reason: null,
      metrics: {},
      attempts: 1,
      started_at: '',
      ended_at: '',
    }
    await expect(driver.hookParallel('recordEnd', result)).rejects.toMatchObject({
      plugin: 'async-sink',
      hook: 'recordEnd',
    })
  })

  it('rejects plugins without a name and hooks that are not functions', () => {
    expect(() => driverFor([{} as SpoutPlugin])).toThrow('[plugin plugin-1] name: a plugin needs a `name`')
    expect(() => driverFor([{ name: 'odd', writeChunk: 42 } as unknown as SpoutPlugin])).toThrow(
      '[plugin odd] writeChunk: the hook must be a function',
    )
    expect(() =>
      driverFor([{ name: 'odd', writeChunk: { handler() {}, order: 'first' } } as unknown as SpoutPlugin]),
    ).toThrow(`[plugin odd] writeChunk: order must be 'pre' or 'post', not "first"`)
  })

  it('types hook kinds: a hook is only callable through the driver method of its kind', async () => {
    const driver = driverFor([])
    // @ts-expect-error buildPrompt is sequential, not parallel
    driver.hookParallel('buildPrompt', request('x'))
    // @ts-expect-error writeChunk is parallel, not sequential
    await driver.hookReduceArg0('writeChunk', chunk('x')).catch(() => {})
    expect(driver.has('writeChunk')).toBe(false)
  })
})
