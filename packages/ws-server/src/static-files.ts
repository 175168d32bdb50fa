import { createReadStream } from 'node:fs'
import { realpath, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path'

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.webmanifest': 'application/manifest+json',
}

export function contentTypeOf(path: string): string {
  return contentTypes[extname(path).toLowerCase()] ?? 'application/octet-stream'
}

/**
 * Serves files from one directory: `/` and unknown extension-less paths get `index.html` (SPA
 * fallback), anything resolving outside the directory (`..`, encoded slashes, symlinks out) or
 * naming a dotfile is 404. GET and HEAD only.
 */
export class StaticFiles {
  readonly #root: string
  #realRoot: Promise<string> | undefined

  constructor(root: string) {
    this.#root = resolve(root)
  }

  async handle(request: IncomingMessage, response: ServerResponse, pathname: string): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
      response.end('method not allowed\n')
      return
    }
    const file =
      (await this.#find(pathname)) ??
      (this.#wantsFallback(pathname) ? await this.#find('/index.html') : undefined)
    if (!file) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
      response.end('not found\n')
      return
    }
    const immutable = pathname.startsWith('/assets/') && file.path.includes(`${sep}assets${sep}`)
    response.writeHead(200, {
      'content-type': contentTypeOf(file.path),
      'content-length': file.size,
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
    })
    if (request.method === 'HEAD') {
      response.end()
      return
    }
    const stream = createReadStream(file.path)
    stream.on('error', () => response.destroy())
    stream.pipe(response)
  }

  #wantsFallback(pathname: string): boolean {
    const last = pathname.slice(pathname.lastIndexOf('/') + 1)
    return !last.includes('.')
  }

  async #find(pathname: string): Promise<{ path: string; size: number } | undefined> {
    let decoded: string
    try {
      decoded = decodeURIComponent(pathname)
    } catch {
      return undefined
    }
    if (decoded.includes('\0') || decoded.includes('\\')) return undefined
    const segments = decoded.split('/').filter((segment) => segment.length > 0)
    if (segments.some((segment) => segment === '..' || segment.startsWith('.'))) return undefined
    if (segments.length === 0) segments.push('index.html')
    const candidate = join(this.#root, ...segments)
    if (!isInside(this.#root, candidate)) return undefined
    try {
      this.#realRoot ??= realpath(this.#root)
      const [realRoot, realFile] = await Promise.all([this.#realRoot, realpath(candidate)])
      if (!isInside(realRoot, realFile)) return undefined
      const info = await stat(realFile)
      if (info.isDirectory()) return this.#find(`${segments.join('/')}/index.html`)
      if (!info.isFile()) return undefined
      return { path: realFile, size: info.size }
    } catch {
      return undefined
    }
  }
}

function isInside(root: string, path: string): boolean {
  const within = relative(root, path)
  return within === '' || (within !== '..' && !within.startsWith(`..${sep}`) && !isAbsolute(within))
}
