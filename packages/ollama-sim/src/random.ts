/** Deterministic pseudo-randomness: a 32-bit FNV-1a hash of text seeds a mulberry32 generator. */

export function hashText(text: string, seed = 0x811c9dc5): number {
  let hash = seed >>> 0
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/** A small seeded generator; `next()` returns an unsigned 32-bit integer. */
export class Random {
  #state: number

  constructor(seed: number) {
    this.#state = seed >>> 0
  }

  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0
    let value = this.#state
    value = Math.imul(value ^ (value >>> 15), value | 1)
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61)
    return (value ^ (value >>> 14)) >>> 0
  }

  /** An integer in [minimum, maximum]. */
  between(minimum: number, maximum: number): number {
    return minimum + (this.next() % (maximum - minimum + 1))
  }

  pick<T>(items: readonly T[]): T {
    return items[this.next() % items.length]!
  }
}
