import { describe, expect, it } from 'vitest'
import { SlotQueue } from './queue.ts'

describe('SlotQueue', () => {
  it('runs `slots` at once, queues up to maxQueue, refuses beyond', async () => {
    const queue = new SlotQueue(2, 1)
    const signal = new AbortController().signal
    expect(queue.acquire(signal)).toBe('acquired')
    expect(queue.acquire(signal)).toBe('acquired')
    const waiting = queue.acquire(signal)
    expect(waiting).toBeInstanceOf(Promise)
    expect(queue.acquire(signal)).toBe('queue-full')
    queue.release()
    await expect(waiting).resolves.toBe('acquired')
    expect(queue.busy).toBe(2)
    queue.release()
    queue.release()
    expect(queue.busy).toBe(0)
  })

  it('drops a waiter whose signal aborts and hands the slot to the next one', async () => {
    const queue = new SlotQueue(1, 5)
    const never = new AbortController().signal
    expect(queue.acquire(never)).toBe('acquired')
    const controller = new AbortController()
    const first = queue.acquire(controller.signal)
    const second = queue.acquire(never)
    expect(queue.waiting).toBe(2)
    controller.abort()
    await expect(first).resolves.toBe('aborted')
    expect(queue.waiting).toBe(1)
    queue.release()
    await expect(second).resolves.toBe('acquired')
  })

  it('with maxQueue 0 refuses any request that cannot start at once', () => {
    const queue = new SlotQueue(1, 0)
    const signal = new AbortController().signal
    expect(queue.acquire(signal)).toBe('acquired')
    expect(queue.acquire(signal)).toBe('queue-full')
  })

  it('rejects impossible sizes', () => {
    expect(() => new SlotQueue(0, 1)).toThrow(RangeError)
    expect(() => new SlotQueue(1, -1)).toThrow(RangeError)
  })
})
