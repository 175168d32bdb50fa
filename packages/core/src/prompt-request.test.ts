import { describe, expect, it } from 'vitest'
import { effectiveSystem, isChatRequest } from './prompt-request.ts'

describe('effectiveSystem', () => {
  it('is the request system for generate and the leading system message for chat', () => {
    expect(effectiveSystem({ model: 'm', prompt: 'x', system: 'S' })).toBe('S')
    expect(effectiveSystem({ model: 'm', prompt: 'x' })).toBeNull()
    expect(effectiveSystem({ model: 'm', messages: [{ role: 'system', content: 'C' }] })).toBe('C')
    expect(effectiveSystem({ model: 'm', messages: [{ role: 'user', content: 'u' }] })).toBeNull()
    expect(isChatRequest({ model: 'm', messages: [] })).toBe(true)
    expect(isChatRequest({ model: 'm', prompt: '' })).toBe(false)
  })
})
