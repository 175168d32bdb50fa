// Shared by the viewer e2e tests: the built viewer, a browser, and a real batch publishing to a hub.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Backend, JobSummary, SpoutEvent } from '@spout/core'
import { eventSink, OllamaClient, runPipeline } from '@spout/core'
import type { Simulator } from '@spout/ollama-sim'
import type { Hub } from '@spout/ws-server'
import { broadcastSink } from '@spout/ws-server'
import type { BrowserContext } from 'playwright-core'
import { chromium } from 'playwright-core'

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const webDir = join(root, 'apps/web')
export const staticDir = join(webDir, 'dist')
const model = 'llama3.2'

/** Builds the viewer when `dist` is missing or older than its sources. */
export function ensureViewerBuild(): void {
  const built = join(staticDir, 'index.html')
  const newest = (path: string): number => {
    const stats = statSync(path)
    if (!stats.isDirectory()) return stats.mtimeMs
    return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))))
  }
  const sources = Math.max(newest(join(webDir, 'src')), newest(join(webDir, 'index.html')))
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return
  execFileSync('pnpm', ['--filter', '@spout/web', 'build'], { cwd: root, stdio: 'pipe' })
}

export function publishUrl(hub: Pick<Hub, 'url'>): string {
  return `${hub.url.replace(/^http/, 'ws')}/publish`
}

/** Polls until `predicate` holds (a generous limit: the machine may be loaded). */
export async function until(predicate: () => boolean, what: string, timeout = 30_000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export interface RunningJob {
  jobId: string
  ids: string[]
  /** Every event the pipeline handed to its sinks, in order. */
  events: SpoutEvent[]
  ended: (id: string) => boolean
  chunks: (id: string) => number
  /** The final text of each record, from its `record-end`. */
  responses: Map<string, string>
  /** The final thinking of each record that thought. */
  thinking: Map<string, string>
  done: Promise<JobSummary>
}

/** Starts a batch that publishes to the hub at `url` (the way `spout run --broadcast` does). */
export function startJob(
  simulator: Pick<Simulator, 'url'>,
  url: string,
  options: {
    jobId: string
    count: number
    concurrency: number
    tokens: number
    /** A prompt suffix per record id, e.g. a simulator fault directive. */
    suffix?: Record<string, string>
    /** Default `llama3.2`; `qwen3` thinks before it answers. */
    model?: string
    /** Called with each event as the pipeline hands it to its sinks (before the broadcast). */
    onEvent?: (event: SpoutEvent) => void
    /** The backend, e.g. a `HostPool`; default an `OllamaClient` for `simulator`. */
    client?: Backend
    /** Records read ahead of a free slot (queued rows); `spout run --broadcast` reads 16. Default 0. */
    readAhead?: number
    /** The broadcast's coalescing window (`broadcastSink`'s `tickMs`); its default when absent. */
    tickMs?: number
  },
): RunningJob {
  const ids = Array.from(
    { length: options.count },
    (_, index) => `${options.jobId}-${String(index + 1).padStart(4, '0')}`,
  )
  const events: SpoutEvent[] = []
  const responses = new Map<string, string>()
  const thinking = new Map<string, string>()
  const chunkCounts = new Map<string, number>()
  const done = runPipeline({
    client: options.client ?? new OllamaClient({ host: simulator.url }),
    model: options.model ?? model,
    name: `${options.jobId}.jsonl`,
    jobId: options.jobId,
    request: { system: 'Answer in one paragraph.', options: { num_predict: options.tokens } },
    input: ids.map((id) => ({ id, prompt: `Question ${id}: what is a river?${options.suffix?.[id] ?? ''}` })),
    concurrency: options.concurrency,
    readAhead: options.readAhead ?? 0,
    plugins: [
      eventSink((event) => {
        options.onEvent?.(event)
        events.push(event)
        if (event.type === 'chunk')
          chunkCounts.set(event.recordId, (chunkCounts.get(event.recordId) ?? 0) + 1)
        if (event.type === 'record-start') chunkCounts.set(event.recordId, 0)
        if (event.type === 'record-end') {
          responses.set(event.recordId, event.response)
          if (event.thinking) thinking.set(event.recordId, event.thinking)
        }
      }),
      broadcastSink({ url, ...(options.tickMs === undefined ? {} : { tickMs: options.tickMs }) }),
    ],
  })
  return {
    jobId: options.jobId,
    ids,
    events,
    responses,
    thinking,
    done,
    ended: (id) => responses.has(id),
    chunks: (id) => chunkCounts.get(id) ?? 0,
  }
}

/** Debian's Chromium, headless, in a fresh profile under `profileDir`. */
export function launchBrowser(profileDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: { width: 1280, height: 900 },
    permissions: ['clipboard-read', 'clipboard-write'],
  })
}
