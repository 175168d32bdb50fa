import { describe, expect, it } from 'vitest'
import { type ConcurrencySample, LearnedConcurrency } from './learned-concurrency.ts'

/**
 * A host with `slots` slots, each request taking `generationMs` once it has one (a queued request
 * waits for the first slot to free, as Ollama's do), driven in 5 ms steps while the controller keeps
 * its limit in flight. With `firstTokens`, each request also reports its time to first token (its
 * first token comes 3 ms after it gets a slot), as the pool does. Returns the limit at each second.
 */
function learn(slots: number, seconds: number, generationMs: number, firstTokens = false): number[] {
  const controller = new LearnedConcurrency()
  type Request = {
    sample: ConcurrencySample
    startAt: number
    slotAt: number
    endAt: number
    /** Counted at its first token (undefined: not reported yet). */
    counted?: boolean
  }
  const running: Request[] = []
  const waiting: Request[] = []
  let inFlight = 0
  const limits: number[] = []
  const run = (request: Request, now: number) => {
    request.slotAt = now
    request.endAt = now + generationMs
    running.push(request)
  }
  for (let now = 0; now <= seconds * 1000; now += 5) {
    for (let index = running.length - 1; index >= 0; index--) {
      const request = running[index]!
      const wait = request.slotAt - request.startAt + 3
      if (firstTokens && request.counted === undefined && request.slotAt + 3 <= now) {
        request.counted = controller.firstToken(request.sample, wait)
      }
      if (request.endAt > now) continue
      running.splice(index, 1)
      inFlight -= 1
      if (request.counted) controller.settled(wait)
      else controller.succeeded(request.sample, wait)
    }
    while (running.length < slots && waiting.length > 0) run(waiting.shift()!, now)
    while (inFlight < controller.limit) {
      inFlight += 1
      const request: Request = { sample: controller.start(inFlight), startAt: now, slotAt: 0, endAt: 0 }
      if (running.length < slots) run(request, now)
      else waiting.push(request)
    }
    if (now % 1000 === 0) limits.push(controller.limit)
  }
  return limits
}

/** The first second from which the limit stays within one slot of `slots`. */
function settledAt(limits: number[], slots: number): number {
  let at = limits.length
  while (at > 0 && Math.abs(limits[at - 1]! - slots) <= 1) at--
  return at
}

describe('LearnedConcurrency', () => {
  it('starts at one', () => {
    expect(new LearnedConcurrency().limit).toBe(1)
  })

  it.each([
    [1, 500],
    [2, 750],
    [4, 1500],
    [8, 3000],
    [13, 1000],
  ])('finds %i slots (generations of %i ms) within 40 s and holds them', (slots, generationMs) => {
    const limits = learn(slots, 90, generationMs)
    for (const limit of limits.slice(40)) expect(limit).toBe(slots)
  })

  it.each([
    [2, 750],
    [4, 1500],
    [8, 3000],
    [13, 1000],
  ])(
    'counting at the first token, finds %i slots (generations of %i ms) within four generations',
    (slots, generationMs) => {
      const early = settledAt(learn(slots, 90, generationMs, true), slots)
      expect(early).toBeLessThanOrEqual(Math.ceil((4 * generationMs) / 1000))
    },
  )

  it('counting only at the end, 8 slots of 3 s generations take many more (why the pool reports first tokens)', () => {
    expect(settledAt(learn(8, 90, 3000, true), 8)).toBeLessThanOrEqual(12)
    expect(settledAt(learn(8, 90, 3000), 8)).toBeGreaterThan(20)
  })

  it('a request that came late to its first token is judged at its end, with its exact wait', () => {
    const controller = new LearnedConcurrency()
    controller.succeeded(controller.start(1), 10) // baseline 10 ms
    expect(controller.limit).toBe(2)
    const slow = controller.start(2)
    expect(controller.firstToken(slow, 5_000)).toBe(false) // too slow to tell: wait for the end
    expect(controller.limit).toBe(2)
    expect(controller.succeeded(slow, 4_000)).toBe(true) // the exact wait queued: cut
    expect(controller.limit).toBe(1)
    expect(controller.ceiling).toBe(2)
  })

  it('does not count at the first token before it knows what a wait costs', () => {
    const controller = new LearnedConcurrency()
    expect(controller.firstToken(controller.start(1), 10)).toBe(false)
    expect(controller.limit).toBe(1)
  })

  it('does not oscillate once it found the plateau (three minutes of 8 slots)', () => {
    const limits = learn(8, 180, 3000).slice(45)
    expect(new Set(limits)).toEqual(new Set([8]))
  })

  it('grows in slow start only while at least half the limit is in use', () => {
    const controller = new LearnedConcurrency({ initial: 8 })
    for (let index = 0; index < 10; index++) controller.succeeded(controller.start(3), 5)
    expect(controller.limit).toBe(8)
    controller.succeeded(controller.start(4), 5)
    expect(controller.limit).toBe(9)
  })

  it('halves on 503 once per generation', () => {
    const controller = new LearnedConcurrency({ initial: 8 })
    const samples = Array.from({ length: 8 }, (_, index) => controller.start(index + 1))
    expect(controller.busy(samples[7]!)).toBe(true)
    expect(controller.limit).toBe(4)
    // The others were started before the cut: they do not cut again.
    expect(controller.busy(samples[6]!)).toBe(false)
    expect(controller.limit).toBe(4)
    expect(controller.ceiling).toBe(8)
  })

  it('comes back to one below the ceiling after a cut, then holds', () => {
    const controller = new LearnedConcurrency({ initial: 8 })
    controller.busy(controller.start(8))
    for (let index = 0; index < 20; index++) controller.succeeded(controller.start(controller.limit), 5)
    expect(controller.limit).toBe(7)
  })

  it('tries one more after a calm stretch and keeps it when nothing queues', () => {
    const controller = new LearnedConcurrency({ initial: 4, probeAfter: 5 })
    controller.busy(controller.start(5)) // ceiling 5, limit min(2, 4) = 2
    for (let index = 0; index < 10; index++) controller.succeeded(controller.start(controller.limit), 5)
    expect(controller.limit).toBe(5) // probed one above the plateau of 4
    for (let index = 0; index < 5; index++) controller.succeeded(controller.start(5), 5)
    expect(controller.ceiling).toBe(6)
    expect(controller.limit).toBe(5)
  })

  it('returns to the plateau without a cut when the probe queues', () => {
    const controller = new LearnedConcurrency({ initial: 8, probeAfter: 3 })
    controller.busy(controller.start(9)) // ceiling 9, limit 4
    while (controller.limit < 8) controller.succeeded(controller.start(controller.limit), 5)
    for (let index = 0; index < 3; index++) controller.succeeded(controller.start(8), 5)
    expect(controller.limit).toBe(9) // probing
    controller.succeeded(controller.start(9), 900)
    expect(controller.limit).toBe(8)
    expect(controller.ceiling).toBe(9)
  })

  it('steps one down when the plateau itself queues', () => {
    const controller = new LearnedConcurrency({ initial: 8 })
    controller.busy(controller.start(9))
    while (controller.limit < 8) controller.succeeded(controller.start(controller.limit), 5)
    controller.succeeded(controller.start(8), 900)
    expect(controller.limit).toBe(7)
    expect(controller.ceiling).toBe(8)
  })

  it('treats a wait far above the baseline as queueing', () => {
    const controller = new LearnedConcurrency({ initial: 6, jumpMargin: 50 })
    controller.succeeded(controller.start(1), 10)
    expect(controller.succeeded(controller.start(6), 80)).toBe(true)
    expect(controller.limit).toBe(3)
    expect(controller.ceiling).toBe(6)
  })

  it('starts over after reset', () => {
    const controller = new LearnedConcurrency({ initial: 2 })
    controller.busy(controller.start(2))
    controller.reset()
    expect(controller.limit).toBe(2)
    expect(controller.ceiling).toBeUndefined()
  })

  it('rejects options that cannot work', () => {
    expect(() => new LearnedConcurrency({ initial: 0 })).toThrow(RangeError)
    expect(() => new LearnedConcurrency({ initial: 4, max: 2 })).toThrow(RangeError)
    expect(() => new LearnedConcurrency({ backoff: 1 })).toThrow(RangeError)
  })
})
