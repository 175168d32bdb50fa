import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { parseLines, rawRequest } from './testing/support.ts'

const binPath = fileURLToPath(new URL('./bin.ts', import.meta.url))
const children: ChildProcess[] = []

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  }
})

function runBin(args: string[]): ChildProcess {
  const child = spawn(process.execPath, [binPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  return child
}

async function firstLine(child: ChildProcess): Promise<string> {
  let text = ''
  for await (const chunk of child.stdout!) {
    text += String(chunk)
    if (text.includes('\n')) return text.slice(0, text.indexOf('\n'))
  }
  throw new Error(`bin exited without printing a URL: ${text}`)
}

async function output(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk) => {
    stdout += String(chunk)
  })
  child.stderr!.on('data', (chunk) => {
    stderr += String(chunk)
  })
  const [code] = (await once(child, 'exit')) as [number | null]
  return { code, stdout, stderr }
}

describe('ollama-sim bin', () => {
  it('prints its URL and serves with the flags given', async () => {
    const child = runBin([
      '--port',
      '0',
      '--model',
      'mistral:7b=completion,tools',
      '--ollama-version',
      '9.9.9',
    ])
    const url = await firstLine(child)
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect((await rawRequest(url, '/api/version')).text).toBe('{"version":"9.9.9"}')
    const tags = JSON.parse((await rawRequest(url, '/api/tags')).text) as {
      models: Array<{ name: string; capabilities: string[] }>
    }
    expect(tags.models.map((model) => [model.name, model.capabilities])).toEqual([
      ['mistral:7b', ['completion', 'tools']],
    ])
    const lines = parseLines(
      (await rawRequest(url, '/api/generate', { body: { model: 'mistral:7b', prompt: 'hi' } })).text,
    )
    expect(lines.at(-1)).toMatchObject({ done: true })
    child.kill('SIGTERM')
    const [code] = (await once(child, 'exit')) as [number | null]
    expect(code).toBe(0)
  })

  it('applies --fault to every request', async () => {
    const child = runBin(['--port', '0', '--fault', 'http-500'])
    const url = await firstLine(child)
    expect(
      (await rawRequest(url, '/api/generate', { body: { model: 'llama3.2', prompt: 'hi' } })).status,
    ).toBe(500)
  })

  it('prints help, and fails with a message on a bad flag', async () => {
    const help = await output(runBin(['--help']))
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('--tokens-per-second')
    const bad = await output(runBin(['--chunking', 'words']))
    expect(bad.code).toBe(1)
    expect(bad.stderr).toBe(
      'ollama-sim: --chunking must be one of line, byte, random, coalesce, got "words"\n',
    )
  })
})
