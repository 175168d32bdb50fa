import { describe, expect, it } from 'vitest'
import { normalizeHost, resolveHost } from './host.ts'

describe('resolveHost', () => {
  it('prefers the flag, then the config, then OLLAMA_HOST, then the default', () => {
    const env = { OLLAMA_HOST: 'gpu-box:11500' }
    expect(resolveHost('http://a:1', 'http://b:2', env)).toBe('http://a:1')
    expect(resolveHost(undefined, 'http://b:2', env)).toBe('http://b:2')
    expect(resolveHost(undefined, undefined, env)).toBe('http://gpu-box:11500')
    expect(resolveHost(undefined, undefined, {})).toBe('http://127.0.0.1:11434')
  })

  it("accepts Ollama's host forms", () => {
    expect(normalizeHost('0.0.0.0')).toBe('http://127.0.0.1:11434')
    expect(normalizeHost(':8080')).toBe('http://127.0.0.1:8080')
    expect(normalizeHost('example.com')).toBe('http://example.com:11434')
    expect(normalizeHost('https://example.com')).toBe('https://example.com')
    expect(normalizeHost('http://example.com:80/ollama/')).toBe('http://example.com/ollama')
    expect(() => normalizeHost('ftp://x')).toThrow(/http/)
  })
})
