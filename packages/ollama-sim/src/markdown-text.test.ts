import { describe, expect, it } from 'vitest'
import { parseDirectives } from './faults.ts'
import { expectedResponse } from './text.ts'

describe('[sim:style=markdown]', () => {
  it('answers in Markdown: a heading, a list, a fenced code block and a table', () => {
    const answer = expectedResponse({
      model: 'llama3.2',
      prompt: 'Explain rivers [sim:style=markdown,tokens=120]',
    })
    expect(answer.tokens).toHaveLength(120)
    expect(answer.response).toMatch(/^## /)
    expect(answer.response).toContain('\n- ')
    expect(answer.response).toContain('```ts\n')
    expect(answer.response).toContain('|---|---|')
    expect(answer.tokens.join('')).toBe(answer.response)
  })

  it('is deterministic and refuses an unknown style', () => {
    const request = { model: 'llama3.2', prompt: 'x [sim:style=markdown]' }
    expect(expectedResponse(request)).toEqual(expectedResponse(request))
    expect(parseDirectives('[sim:style=plain]').style).toBe('plain')
    expect(() => parseDirectives('[sim:style=html]')).toThrow('style must be one of plain, markdown')
  })
})
