import { Command, CommanderError } from 'commander'
import packageJson from '../package.json' with { type: 'json' }
import { exitCodes } from './cli-error.ts'
import type { CommandContext } from './command-context.ts'
import { registerGenerate } from './commands/generate.ts'
import { registerModels } from './commands/models.ts'
import { registerPull } from './commands/pull.ts'
import { registerRun } from './commands/run.ts'
import { registerServe } from './commands/serve.ts'
import { registerWorker } from './commands/worker.ts'
import { addConnectionOptions } from './connection.ts'
import { describeError } from './describe-error.ts'
import type { CliIo } from './io.ts'

export type { CommandContext }

/** Builds the `spout` program with its commands, writing through `context.io`. */
/** The commands that talk to a server (and so take `--connect-timeout`, …, `--header`). */
const serverCommands = new Set(['run', 'generate', 'models', 'ps', 'show', 'pull', 'worker'])

export function createProgram(context: CommandContext): Command {
  const { io } = context
  const program = new Command('spout')
    .description('Stream LLM generations from Ollama: batch runs, one-shot generation, a live viewer hub.')
    .version(packageJson.version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride()
    .showSuggestionAfterError()
    .helpCommand('help [command]', 'show help for a command')
  program.addHelpText(
    'after',
    `
Examples:
  $ spout run questions.jsonl -m llama3.2 -o answers.jsonl
  $ cat prompts.txt | spout run - -m qwen3 -c 4 > answers.jsonl
  $ spout generate -m llama3.2 "Why is the sky blue?"
  $ spout pull llama3.2
  $ spout serve --port 4317

Environment:
  OLLAMA_HOST   Ollama address (default http://127.0.0.1:11434)
  NO_COLOR      no colours in terminal output`,
  )
  registerRun(program, context)
  registerGenerate(program, context)
  registerModels(program, context)
  registerPull(program, context)
  registerServe(program, context)
  registerWorker(program, context)
  // Every command that talks to a server takes the same timeout and header flags, listed last.
  for (const command of program.commands) {
    if (serverCommands.has(command.name())) addConnectionOptions(command)
  }
  return program
}

/**
 * Runs `spout` with `argv` (the arguments after `spout`) and resolves to the exit code.
 * Nothing here calls `process.exit`: `bin.ts` does, after stdout has drained.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const context: CommandContext = { io, argv, exitCode: exitCodes.ok }
  const program = createProgram(context)
  try {
    await program.parseAsync(bindThinkLevel(argv), { from: 'user' })
    return context.exitCode
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every parse error is a usage error.
      return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage
    }
    const described = describeError(error)
    io.stderr.write(`spout: ${described.message}\n`)
    return described.exitCode
  }
}

const thinkLevels = new Set(['low', 'medium', 'high', 'max', 'true', 'false'])

/**
 * `--think [level]` takes an optional value, so `spout gen -m qwen3 --think "a prompt"` would read the
 * prompt as the level. A bare `--think` followed by anything but a level becomes `--think=true`.
 */
export function bindThinkLevel(argv: readonly string[]): string[] {
  const result: string[] = []
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!
    if (argument === '--') {
      result.push(...argv.slice(index))
      break
    }
    const next = argv[index + 1]
    if (argument === '--think' && (next === undefined || !thinkLevels.has(next.toLowerCase()))) {
      result.push('--think=true')
    } else {
      result.push(argument)
    }
  }
  return result
}
