// `pnpm demo`: a real job end to end. A hub with the viewer, the teacher → student → judge example
// (examples/teacher-student/spout.config.ts) as one pipelined `spout run` with the live terminal
// panel, its dataset written to demo-output/, and the viewer URL printed for the browser.
// Uses an Ollama answering at OLLAMA_HOST (or the default address) when it has a model; otherwise the
// simulator. `pnpm demo --once` exits when the job ends.
import { spawn } from 'node:child_process'
import { mkdir, readFile, rm } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { OllamaClient } from '@spout/core'
import { startSimulator } from '@spout/ollama-sim'
import { bundledViewerDir, createHub } from '@spout/ws-server'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const once = process.argv.includes('--once')
const example = join(root, 'examples/teacher-student')
const outputDir = join(root, 'demo-output')
const cliBin = join(root, 'packages/cli/dist/bin.js')

async function findOllama(): Promise<{ host: string; teacher: string; student: string } | undefined> {
  const client = new OllamaClient({ retry: false, timeouts: { connect: 1000, firstByte: 2000 } })
  try {
    const { models } = await client.list({ signal: AbortSignal.timeout(2500) })
    const names = models.map((model) => model.name)
    const first = names[0]
    if (!first) {
      console.log(
        `Ollama answers at ${client.host} but has no model (try \`ollama pull llama3.2\`): using the simulator.`,
      )
      return undefined
    }
    return { host: client.host, teacher: first, student: names[1] ?? first }
  } catch {
    console.log(`No Ollama at ${client.host}: using the simulator (@spout/ollama-sim).`)
    return undefined
  } finally {
    await client.close()
  }
}

function runCli(args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBin, ...args], {
      stdio: 'inherit',
      env: { ...process.env, ...env },
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 130 : 1)))
  })
}

async function startHub() {
  const staticDir = bundledViewerDir()
  try {
    return await createHub({ port: 4317, staticDir })
  } catch {
    return await createHub({ port: 0, staticDir })
  }
}

async function main(): Promise<number> {
  const ollama = await findOllama()
  const simulator = ollama
    ? undefined
    : await startSimulator({ tokensPerSecond: 40, firstTokenDelayMs: 150, numParallel: 4 })
  const host = ollama?.host ?? simulator!.url
  const teacher = ollama?.teacher ?? 'llama3.2'
  const student = ollama?.student ?? 'qwen3'
  const hub = await startHub()
  console.log(`Live viewer: ${hub.url}   (open it in a browser)`)

  await rm(outputDir, { recursive: true, force: true })
  await mkdir(outputDir, { recursive: true })
  const dataset = join(outputDir, 'teacher-student.jsonl')
  // The models each stage uses (the config reads them): with a real Ollama, the ones it has.
  const models = { SPOUT_TEACHER_MODEL: teacher, SPOUT_STUDENT_MODEL: student, SPOUT_JUDGE_MODEL: teacher }
  try {
    console.log(
      `\nOne run, three stages, pipelined: the teacher (${teacher}) writes questions, the student (${student}) answers each as soon as it exists, the judge (${teacher}) grades each answer`,
    )
    const exit = await runCli(
      [
        'run',
        '--config',
        join(example, 'spout.config.ts'),
        '--host',
        host,
        '-o',
        dataset,
        '--name',
        'teacher → student → judge',
        '--broadcast',
        hub.url,
      ],
      models,
    )
    if (exit !== 0) return exit
    const lines = (await readFile(dataset, 'utf8')).trim().split('\n')
    const sample = JSON.parse(lines[0] ?? '{}') as {
      id?: string
      stages?: Record<string, { system?: string; response?: string }>
    }
    console.log(
      `\nDataset: ${relative(process.cwd(), dataset)} (${lines.length} records; one file per stage in teacher-student.stages/)`,
    )
    console.log(
      `  e.g. ${sample.id}: question "${sample.stages?.teacher?.response?.slice(0, 40)}…" → answer "${sample.stages?.student?.response?.slice(0, 50)}…" → verdict ${sample.stages?.judge?.response?.slice(0, 40)}`,
    )
    if (once) return 0
    console.log(`\nThe viewer stays up at ${hub.url}. Press Ctrl-C to stop.`)
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()))
    return 0
  } finally {
    await hub.close()
    await simulator?.close()
  }
}

process.exitCode = await main()
