import { type Command, Option } from 'commander'
import type { CommandContext } from '../command-context.ts'
import { apiKeyOption, collect } from './shared.ts'
import type { WorkerFlags } from './worker-flags.ts'

export function registerWorker(program: Command, context: CommandContext): void {
  program
    .command('worker')
    .description(
      'Take records from a Redis queue (batches put there by `spout run --queue`), generate them on these hosts, hand back the lines. Run one per machine, as many as you like.',
    )
    .requiredOption(
      '--queue <redis-url>',
      'the Redis the batches are queued on: redis://[user:password@]host:6379/0, rediss:// for TLS (needs @spout/redis)',
    )
    .optionsGroup('Where it generates:')
    .addOption(
      new Option(
        '--api <kind>',
        'backend of the hosts: ollama, or openai (any OpenAI-compatible server: vLLM, llama.cpp, LM Studio; default for a --host ending in /v1)',
      ).choices(['ollama', 'openai']),
    )
    .option(
      '--host <url>',
      'Ollama address (default: $OLLAMA_HOST, then http://127.0.0.1:11434); repeat it for a pool of hosts',
      collect,
    )
    .addOption(apiKeyOption())
    .option(
      '-c, --concurrency <n>',
      'records at once (default: 1); with several hosts: per host, fixed (default: learned, and the worker takes as many as the pool has slots)',
    )
    .option(
      '--plugin <path-or-package>',
      'load a plugin that runs on every record this worker takes, repeatable',
      collect,
    )
    .option(
      '--config <file>',
      'config file for hosts and plugins (default: spout.config.{ts,mjs,js,json} in this directory)',
    )
    .option(
      '--lock-duration <ms>',
      'how long a record stays with this worker without a sign of life: after a crash, others take its records back after about this long (default: 30000)',
    )
    .option(
      '--stage <name>',
      "take the records of this stage of staged runs (its own queue), not plain batches; repeatable (the hosts must have each stage's model)",
      collect,
    )
    .option('-q, --quiet', 'print nothing but warnings and fatal errors')
    .addHelpText(
      'after',
      `
The batch's model, prompt template, system prompt and request options come from the \`spout run --queue\`
that queued it; prompt-shaping plugins must be given to the workers (--plugin, or their config).
A worker killed at any moment loses nothing: its records go to another worker once their lock runs out.
A viewer's Stop on a record this worker runs (a hub with a control token) aborts it here: SPOUT_ABORTED.

Examples:
  $ spout worker --queue redis://10.0.0.5:6379/0
  $ spout worker --queue redis://:s3cret@10.0.0.5:6379/0 --host http://gpu-a:11434 --host http://gpu-b:11434
  $ spout worker --queue rediss://default:s3cret@redis.example.com:6380/0 -c 4
  $ spout worker --queue redis://10.0.0.5:6379/0 --stage teacher --host http://big-gpu:11434    (a staged run's teacher)

Ctrl-C (or SIGTERM) finishes the records in flight, then stops; a second one stops at once.`,
    )
    .action(async (flags: WorkerFlags) => {
      // Loaded when the command runs: `spout --help` does not pay for the pipeline and Redis.
      const { workerCommand } = await import('./worker-command.ts')
      context.exitCode = await workerCommand(flags, context)
    })
}
