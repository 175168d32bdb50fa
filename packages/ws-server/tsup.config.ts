import { cp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { packageConfig } from '../../tsup.base.ts'

/** The viewer travels inside this package: `@spout/web`'s build is copied to `dist/viewer`. */
async function bundleViewer(): Promise<void> {
  const web = dirname(createRequire(import.meta.url).resolve('@spout/web/package.json'))
  await rm('dist/viewer', { recursive: true, force: true })
  await cp(join(web, 'dist'), 'dist/viewer', { recursive: true })
}

export default packageConfig(['src/index.ts'], { onSuccess: bundleViewer })
