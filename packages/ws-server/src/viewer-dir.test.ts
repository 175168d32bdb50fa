import { readFile } from 'node:fs/promises'
import { join, sep } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createHub } from './hub.ts'
import { bundledViewerDir } from './viewer-dir.ts'

describe('bundledViewerDir', () => {
  it("is this package's own dist/viewer, with the built page, and a hub serves it", async () => {
    const directory = bundledViewerDir()
    expect(directory, 'the package build copies @spout/web into dist/viewer').toBeDefined()
    expect(directory).toMatch(new RegExp(`${sep}ws-server${sep}dist${sep}viewer${sep}?$`))
    const page = await readFile(join(directory ?? '', 'index.html'), 'utf8')
    const hub = await createHub({ port: 0, staticDir: directory })
    try {
      const response = await fetch(hub.url)
      expect(response.status).toBe(200)
      expect(await response.text()).toBe(page)
      const script = page.match(/src="(\/assets\/[^"]+\.js)"/)?.[1]
      expect(script).toBeDefined()
      expect((await fetch(`${hub.url}${script}`)).status).toBe(200)
    } finally {
      await hub.close()
    }
  })
})
