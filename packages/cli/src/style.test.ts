import { describe, expect, it } from 'vitest'
import { colorEnabled } from './style.ts'

const terminal = { isTTY: true } as never
const pipe = { isTTY: false } as never

describe('colorEnabled', () => {
  it('reads the environment as Node does: NO_COLOR and FORCE_COLOR=0 win, FORCE_COLOR turns colour on off a terminal', () => {
    expect(colorEnabled(terminal, {})).toBe(true)
    expect(colorEnabled(pipe, {})).toBe(false)
    expect(colorEnabled(pipe, { FORCE_COLOR: '1' })).toBe(true)
    expect(colorEnabled(terminal, { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false)
    expect(colorEnabled(terminal, { FORCE_COLOR: '0' })).toBe(false)
    expect(colorEnabled(terminal, { TERM: 'dumb' })).toBe(false)
  })
})
