import { describe, expect, it } from 'vitest'
import { CliError } from './cli-error.ts'
import { resolveHost } from './host.ts'

describe('resolveHost', () => {
  it('prefers the flag, then the config, then OLLAMA_HOST, then the default', async () => {
    const env = { OLLAMA_HOST: 'gpu-box:11500' }
    expect(await resolveHost('http://a:1', 'http://b:2', env)).toBe('http://a:1')
    expect(await resolveHost(undefined, 'http://b:2', env)).toBe('http://b:2')
    expect(await resolveHost(undefined, undefined, env)).toBe('gpu-box:11500')
    expect(await resolveHost(undefined, undefined, {})).toBe('http://127.0.0.1:11434')
  })

  it("wraps core's HostError in a usage error", async () => {
    await expect(resolveHost('ftp://x', undefined, {})).rejects.toThrow(CliError)
    await expect(resolveHost('ftp://x', undefined, {})).rejects.toThrow(
      'not a valid Ollama host "ftp://x": unsupported scheme ftp: use http or https',
    )
  })
})
