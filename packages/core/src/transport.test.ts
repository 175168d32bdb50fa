import { createRequire } from 'node:module'
import { Agent } from 'undici'
import { describe, expect, it } from 'vitest'
import { loadAgent } from './transport.ts'

describe('loadAgent', () => {
  // The transport loads undici's Agent module alone (14 MB less than undici's index). If an undici
  // upgrade moves the file, the fallback still gives the same class; this says which one we got.
  it("is undici's own Agent class, loaded without undici's index", () => {
    expect(loadAgent()).toBe(Agent)
    const require = createRequire(import.meta.url)
    expect(require.resolve('undici/lib/dispatcher/agent.js')).toMatch(
      /undici[/\\]lib[/\\]dispatcher[/\\]agent\.js$/,
    )
  })
})
