import { describe, expect, it } from 'vitest'
import { HostError } from './errors.ts'
import { defaultHost, parseHost, resolveHost } from './host.ts'

describe('parseHost: OLLAMA_HOST as Ollama reads it', () => {
  // The cases of ollama/ollama envconfig's Host() tests, plus the client-side mapping of listen-only addresses.
  const cases: [string, string][] = [
    ['1.2.3.4', 'http://1.2.3.4:11434'],
    [':1234', 'http://127.0.0.1:1234'],
    ['1.2.3.4:1234', 'http://1.2.3.4:1234'],
    ['example.com', 'http://example.com:11434'],
    ['example.com:1234', 'http://example.com:1234'],
    [':66000', 'http://127.0.0.1:11434'],
    [':-1', 'http://127.0.0.1:11434'],
    ['[::1]', 'http://[::1]:11434'],
    ['::1', 'http://[::1]:11434'],
    ['[::1]:1337', 'http://[::1]:1337'],
    [' 1.2.3.4 ', 'http://1.2.3.4:11434'],
    ['"1.2.3.4"', 'http://1.2.3.4:11434'],
    [` " 1.2.3.4 " `, 'http://1.2.3.4:11434'],
    ["'1.2.3.4'", 'http://1.2.3.4:11434'],
    ['http://1.2.3.4', 'http://1.2.3.4:80'],
    ['http://1.2.3.4:4321', 'http://1.2.3.4:4321'],
    ['https://1.2.3.4', 'https://1.2.3.4:443'],
    ['https://1.2.3.4:4321', 'https://1.2.3.4:4321'],
    ['https://example.com/ollama/', 'https://example.com:443/ollama'],
    ['ollama.com', 'https://ollama.com:443'],
    ['0.0.0.0', 'http://127.0.0.1:11434'],
    ['0.0.0.0:8080', 'http://127.0.0.1:8080'],
    ['http://0.0.0.0:11434', 'http://127.0.0.1:11434'],
    ['[::]', 'http://[::1]:11434'],
    ['localhost', 'http://localhost:11434'],
    // The forms issue 13 lists, one per row: h, h:1, :1, http://h, https://h, http://h:1/path, quoted, [::1]:1, empty.
    ['h', 'http://h:11434'],
    ['h:1', 'http://h:1'],
    [':1', 'http://127.0.0.1:1'],
    ['http://h', 'http://h:80'],
    ['https://h', 'https://h:443'],
    ['http://h:1/path', 'http://h:1/path'],
    ['http://h:1/path//', 'http://h:1/path'],
    ['"http://h:1"', 'http://h:1'],
    ['[::1]:1', 'http://[::1]:1'],
    ['', 'http://127.0.0.1:11434'],
    ['h:port', 'http://h:11434'],
  ]
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${expected}`, () => {
      expect(parseHost(input).url).toBe(expected)
    })
  }

  it('moves user:password@ into an Authorization header', () => {
    expect(parseHost('https://me:s3cret@proxy.example:8443')).toEqual({
      url: 'https://proxy.example:8443',
      authorization: `Basic ${btoa('me:s3cret')}`,
    })
  })

  it('rejects schemes other than http and https', () => {
    expect(() => parseHost('ftp://example.com')).toThrow(/unsupported scheme/)
    expect(() => parseHost('ftp://example.com')).toThrow(HostError)
    try {
      parseHost('ftp://example.com')
    } catch (error) {
      expect(error).toMatchObject({ code: 'SPOUT_INVALID_HOST', host: 'ftp://example.com' })
    }
  })
})

describe('resolveHost', () => {
  it('prefers the explicit host, then OLLAMA_HOST, then the default', () => {
    expect(resolveHost('10.0.0.2', { OLLAMA_HOST: '10.0.0.3' }).url).toBe('http://10.0.0.2:11434')
    expect(resolveHost(undefined, { OLLAMA_HOST: '10.0.0.3:9999' }).url).toBe('http://10.0.0.3:9999')
    expect(resolveHost(undefined, {}).url).toBe(defaultHost)
    expect(resolveHost(undefined, { OLLAMA_HOST: '  ' }).url).toBe(defaultHost)
    expect(resolveHost(undefined, { OLLAMA_HOST: '""' }).url).toBe(defaultHost)
  })
})
