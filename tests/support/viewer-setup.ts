// The setup the viewer e2e tests share: a Chromium profile in a temporary folder, simulators, and a
// real hub serving the built viewer, started before the file's tests and closed after them. Call
// `useViewerSetup` at the top of a `describe`; read its fields inside the tests.
import { join } from 'node:path'
import { type Simulator, type SimulatorOptions, startSimulator } from '@spout/ollama-sim'
import { createHub, type Hub } from '@spout/ws-server'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll } from 'vitest'
import { makeTempDir } from './temp-dir.ts'
import { ensureViewerBuild, launchBrowser, staticDir } from './viewer-page.ts'

export interface ViewerSetup {
  readonly context: BrowserContext
  readonly hub: Hub
  /** One per entry of `simulators`, in that order (a test may close one early: closing is idempotent). */
  readonly simulators: readonly Simulator[]
  /** The temporary folder (the browser's profile is in it). */
  readonly directory: string
  /** Errors thrown in the pages opened by {@link ViewerSetup.openViewer}: a test ends expecting none. */
  readonly errors: string[]
  /** A new page on the hub's viewer (`path` after the hub's URL, e.g. `?control=T`), once connected. */
  openViewer(path?: string, viewport?: { width: number; height: number }): Promise<Page>
}

export function useViewerSetup(options: {
  /** Names the temporary folder. */
  name: string
  simulators: SimulatorOptions[]
  /** The hub's options besides its port and static folder (e.g. `controlToken`). */
  hub?: Omit<NonNullable<Parameters<typeof createHub>[0]>, 'port' | 'staticDir'>
}): ViewerSetup {
  let context: BrowserContext | undefined
  let hub: Hub | undefined
  let folder: { path: string; remove: () => Promise<void> } | undefined
  const simulators: Simulator[] = []
  const errors: string[] = []

  beforeAll(async () => {
    ensureViewerBuild()
    folder = await makeTempDir(`spout-${options.name}-`)
    context = await launchBrowser(join(folder.path, 'profile'))
    for (const simulator of options.simulators) simulators.push(await startSimulator(simulator))
    hub = await createHub({ ...options.hub, port: 0, staticDir })
  }, 120_000)

  afterAll(async () => {
    await context?.close()
    await hub?.close()
    for (const simulator of simulators) await simulator.close()
    await folder?.remove()
  })

  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not started (read it inside a test)`)
    return value
  }
  return {
    get context() {
      return started(context, 'the browser')
    },
    get hub() {
      return started(hub, 'the hub')
    },
    simulators,
    get directory() {
      return started(folder, 'the folder').path
    },
    errors,
    async openViewer(path = '', viewport) {
      const page = await started(context, 'the browser').newPage()
      if (viewport) await page.setViewportSize(viewport)
      page.on('pageerror', (error) => errors.push(error.message))
      await page.goto(`${started(hub, 'the hub').url}${path}`)
      await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor()
      return page
    },
  }
}
