import { type Command, Option } from 'commander'
import type { CommandContext } from '../command-context.ts'
import { inputFormats } from '../input-format.ts'
import type { RunFlags } from './run-flags.ts'
import { apiKeyOption, apiOption, collect, modelOption } from './shared.ts'

export function registerRun(program: Command, context: CommandContext): void {
  const command = program
    .command('run')
    .description(
      'Run a batch: one generation per input record, streamed, written as JSONL (one line per record).',
    )
    .argument(
      '[input]',
      'a .jsonl, .csv (header row) or .txt (one prompt per line) file, or - for stdin (default: the config\'s "input")',
    )
  // The options in the groups --help shows, in its order.
  modelOptions(command)
  inputOptions(command)
  promptOptions(command)
  pluginOptions(command)
  scaleOutOptions(command)
  liveOptions(command)
  command.addHelpText('after', runHelp)
  command.action(async (input: string | undefined, flags: RunFlags) => {
    // Loaded when the command runs: `spout --help` does not pay for the pipeline, undici and the hub client.
    const { runCommand } = await import('./run-command.ts')
    context.exitCode = await runCommand(input, flags, context)
  })
}

/** Model and server: which model, where, how many at once. */
function modelOptions(command: Command): Command {
  return command
    .optionsGroup('Model and server:')
    .addOption(modelOption())
    .addOption(apiOption())
    .option(
      '--host <url>',
      'Ollama address (default: $OLLAMA_HOST, then http://127.0.0.1:11434); repeat it to spread the batch over several hosts',
      collect,
    )
    .addOption(apiKeyOption())
    .option(
      '-c, --concurrency <n>',
      'records in flight at once; match OLLAMA_NUM_PARALLEL, or the sequences of a .gguf model (default: 1); with several hosts: per host, fixed (default: learned)',
    )
    .option('--retries <n>', 'extra attempts per record on retryable errors (default: 2)')
    .addOption(new Option('-j, --max-concurrency <n>', "promptfoo's name for -c").hideHelp())
}

/** Input and output: where records come from and lines go. */
function inputOptions(command: Command): Command {
  return command
    .optionsGroup('Input and output:')
    .option('-o, --output <file.jsonl>', 'where results go (default: stdout when it is not a terminal)')
    .option('--resume', 'keep the records already in --output and run only the rest (and the failed ones)')
    .option('--id-field <name>', 'record field that holds its id (default: "id"; else the record number)')
    .addOption(
      new Option('--input-format <format>', 'read the input as this format, whatever its name').choices(
        inputFormats,
      ),
    )
}

/** Prompt and request: what each record asks. */
function promptOptions(command: Command): Command {
  return command
    .optionsGroup('Prompt and request:')
    .option('-s, --system <text>', 'system prompt; {{field}} placeholders are filled from each record')
    .option('--system-file <path>', 'read the system prompt from a file')
    .option(
      '-t, --template <text>',
      'prompt template with {{field}} placeholders (default: the "prompt" field)',
    )
    .option('--template-file <path>', 'read the prompt template from a file')
    .option(
      '--chat',
      'always use chat (/api/chat, or /v1/chat/completions with --api openai); records with a "messages" array use it anyway, a bare prompt otherwise goes to /api/generate or /v1/completions',
    )
    .option('--think [level]', 'let thinking models think (optionally low, medium, high or max)')
    .option('--no-think', 'ask thinking models not to think')
    .option(
      '--format <json|schema.json>',
      'structured output: "json" or a JSON schema file; each response is checked, its JSON written as "parsed"',
    )
    .option(
      '--format-retries <n>',
      'ask again when a response is not JSON, breaks the schema or is cut off (default: 2)',
    )
    .option(
      '--option <key=value>',
      'model option, repeatable; numbers stay numbers (e.g. temperature=0.2)',
      collect,
    )
    .option('--keep-alive <duration>', 'how long Ollama keeps the model loaded (e.g. 10m, -1 for ever)')
}

/** Plugins and config. */
function pluginOptions(command: Command): Command {
  return command
    .optionsGroup('Plugins and config:')
    .option(
      '--plugin <path-or-package>',
      'load a plugin (default export: a plugin or a factory), repeatable',
      collect,
    )
    .option('--config <file>', 'config file (default: spout.config.{ts,mjs,js,json} in this directory)')
}

/** Scale out: the batch on a Redis queue. */
function scaleOutOptions(command: Command): Command {
  return command
    .optionsGroup('Scale out:')
    .option(
      '--queue <redis-url>',
      'put the batch on a Redis queue (BullMQ) for `spout worker` processes on any machine, and collect their lines into --output (redis://[user:password@]host:6379/0, rediss:// for TLS); needs @spout/redis',
    )
    .option(
      '--workers <n>',
      'with --queue: workers this process also runs, sharing its --host/-c (default: one per host the run resolves, so a single machine works alone; 0 only collects)',
    )
}

/** Live view and display. */
function liveOptions(command: Command): Command {
  return command
    .optionsGroup('Live view and display:')
    .option('--broadcast <ws-url>', 'also stream events to a spout hub (e.g. ws://127.0.0.1:4317)')
    .option('--token <token>', 'producer token for --broadcast (default: $SPOUT_TOKEN)')
    .option(
      '--read-ahead <n>',
      'input records read before a slot is free for them (per stage in a staged run), shown as queued in the viewer (default: 16 with --broadcast, else 0)',
    )
    .option('--name <name>', 'job name shown in the viewer (default: the input file name)')
    .option('-q, --quiet', 'print nothing but fatal errors (failed records are in the output; exit code 1)')
    .option('--no-progress', 'no live display or progress lines (the summary still prints)')
}

const runHelp = `
Examples:
  $ spout run questions.jsonl -m llama3.2 -o answers.jsonl
  $ spout run data.csv -m qwen3 -t 'Answer briefly: {{question}}' -s 'You are a {{role}}.' -o out.jsonl
  $ cat prompts.txt | spout run - -m llama3.2 > out.jsonl
  $ spout run questions.jsonl -m llama3.2 -o answers.jsonl --resume
  $ spout run questions.jsonl -m qwen3 -c 4 --think --option temperature=0.2 -o out.jsonl
  $ SPOUT_TOKEN=s3cret spout run questions.jsonl -m llama3.2 -o out.jsonl --broadcast ws://127.0.0.1:4317
  $ spout run questions.jsonl -m ./models/qwen3-0.6b.gguf -c 4 -o out.jsonl    (in process, no server)
  $ spout run questions.jsonl -m Qwen/Qwen3-8B --host http://gpu-box:8000/v1 -c 16 -o out.jsonl    (vLLM, OpenAI API)
  $ spout run --config examples/teacher-student/spout.config.ts   (stages: teacher → student → judge)
  $ spout run questions.jsonl -m llama3.2 --host gpu-a --host gpu-b --host old-box -o out.jsonl
  $ spout run questions.jsonl -m llama3.2 -o out.jsonl --queue redis://10.0.0.5:6379/0 --workers 0    (then spout worker on each GPU box)

Stages (a config with "stages": teacher → student → judge): each stage runs where its model and host
say, chosen as for a single run: a .gguf model in process, a host ending in /v1 (or api: 'openai'),
"hosts" for a pool, else Ollama. -m, --host, --api, -c and --option are every stage's defaults.
With --queue each stage has its own queue (spout.<stage>): spout worker --stage <name> serves it.

Exit codes: 0 all records succeeded, 1 some failed (their lines hold the error),
2 usage or setup error (Ollama unreachable, model missing), 130 interrupted by Ctrl-C (or stopped from
the viewer of a hub started with --control-token), 143 by SIGTERM (all resumable).`
