import { describe, expect, it } from 'vitest'
import { StageChannel } from './stage-channel.ts'

/** Lets queued promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve))

describe('StageChannel', () => {
  it('holds at most its capacity: a push beyond it waits until a record is pulled', async () => {
    const channel = new StageChannel<number>(new AbortController().signal, 2)
    const entered: number[] = []
    const pushes = [1, 2, 3, 4].map((item) => channel.push(item).then(() => void entered.push(item)))
    await settle()
    expect(entered).toEqual([1, 2])
    expect(channel.size).toBe(2)
    const iterator = channel[Symbol.asyncIterator]()
    expect(await iterator.next()).toEqual({ value: 1, done: false })
    await settle()
    expect(entered).toEqual([1, 2, 3])
    expect(channel.size).toBe(2)
    expect(await iterator.next()).toEqual({ value: 2, done: false })
    await Promise.all(pushes)
    channel.close()
    const rest: number[] = []
    for await (const item of { [Symbol.asyncIterator]: () => iterator }) rest.push(item)
    expect(rest).toEqual([3, 4])
  })

  it('hands a record straight to a waiting pull, and ends a waiting pull on close', async () => {
    const channel = new StageChannel<string>(new AbortController().signal, 1)
    const iterator = channel[Symbol.asyncIterator]()
    const first = iterator.next()
    await channel.push('a')
    expect(await first).toEqual({ value: 'a', done: false })
    const second = iterator.next()
    channel.close()
    expect(await second).toEqual({ value: undefined, done: true })
  })

  it('releases blocked pushes and a waiting pull when the signal aborts', async () => {
    const controller = new AbortController()
    const channel = new StageChannel<number>(controller.signal, 1)
    await channel.push(1)
    let released = false
    const blocked = channel.push(2).then(() => {
      released = true
    })
    await settle()
    expect(released).toBe(false)
    controller.abort()
    await blocked
    expect(released).toBe(true)
    // Nothing more enters after the abort.
    await channel.push(3)
    expect(channel.size).toBe(1)
  })

  it('refuses a capacity below 1', () => {
    expect(() => new StageChannel(new AbortController().signal, 0)).toThrow(RangeError)
  })
})
