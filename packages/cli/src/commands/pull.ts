import type { Command } from 'commander'
import { exitCodes } from '../cli-error.ts'
import type { CommandContext } from '../command-context.ts'
import { type ConnectionFlags, resolveConnection } from '../connection.ts'
import { describeError } from '../describe-error.ts'
import { resolveHost } from '../host.ts'
import { PullProgressView } from '../pull-progress.ts'
import { abortOnInterrupt, hostOption } from './shared.ts'

export function registerPull(program: Command, context: CommandContext): void {
  const { io } = context
  program
    .command('pull')
    .description(
      'Download a model from the Ollama library, with a progress bar (plain lines when not a terminal).',
    )
    .argument('<model>', 'model name, e.g. llama3.2 or qwen3:8b')
    .addOption(hostOption())
    .option('--insecure', 'allow an insecure (http) registry')
    .addHelpText(
      'after',
      '\nExamples:\n  $ spout pull llama3.2\n  $ spout pull qwen3:8b --host http://gpu-box:11434',
    )
    .action(async (model: string, flags: { host?: string; insecure?: boolean } & ConnectionFlags) => {
      const host = await resolveHost(flags.host, undefined, io.env)
      // Loaded when the command runs: `spout --help` does not pay for undici.
      const { OllamaClient } = await import('@spout/core')
      const client = new OllamaClient({ host, ...resolveConnection(flags) })
      const controller = new AbortController()
      const interruption = abortOnInterrupt(io, controller)
      const view = new PullProgressView({
        stream: io.stderr,
        live: io.stderr.isTTY === true && io.env.TERM !== 'dumb',
      })
      try {
        const progress = client.pull(
          { model, stream: true, ...(flags.insecure ? { insecure: true } : {}) },
          { signal: controller.signal },
        )
        for await (const update of progress) view.update(update)
        view.finish()
        context.exitCode = exitCodes.ok
      } catch (error) {
        view.finish()
        if (interruption.interrupted) {
          context.exitCode = interruption.exitCode
          return
        }
        const described = describeError(error, { host: client.host })
        io.stderr.write(`spout: ${described.message}\n`)
        context.exitCode = described.exitCode
      } finally {
        interruption.stop()
        await client.close()
      }
    })
}
