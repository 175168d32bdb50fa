import { getEventListeners } from 'node:events'
import { describe, expect, it } from 'vitest'
import { onAbort } from './abort-listener.ts'

describe('onAbort', () => {
  it('adds one listener to a signal however many callers listen, and calls each caller once', () => {
    const controller = new AbortController()
    const calls: string[] = []
    const stops = ['a', 'b', 'c'].map((name) => onAbort(controller.signal, () => calls.push(name)))
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1)
    stops[1]!()
    controller.abort()
    controller.abort()
    expect(calls).toEqual(['a', 'c'])
  })

  it('never calls a callback that stopped listening, even after thousands came and went', () => {
    const controller = new AbortController()
    let called = 0
    for (let index = 0; index < 10_000; index++) onAbort(controller.signal, () => called++)()
    const kept = onAbort(controller.signal, () => called++)
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1)
    controller.abort()
    expect(called).toBe(1)
    kept()
  })

  it('skips a callback that an earlier one stopped during the abort, and calls the rest once', () => {
    const controller = new AbortController()
    const calls: number[] = []
    let stopSecond = (): void => {}
    onAbort(controller.signal, () => {
      calls.push(1)
      stopSecond()
    })
    stopSecond = onAbort(controller.signal, () => calls.push(2))
    onAbort(controller.signal, () => calls.push(3))
    controller.abort()
    expect(calls).toEqual([1, 3])
  })

  it('stopping twice, or after the abort, is harmless', () => {
    const controller = new AbortController()
    const stop = onAbort(controller.signal, () => {})
    stop()
    stop()
    const late = onAbort(controller.signal, () => {})
    controller.abort()
    late()
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
  })
})
