import { describe, expect, it } from 'vitest'
import { isoNow } from './timestamp.ts'

describe('isoNow', () => {
  it('is the current time as ISO 8601, to the millisecond', async () => {
    const before = Date.now()
    const text = isoNow()
    const after = Date.now()
    const at = Date.parse(text)
    expect(text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(at).toBeGreaterThanOrEqual(before)
    expect(at).toBeLessThanOrEqual(after)
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(Date.parse(isoNow())).toBeGreaterThan(at)
  })
})
