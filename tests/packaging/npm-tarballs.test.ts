// The public packages as npm users get them: packed the way they are published, installed with npm into
// an empty folder outside the workspace, and used there (bins, the viewer page, a plain .mjs import).
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repositoryRoot } from '../support/cli.ts'
import { makeTempDir } from '../support/temp-dir.ts'

const run = promisify(execFile)
const publicPackages = ['core', 'cli', 'ws-server', 'ollama-sim'] as const
const env = { ...process.env, NO_COLOR: '1', npm_config_update_notifier: 'false' }

let directory: { path: string; remove: () => Promise<void> }
let project: string
const children: ChildProcess[] = []

/** Starts a bin of the installed project and resolves with the first line it prints (a URL). */
function startBin(name: string, args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(join(project, 'node_modules/.bin', name), args, { cwd: project, env })
  children.push(child)
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const line = out.split('\n')[0]
      if (out.includes('\n') && line) resolve({ child, url: line.trim() })
    })
    child.on('exit', (code) => reject(new Error(`${name} exited ${code} before printing its URL`)))
  })
}

beforeAll(async () => {
  directory = await makeTempDir('spout-npm-')
  const packs = join(directory.path, 'packs')
  const tarballs: string[] = []
  for (const name of publicPackages) {
    // pnpm pack applies publishConfig and turns workspace: ranges into versions, as `pnpm publish` does.
    const { stdout } = await run('pnpm', ['pack', '--pack-destination', packs], {
      cwd: join(repositoryRoot, 'packages', name),
      env,
    })
    tarballs.push(stdout.trim().split('\n').at(-1) ?? '')
  }
  project = join(directory.path, 'project')
  await run('mkdir', ['-p', project])
  await writeFile(join(project, 'package.json'), '{ "name": "someone-elses-app", "private": true }\n')
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], {
    cwd: project,
    env,
  })
}, 300_000)

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL')
  await directory?.remove()
})

describe('the packages installed from their tarballs with npm', () => {
  it.each(publicPackages)('@spout/%s has a publishable package.json', async (name) => {
    const text = await readFile(join(project, 'node_modules/@spout', name, 'package.json'), 'utf8')
    expect(text).not.toMatch(/workspace:|@spout\/source|"\.\/src\//)
    const manifest = JSON.parse(text)
    expect(manifest).toMatchObject({
      license: 'MIT',
      type: 'module',
      types: './dist/index.d.ts',
      engines: { node: '>=22' },
      publishConfig: { access: 'public' },
      repository: { type: 'git', directory: `packages/${name}` },
    })
    expect(manifest.description.length).toBeGreaterThan(20)
    expect(manifest.keywords.length).toBeGreaterThan(2)
    const readme = await readFile(join(project, 'node_modules/@spout', name, 'README.md'), 'utf8')
    expect(readme, 'links on the registry page must be absolute').not.toMatch(/\]\((?!https?:|#)/)
  })

  it('runs `spout --help`', async () => {
    const { stdout } = await run(join(project, 'node_modules/.bin/spout'), ['--help'], { cwd: project, env })
    expect(stdout).toMatch(/Usage: spout/)
    expect(stdout).toMatch(/\brun\b[\s\S]*\bserve\b/)
  })

  it('runs a batch against the simulator bin and writes one line per record', async () => {
    const sim = await startBin('ollama-sim', ['--port', '0'])
    await writeFile(join(project, 'in.jsonl'), '{"id":"a","prompt":"one"}\n{"id":"b","prompt":"two"}\n')
    const result = await run(
      join(project, 'node_modules/.bin/spout'),
      ['run', 'in.jsonl', '-m', 'llama3.2', '-o', 'out.jsonl'],
      { cwd: project, env: { ...env, OLLAMA_HOST: sim.url } },
    )
    expect(result.stderr).toMatch(/2 ok, 0 failed/)
    const lines = (await readFile(join(project, 'out.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(lines.map((line) => line.id).sort()).toEqual(['a', 'b'])
    expect(lines.every((line) => line.response.length > 0 && !line.error)).toBe(true)
    sim.child.kill('SIGTERM')
  })

  it('serves the viewer page from `spout serve`, from inside the installed package', async () => {
    const hub = await startBin('spout', ['serve', '--port', '0'])
    const page = await fetch(hub.url)
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toMatch(/<div id="root">/)
    const script = html.match(/src="(\/assets\/[^"]+\.js)"/)?.[1]
    expect((await fetch(`${hub.url}${script}`)).status).toBe(200)
    hub.child.kill('SIGINT')
  })

  it('imports OllamaClient from @spout/core in a plain .mjs and streams from the simulator', async () => {
    const sim = await startBin('ollama-sim', ['--port', '0'])
    await writeFile(
      join(project, 'stream.mjs'),
      `import { OllamaClient } from '@spout/core'
const client = new OllamaClient({ host: process.argv[2] })
let text = ''
for await (const chunk of client.generate({ model: 'llama3.2', prompt: 'hello' })) text += chunk.response
await client.close()
console.log(JSON.stringify({ text }))
`,
    )
    const { stdout } = await run(process.execPath, ['stream.mjs', sim.url], { cwd: project, env })
    expect(JSON.parse(stdout).text.length).toBeGreaterThan(0)
    sim.child.kill('SIGTERM')
  })
})
