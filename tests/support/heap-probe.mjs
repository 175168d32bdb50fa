// Preloaded into a child process (`node --import ./heap-probe.mjs`): every SPOUT_HEAP_PROBE_MS
// (default 1000) it runs a full gc and appends `heapUsed` (bytes) to the file SPOUT_HEAP_PROBE.
// Plain JavaScript so that node loads it without a TypeScript step.
import { appendFileSync } from 'node:fs'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

const path = process.env.SPOUT_HEAP_PROBE
if (path) {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc')
  const sample = () => {
    gc()
    appendFileSync(path, `${Date.now()} ${process.memoryUsage().heapUsed}\n`)
  }
  sample()
  setInterval(sample, Number(process.env.SPOUT_HEAP_PROBE_MS ?? 1000)).unref()
}
