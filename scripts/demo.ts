// `pnpm demo`: a real job end to end. A hub with the viewer, the teacher/student sample batch with the
// live terminal panel, its dataset written to demo-output/, and the viewer URL printed for the browser.
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

function runCli(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBin, ...args], { stdio: 'inherit' })
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
  const questions = join(outputDir, 'questions.jsonl')
  const answers = join(outputDir, 'answers.jsonl')
  const common = ['--host', host, '-c', '4', '--broadcast', hub.url]
  try {
    console.log(`\nStage 1: the teacher (${teacher}) writes one question per topic`)
    const teacherExit = await runCli([
      'run',
      join(example, 'topics.jsonl'),
      '-m',
      teacher,
      '--system-file',
      join(example, 'teacher.system.txt'),
      '--template',
      'Write one exam question for a {{level}} student about {{topic}}.',
      '-o',
      questions,
      '--name',
      'teacher: questions',
      ...common,
    ])
    if (teacherExit !== 0) return teacherExit

    console.log(`\nStage 2: the student (${student}) answers them`)
    const studentExit = await runCli([
      'run',
      questions,
      '-m',
      student,
      '--system-file',
      join(example, 'student.system.txt'),
      '--template',
      '{{response}}',
      '-o',
      answers,
      '--name',
      'student: answers',
      ...common,
    ])
    if (studentExit !== 0) return studentExit

    const lines = (await readFile(answers, 'utf8')).trim().split('\n')
    const sample = JSON.parse(lines[0] ?? '{}') as { id?: string; system?: string; response?: string }
    console.log(`\nDataset: ${relative(process.cwd(), answers)} (${lines.length} records)`)
    console.log(
      `  e.g. ${sample.id}: system "${sample.system?.slice(0, 40)}…" → "${sample.response?.slice(0, 60)}…"`,
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
