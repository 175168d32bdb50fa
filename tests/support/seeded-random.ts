/** A small seeded PRNG (mulberry32): the same seed gives the same run, so a failure reproduces. */
export interface SeededRandom {
  readonly seed: number
  /** A float in [0, 1). */
  next(): number
  /** An integer in [minimum, maximum]. */
  integer(minimum: number, maximum: number): number
  /** One element of `items`. */
  pick<T>(items: readonly T[]): T
  /** `length` random bytes. */
  bytes(length: number): Uint8Array
}

/** The seed from `SPOUT_SEED` when set, else a fresh one; tests print it. */
export function testSeed(): number {
  const fromEnvironment = process.env.SPOUT_SEED
  if (fromEnvironment !== undefined && /^\d+$/.test(fromEnvironment)) return Number(fromEnvironment) >>> 0
  return Math.floor(Math.random() * 2 ** 32) >>> 0
}

export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let value = state
    value = Math.imul(value ^ (value >>> 15), value | 1)
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61)
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296
  }
  return {
    seed,
    next,
    integer: (minimum, maximum) => minimum + Math.floor(next() * (maximum - minimum + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    bytes: (length) => {
      const result = new Uint8Array(length)
      for (let index = 0; index < length; index++) result[index] = Math.floor(next() * 256)
      return result
    },
  }
}
