import { describe, expect, it } from 'vitest'
import { DirectiveError, FaultMemory, parseDirectives, parseFaultSpec } from './faults.ts'

describe('parseDirectives', () => {
  it('reads a fault with its keys from anywhere in the text', () => {
    expect(parseDirectives('Tell me [sim:fault=midstream-error,after=3] a story')).toEqual({
      fault: { name: 'midstream-error', after: 3 },
    })
  })

  it('merges several directives, later ones winning', () => {
    expect(
      parseDirectives(
        '[sim:chunking=byte] x [sim:tokens=5] [sim:fault=stall, after=2, ms=50, times=1] [sim:chunking=random]',
      ),
    ).toEqual({ chunking: 'random', tokens: 5, fault: { name: 'stall', after: 2, ms: 50, times: 1 } })
  })

  it('returns nothing for text without directives', () => {
    expect(parseDirectives('plain [simulated] text')).toEqual({})
  })

  it.each([
    ['[sim:fault=explode]', /unknown fault "explode"/],
    ['[sim:fault=drop,after=-1]', /after must be an integer/],
    ['[sim:chunking=words]', /chunking must be one of/],
    ['[sim:after=3]', /without fault=NAME/],
    ['[sim:colour=red]', /unknown key "colour"/],
  ])('rejects %s', (text, message) => {
    expect(() => parseDirectives(text)).toThrow(DirectiveError)
    expect(() => parseDirectives(text)).toThrow(message)
  })

  it('parses the bin --fault form', () => {
    expect(parseFaultSpec('long-line,bytes=100')).toEqual({ name: 'long-line', bytes: 100 })
  })
})

describe('FaultMemory', () => {
  it('hits the first `times` requests per prompt text, then never', () => {
    const memory = new FaultMemory()
    const fault = { name: 'http-500' as const, times: 2 }
    expect([1, 2, 3].map(() => memory.hits(fault, 'a'))).toEqual([true, true, false])
    expect(memory.hits(fault, 'b')).toBe(true)
    memory.clear()
    expect(memory.hits(fault, 'a')).toBe(true)
  })

  it('always hits without `times`', () => {
    const memory = new FaultMemory()
    expect([1, 2, 3].map(() => memory.hits({ name: 'drop' }, 'a'))).toEqual([true, true, true])
  })
})
