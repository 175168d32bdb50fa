import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

let collect: (() => void) | undefined

/** A full garbage collection, even when node was started without `--expose-gc`. */
export function collectGarbage(): void {
  if (!collect) {
    const exposed = (globalThis as { gc?: () => void }).gc
    if (exposed) collect = exposed
    else {
      setFlagsFromString('--expose-gc')
      collect = runInNewContext('gc') as () => void
    }
  }
  collect()
  collect()
}

/** `heapUsed` in bytes right after a full collection. */
export function heapUsedAfterGc(): number {
  collectGarbage()
  return process.memoryUsage().heapUsed
}

export const mebibytes = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10

/** Percentiles (nearest rank) of a list of numbers, rounded to 0.1. */
export function percentiles(values: readonly number[]): {
  count: number
  p50: number
  p95: number
  p99: number
  max: number
} {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (fraction: number): number => {
    if (sorted.length === 0) return Number.NaN
    const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))
    return Math.round(sorted[index]! * 10) / 10
  }
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) }
}
