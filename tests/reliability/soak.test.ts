// Soak (SPOUT_LONG=1 only): the built CLI runs a 100,000-record batch over the simulator and
// broadcasts it to a hub with a viewer attached. Sampled all along: the CLI's RSS, live heap and open
// file descriptors, the test process's heap after gc (it hosts the hub, the simulator and the
// viewer) and the records the hub holds. The viewer checks every record's text as it streams.
// Memory must be flat: from 25 % of the batch to its end, both heaps grow by less than 40 bytes
// per record of the rest of the batch, so a leak of 50 bytes per record fails.
import { createReadStream } from 'node:fs'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { SpoutEvent } from '@spout/core'
import type { HubFrame } from '@spout/core/events'
import { expectedResponse, type Simulator, startSimulator } from '@spout/ollama-sim'
import { createHub, type Hub } from '@spout/ws-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repositoryRoot, spawnCli } from '../support/cli.ts'
import { opened, webSocketBase } from '../support/hub-clients.ts'
import { longRun } from '../support/long-run.ts'
import { heapUsedAfterGc, mebibytes } from '../support/memory.ts'
import { makeTempDir } from '../support/temp-dir.ts'
import { delay, until } from '../support/wait.ts'

const model = 'llama3.2'
const token = 'soak-token'
const records = Number(process.env.SPOUT_SOAK_RECORDS ?? 100_000)
const concurrency = 8
const promptFor = (index: number): string => `Soak record ${index} [sim:tokens=8]`
/**
 * The hub keeps a tail of finished records per job; it prunes once the tail passes 1.5 × its
 * limits, so what it holds swings by half the limits × a record's size. Small limits keep that
 * swing (≈ 0.3 MiB here) far under the flatness tolerance; the default (10,000) would swing ≈ 3 MiB.
 */
const hubRecordLimits = { maxFinishedRecords: 1_000, maxFailedRecords: 100 }
/** Heap growth allowed from 25 % to 100 %: 40 bytes per record of the last 75 % (2.9 MiB at 100,000). */
const heapToleranceMiB = Math.max(2, (records * 0.75 * 40) / 2 ** 20)

async function openDescriptors(pid: number | 'self'): Promise<number> {
  try {
    return (await readdir(`/proc/${pid}/fd`)).length
  } catch {
    return Number.NaN
  }
}

async function residentMebibytes(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const match = /VmRSS:\s+(\d+) kB/.exec(status)
    return match ? Math.round(Number(match[1]) / 102.4) / 10 : Number.NaN
  } catch {
    return Number.NaN
  }
}

/** A viewer that keeps counts, not state: it checks each record's text when the record ends. */
class CountingViewer {
  readonly socket: WebSocket
  readonly texts = new Map<string, string>()
  ended = 0
  wrongText: string[] = []
  jobEnded = false
  closeCode: number | undefined

  constructor(hubUrl: string) {
    this.socket = new WebSocket(`${webSocketBase(hubUrl)}/ws`)
    this.socket.addEventListener('message', (message) => {
      const frame = JSON.parse(String(message.data)) as HubFrame
      if (Array.isArray(frame)) for (const event of frame) this.#apply(event)
      else if (frame.type !== 'hub-snapshot' && frame.type !== 'hub-error') this.#apply(frame)
    })
    this.socket.addEventListener('close', (event) => {
      this.closeCode = event.code
    })
  }

  #apply(event: SpoutEvent): void {
    switch (event.type) {
      case 'record-start':
        this.texts.set(event.recordId, '')
        break
      case 'chunk':
        this.texts.set(event.recordId, (this.texts.get(event.recordId) ?? '') + event.text)
        break
      case 'record-end': {
        this.ended += 1
        const text = this.texts.get(event.recordId)
        this.texts.delete(event.recordId)
        const expected = expectedResponse({
          model,
          prompt: promptFor(Number(event.recordId.slice(1))),
        }).response
        if (text !== expected && this.wrongText.length < 10) this.wrongText.push(event.recordId)
        break
      }
      case 'job-end':
        this.jobEnded = true
        break
    }
  }
}

interface Sample {
  seconds: number
  done: number
  cliRssMiB: number
  cliFds: number
  /** The CLI's heapUsed after a full gc (its heap probe's latest line). */
  cliHeapMiB: number
}

/** Records the hub holds over all jobs (its `spout_hub_records` gauge). */
async function hubRecordsHeld(hubUrl: string): Promise<number> {
  const text = await (await fetch(`${hubUrl}/metrics`)).text()
  const match = /^spout_hub_records (\d+)$/m.exec(text)
  return match ? Number(match[1]) : Number.NaN
}

/** The last `heapUsed` the CLI's heap probe wrote, in MiB. */
async function lastHeapMebibytes(path: string): Promise<number> {
  try {
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n')
    return mebibytes(Number(lines.at(-1)?.split(' ')[1]))
  } catch {
    return Number.NaN
  }
}

const heapProbe = join(repositoryRoot, 'tests/support/heap-probe.mjs')

let sim: Simulator
let hub: Hub
let directory: { path: string; remove: () => Promise<void> }
beforeAll(async () => {
  if (!longRun) return
  sim = await startSimulator({ numParallel: concurrency })
  hub = await createHub({ port: 0, token, ...hubRecordLimits })
  directory = await makeTempDir('spout-soak-')
})
afterAll(async () => {
  await hub?.close()
  await sim?.close()
  await directory?.remove()
})

describe('soak', () => {
  it.skipIf(!longRun)(
    `a ${records.toLocaleString('en')}-record batch with a viewer attached: flat memory, no leaked sockets${longRun ? '' : ' (skipped: set SPOUT_LONG=1 to run)'}`,
    async () => {
      const input = join(directory.path, 'input.jsonl')
      const output = join(directory.path, 'out.jsonl')
      const heapLog = join(directory.path, 'cli-heap.log')
      const lines: string[] = []
      for (let index = 1; index <= records; index++)
        lines.push(JSON.stringify({ id: `r${index}`, prompt: promptFor(index) }))
      await writeFile(input, `${lines.join('\n')}\n`)
      lines.length = 0

      const viewer = new CountingViewer(hub.url)
      await opened(viewer.socket)
      const testFdsBefore = await openDescriptors('self')
      const heap: { done: number; heapMiB: number; hubRecords: number }[] = [
        { done: 0, heapMiB: mebibytes(heapUsedAfterGc()), hubRecords: 0 },
      ]
      const sampleHeap = async () => {
        const hubRecords = await hubRecordsHeld(hub.url)
        heap.push({ done: viewer.ended, heapMiB: mebibytes(heapUsedAfterGc()), hubRecords })
      }

      const started = performance.now()
      const run = spawnCli(
        [
          'run',
          input,
          '-m',
          model,
          '--host',
          sim.url,
          '-o',
          output,
          '-c',
          String(concurrency),
          '--no-progress',
          '--broadcast',
          hub.url,
          '--token',
          token,
        ],
        { nodeArgs: ['--import', heapProbe], env: { SPOUT_HEAP_PROBE: heapLog } },
      )
      const pid = run.child.pid!
      let exited = false
      void run.exited.then(() => {
        exited = true
      })
      const samples: Sample[] = []
      let nextHeapAt = records / 20
      while (!exited) {
        const cliRssMiB = await residentMebibytes(pid)
        const cliFds = await openDescriptors(pid)
        const cliHeapMiB = await lastHeapMebibytes(heapLog)
        if (!Number.isNaN(cliRssMiB)) {
          samples.push({
            seconds: Math.round((performance.now() - started) / 100) / 10,
            done: viewer.ended,
            cliRssMiB,
            cliFds,
            cliHeapMiB,
          })
        }
        if (viewer.ended >= nextHeapAt && viewer.ended < records) {
          await sampleHeap()
          nextHeapAt = (Math.floor(viewer.ended / (records / 20)) + 1) * (records / 20)
        }
        await delay(500)
      }
      const exit = await run.exited
      const seconds = (performance.now() - started) / 1000
      expect(exit.code, exit.stderr).toBe(0)
      await until(() => viewer.jobEnded, 'the viewer saw the job end', 60_000)
      await sampleHeap()

      // Every id exactly once in the output.
      const seen = new Set<string>()
      let outputLines = 0
      for await (const line of createInterface({ input: createReadStream(output) })) {
        if (line === '') continue
        outputLines += 1
        const parsed = JSON.parse(line) as { id: string; error?: unknown }
        expect(parsed.error).toBeUndefined()
        seen.add(parsed.id)
      }
      expect(outputLines).toBe(records)
      expect(seen.size).toBe(records)
      expect(viewer.ended).toBe(records)
      expect(viewer.wrongText).toEqual([])
      expect(viewer.closeCode).toBeUndefined()

      // No leaked sockets: the CLI's descriptors stay flat, and ours are back where they were.
      const firstHalf = samples.filter((sample) => sample.done < records / 2).map((sample) => sample.cliFds)
      const secondHalf = samples.filter((sample) => sample.done >= records / 2).map((sample) => sample.cliFds)
      await delay(500)
      const testFdsAfter = await openDescriptors('self')
      const health = (await (await fetch(`${hub.url}/healthz`)).json()) as {
        viewers: number
        producers: number
      }

      const at = (fraction: number): Sample =>
        samples.find((sample) => sample.done >= records * fraction) ?? samples.at(-1)!
      const heapAt = (fraction: number) =>
        heap.find((sample) => sample.done >= records * fraction) ?? heap.at(-1)!
      const report = {
        records,
        seconds: Math.round(seconds * 10) / 10,
        recordsPerSecond: Math.round(records / seconds),
        cliHeapAfterGcMiB: {
          at10: at(0.1).cliHeapMiB,
          at25: at(0.25).cliHeapMiB,
          at50: at(0.5).cliHeapMiB,
          at75: at(0.75).cliHeapMiB,
          at100: samples.at(-1)?.cliHeapMiB,
        },
        cliRssMiB: {
          at10: at(0.1).cliRssMiB,
          at25: at(0.25).cliRssMiB,
          at50: at(0.5).cliRssMiB,
          at75: at(0.75).cliRssMiB,
          max: Math.max(...samples.map((sample) => sample.cliRssMiB)),
        },
        cliFds: {
          firstHalfMax: Math.max(...firstHalf),
          secondHalfMax: Math.max(...secondHalf),
          last: samples.at(-1)?.cliFds,
        },
        testProcessFds: { before: testFdsBefore, after: testFdsAfter },
        testProcessHeapMiB: heap,
        heapToleranceMiB: Math.round(heapToleranceMiB * 10) / 10,
        hub: health,
        simCounters: { ...sim.counters },
      }
      console.log(`[soak] ${JSON.stringify(report)}`)
      if (process.env.SPOUT_SOAK_REPORT) {
        await writeFile(process.env.SPOUT_SOAK_REPORT, JSON.stringify({ report, samples }, null, 2))
      }

      // No descriptor growth: the second half never holds more than the first half did.
      expect(Math.max(...secondHalf), 'CLI file descriptors stay flat').toBeLessThanOrEqual(
        Math.max(...firstHalf) + 2,
      )
      expect(
        testFdsAfter - testFdsBefore,
        'no sockets left open in the hub and simulator',
      ).toBeLessThanOrEqual(4)
      expect(health.producers).toBe(0)
      expect(sim.counters.inFlight).toBe(0)
      // Flat: from a quarter of the batch to its end, neither the CLI's live heap nor the hub's
      // process heap grows by 40 bytes per record (2.9 MiB at 100,000 records).
      const cliGrowth = Math.round((samples.at(-1)!.cliHeapMiB - at(0.25).cliHeapMiB) * 10) / 10
      expect(cliGrowth, `CLI heap grew ${cliGrowth} MiB after 25% of the batch`).toBeLessThan(
        heapToleranceMiB,
      )
      const hubGrowth = Math.round((heap.at(-1)!.heapMiB - heapAt(0.25).heapMiB) * 10) / 10
      expect(hubGrowth, `hub process heap grew ${hubGrowth} MiB after 25% of the batch`).toBeLessThan(
        heapToleranceMiB,
      )
      // The hub holds the job's running records and a bounded tail, never the whole batch.
      const tail = 1.5 * (hubRecordLimits.maxFinishedRecords + hubRecordLimits.maxFailedRecords) + concurrency
      for (const sample of heap) expect(sample.hubRecords).toBeLessThanOrEqual(tail)
      viewer.socket.close()
    },
    30 * 60_000,
  )
})
