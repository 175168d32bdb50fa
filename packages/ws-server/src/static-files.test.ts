import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHub, type Hub } from './hub.ts'

let root: string
let hub: Hub

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'spout-static-'))
  const site = join(root, 'site')
  await mkdir(join(site, 'assets'), { recursive: true })
  await writeFile(join(site, 'index.html'), '<!doctype html><title>viewer</title>')
  await writeFile(join(site, 'assets', 'app-1234.js'), 'console.log(1)')
  await writeFile(join(site, 'assets', 'style.css'), 'body{}')
  await writeFile(join(site, '.env'), 'SECRET=1')
  await writeFile(join(root, 'secret.txt'), 'outside')
  await symlink(join(root, 'secret.txt'), join(site, 'linked.txt'))
  hub = await createHub({ port: 0, staticDir: site })
})

afterAll(async () => {
  await hub?.close()
  await rm(root, { recursive: true, force: true })
})

/** A raw request, so paths like `/../x` reach the server as written (fetch would normalize them). */
function get(
  path: string,
  method = 'GET',
): Promise<{ status: number; body: string; type?: string; cache?: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port: hub.port, path, method }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (piece: string) => {
        body += piece
      })
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          body,
          type: response.headers['content-type'],
          cache: response.headers['cache-control'],
        }),
      )
    })
    request.on('error', reject)
    request.end()
  })
}

describe('static viewer files', () => {
  it('serves index.html at / and files with their content types', async () => {
    const index = await get('/')
    expect(index).toMatchObject({ status: 200, type: 'text/html; charset=utf-8', cache: 'no-cache' })
    expect(index.body).toContain('<title>viewer</title>')
    const script = await get('/assets/app-1234.js')
    expect(script).toMatchObject({
      status: 200,
      type: 'text/javascript; charset=utf-8',
      body: 'console.log(1)',
    })
    expect(script.cache).toContain('immutable')
    expect((await get('/assets/style.css')).type).toBe('text/css; charset=utf-8')
    expect(await get('/assets/style.css', 'HEAD')).toMatchObject({ status: 200, body: '' })
  })

  it('falls back to index.html for client-side routes but not for missing files', async () => {
    const route = await get('/jobs/abc')
    expect(route.status).toBe(200)
    expect(route.body).toContain('<title>viewer</title>')
    expect((await get('/assets/missing.js')).status).toBe(404)
  })

  it('never serves a path outside the directory, a dotfile or a symlink out', async () => {
    for (const path of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/%2e%2e%5csecret.txt',
      '/.env',
      '/linked.txt',
      '/%00',
    ]) {
      const response = await get(path)
      expect(response.body, path).not.toContain('outside')
      expect(response.body, path).not.toContain('SECRET')
    }
    expect((await get('/linked.txt')).status).toBe(404)
    expect((await get('/', 'POST')).status).toBe(405)
  })
})
