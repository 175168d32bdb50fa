import { describe, expect, it } from 'vitest'
import { WriteCoalescer } from './write-coalescer.ts'

describe('WriteCoalescer', () => {
  it('writes the lines given during a write together, in order, once it returns', async () => {
    const calls: string[] = []
    let release: (() => void) | undefined
    const lines = new WriteCoalescer(async (text) => {
      calls.push(text)
      if (calls.length === 1) await new Promise<void>((resolve) => (release = resolve))
    })
    const first = lines.write('a\n')
    expect(lines.busy).toBe(true)
    const rest = [lines.write('b\n'), lines.write('c\n')]
    release?.()
    await Promise.all([first, ...rest])
    expect(calls).toEqual(['a\n', 'b\nc\n'])
    await lines.drain()
    expect(lines.busy).toBe(false)
  })

  it('rejects the lines of a failed write, and writes the next ones', async () => {
    let fail = true
    const written: string[] = []
    const lines = new WriteCoalescer(async (text) => {
      if (fail) {
        fail = false
        throw new Error('disk full')
      }
      written.push(text)
    })
    await expect(lines.write('a\n')).rejects.toThrow('disk full')
    await lines.write('b\n')
    expect(written).toEqual(['b\n'])
  })
})
