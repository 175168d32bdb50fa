// What `spout.config.*` may hold, as one zod schema: `SpoutConfig`, `StageConfig` and `HostConfig`
// are inferred from it, and `configIssue` turns its first complaint into the one-line message
// `spout run` prints (`spout.config.ts: stages[1]: hosts[0]: unknown key "slots" (known: …)`).
import type { PluginOption, StageLine, StageRecord, Timeouts } from '@spout/core'
import type { Format, KeepAlive, Options, Think } from '@spout/core/ollama'
import { z } from 'zod'

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** An object with exactly these keys; any other key is named, with the known ones. */
function keys<Shape extends z.ZodRawShape>(shape: Shape, what = 'an object') {
  const known = Object.keys(shape).join(', ')
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown key "${issue.keys[0]}" (known: ${known})`
        : `must be ${what}`,
  })
}

const text = () => z.string({ error: 'must be a string' })
const count = (minimum: 0 | 1) =>
  z
    .int({ error: `must be a whole number ≥ ${minimum}` })
    .min(minimum, { error: `must be a whole number ≥ ${minimum}` })
const api = z.enum(['ollama', 'openai', 'llama-cpp'], { error: 'must be one of ollama, openai, llama-cpp' })
const think = z.custom<Think>(
  (value) => [true, false, 'low', 'medium', 'high', 'max'].includes(value as string),
  {
    error: 'must be a boolean or low/medium/high/max',
  },
)
const format = z.custom<Format>((value) => value === 'json' || isObject(value), {
  error: 'must be "json" or a JSON schema object',
})
const keepAlive = z.custom<KeepAlive>((value) => typeof value === 'string' || typeof value === 'number', {
  error: 'must be a string or number',
})
const options = z.custom<Options>(isObject, { error: 'must be an object' })
const milliseconds = z
  .number({ error: 'must be a number of ms ≥ 0' })
  .finite()
  .min(0, { error: 'must be ms ≥ 0' })

/** One host of `hosts` (of the config, or of a stage) when it is more than an address. */
export const hostConfigSchema = keys(
  {
    /** The host's address, as `--host` takes it. */
    address: text(),
    /** Its API: Ollama's (`/api`, default) or OpenAI-compatible (`/v1`). */
    api: z.enum(['ollama', 'openai'], { error: 'must be "ollama" or "openai"' }).optional(),
    /** Requests in flight there, fixed. Default: learned from how it answers. */
    concurrency: count(1).optional(),
    /** Preference among hosts with free slots (free slots × weight). Default 1. */
    weight: z
      .number({ error: 'must be a number > 0' })
      .positive({ error: 'must be a number > 0' })
      .optional(),
    /** The models it may serve. Default: every model it lists. */
    models: z.array(z.string(), { error: 'must be an array of model names' }).optional(),
  },
  'an address or { address, api, concurrency, weight, models }',
)

const hosts = z.array(
  z.union([z.string(), hostConfigSchema], {
    // A string never fails, so an entry that fails both is an object: the object's complaint is the one to show.
    error: 'must be an address or { address, api, concurrency, weight, models }',
  }),
  { error: 'must be an array of addresses or { address, … }' },
)

type Split = 'lines' | 'json-array' | ((result: StageLine, record: StageRecord) => readonly unknown[])
type Filter = (record: StageRecord) => string | false | null | undefined

/** One stage of a staged run (`stages: [...]`). */
export const stageConfigSchema = keys({
  /** A word: templates of later stages read its result as `{{name.response}}`, `{{name.parsed.x}}`. */
  name: z.string({ error: 'must be a word (letters, digits, _ or -)' }).regex(/^[A-Za-z_][\w-]*$/, {
    error: 'must be a word (letters, digits, _ or -)',
  }),
  /**
   * Default: `-m`, then the config's `model`. A `.gguf` path runs in this process (`@spout/llama`),
   * as with `spout run -m ./model.gguf`.
   */
  model: text().optional(),
  /** Default: `--host`, then the config's `host`, then `OLLAMA_HOST`. A host ending in `/v1` is OpenAI-compatible. */
  host: text().optional(),
  /** Several servers for this stage: a pool, as the config's `hosts` (which is the default, after `--host`). */
  hosts: hosts.optional(),
  /** `ollama`, `openai` (an OpenAI-compatible `/v1` server) or `llama-cpp` (in process). Default: `--api`, then the config's `api`, then picked from the model and host as `spout run` does. */
  api: api.optional(),
  /** System prompt template. */
  system: text().optional(),
  /** Prompt template over `{{input.field}}`, `{{item}}` (what a split made) and earlier stages. */
  template: z.string({ error: 'is required' }).min(1, { error: 'is required' }),
  /** Default: `-c`, then the config's `concurrency`, then 1. */
  concurrency: count(1).optional(),
  retries: count(0).optional(),
  formatRetries: count(0).optional(),
  chat: z.boolean({ error: 'must be a boolean' }).optional(),
  think: think.optional(),
  /** `'json'` or a JSON schema: each response is checked, its value is `{{name.parsed}}`. */
  format: format.optional(),
  keepAlive: keepAlive.optional(),
  /** Model options, over the config's `options`; `--option` entries override both. */
  options: options.optional(),
  /** One record per line, per JSON array element, or per element a function returns. */
  split: z
    .custom<Split>((value) => value === 'lines' || value === 'json-array' || typeof value === 'function', {
      error: "must be 'lines', 'json-array' or a function",
    })
    .optional(),
  /** Child ids are `<parent>.<childPrefix><n>`. Default `''`. */
  childPrefix: text().optional(),
  /** Return a reason (a string) to drop the record after this stage; it is written with `filtered`. */
  filter: z
    .custom<Filter>((value) => typeof value === 'function', { error: 'must be a function' })
    .optional(),
})

/** What `spout.config.*` may set. Command-line flags override each field. */
export const spoutConfigSchema = keys(
  {
    /** Model name, e.g. `llama3.2` (`-m`). */
    model: text().optional(),
    /** Server base URL (`--host`); default `OLLAMA_HOST`, then `http://127.0.0.1:11434`. */
    host: text().optional(),
    /** The backend (`--api`): `ollama`, `openai` (an OpenAI-compatible server), `llama-cpp`. */
    api: api.optional(),
    /**
     * Several hosts in one run (a pool; `--host` repeated overrides it): addresses, or objects with
     * the host's `api`, fixed `concurrency` (default: learned), `weight` and `models`.
     */
    hosts: hosts.optional(),
    /** Requests in flight at once (`-c`); with several hosts, each host's fixed concurrency. */
    concurrency: count(1).optional(),
    /** Extra attempts per record after a retryable failure (`--retries`). */
    retries: count(0).optional(),
    /** System prompt; `{{field}}` placeholders are filled from each record (`-s`). */
    system: text().optional(),
    /** Prompt template with `{{field}}` placeholders (`-t`). */
    template: text().optional(),
    /** The record field holding each record's id (`--id-field`). */
    idField: text().optional(),
    /** Use `/api/chat` instead of `/api/generate` (`--chat`). */
    chat: z.boolean({ error: 'must be a boolean' }).optional(),
    /** Thinking for models that support it (`--think`). */
    think: think.optional(),
    /** `'json'` or a JSON schema object (`--format`). */
    format: format.optional(),
    /** Extra tries of a response its `format` refuses (`--format-retries`). */
    formatRetries: count(0).optional(),
    /** How long Ollama keeps the model loaded, e.g. `'10m'` or `-1` (`--keep-alive`). */
    keepAlive: keepAlive.optional(),
    /** Ollama model options (`temperature`, `num_ctx`, `seed`, …); `--option` entries override keys. */
    options: options.optional(),
    /** Plugins, run before those given with `--plugin`. Falsy entries are skipped, arrays flattened. */
    plugins: z.array(z.custom<PluginOption>(), { error: 'must be an array' }).optional(),
    /** Per-phase limits in ms (`connect`, `firstByte`, `idle`; 0 = none); `--connect-timeout`, … override each. */
    timeouts: keys(
      { connect: milliseconds.optional(), firstByte: milliseconds.optional(), idle: milliseconds.optional() },
      'an object of connect, firstByte, idle (ms ≥ 0)',
    )
      .transform((timeouts): Timeouts => timeouts)
      .optional(),
    /** Extra request headers, e.g. `{ Authorization: 'Bearer …' }` for a proxy; `--header` adds or overrides. */
    headers: z
      .record(z.string(), z.string({ error: 'must be a string (a header value)' }), {
        error: 'must be an object of header names to string values',
      })
      .optional(),
    /** A staged run (teacher → student → judge): each stage's model, prompt, format, split, filter. */
    stages: z
      .array(stageConfigSchema, { error: 'must be a non-empty array' })
      .min(1, { error: 'must be a non-empty array' })
      .optional(),
    /** The input file when the command names none; relative to the config file. */
    input: text().optional(),
    /** The output file when `-o` is not given; relative to the config file. */
    output: text().optional(),
  },
  'an object (use defineConfig({ … }))',
)

export type HostConfig = z.output<typeof hostConfigSchema>
export type StageConfig = z.output<typeof stageConfigSchema>
export type SpoutConfig = z.output<typeof spoutConfigSchema>

/**
 * The first complaint of a failed parse as one line, after `file`: where (the key path, as
 * `stages[1]: hosts[0]: "weight"`) and what. An unknown key comes first: it is often the typo
 * behind the rest.
 */
export function configIssue(error: z.ZodError, file: string, input: unknown): string {
  const issue = firstIssue(error.issues)
  if (!issue) return `${file}: invalid`
  const path = issue.path.filter((part): part is string | number => typeof part !== 'symbol')
  if (path.length === 0 && issue.code !== 'unrecognized_keys')
    return `${file}: the default export ${issue.message}`
  const last = path.at(-1)
  const named = typeof last === 'string' && issue.code !== 'unrecognized_keys'
  const where = [file, ...groups(named ? path.slice(0, -1) : path, input)]
  if (named) return `${where.join(': ')}: "${last}" ${issue.message}`
  return issue.code === 'unrecognized_keys'
    ? `${where.join(': ')}: ${issue.message}`
    : `${where.join(': ')} ${issue.message}`
}

/**
 * The issue to report, its path from the root. In a union (a host: an address or an object) the
 * branch that took the value's type speaks: `hosts[0]: unknown key "adress"`, not "must be one of".
 */
function firstIssue(
  issues: readonly z.core.$ZodIssue[],
  prefix: PropertyKey[] = [],
): z.core.$ZodIssue | undefined {
  const issue = issues.find((each) => each.code === 'unrecognized_keys') ?? issues[0]
  if (issue?.code !== 'invalid_union') return issue && { ...issue, path: [...prefix, ...issue.path] }
  const path = [...prefix, ...issue.path]
  const branch = issue.errors.find(
    (branch) => !branch.some((each) => each.code === 'invalid_type' && each.path.length === 0),
  )
  return (branch && firstIssue(branch, path)) ?? { ...issue, path }
}

/** `['stages', 1, 'hosts', 0]` → `['stages[1] (student)', 'hosts[0]']`: a stage is named when it has a name. */
function groups(path: readonly (string | number)[], input: unknown): string[] {
  const parts: string[] = []
  let value = input
  for (const part of path) {
    value =
      isObject(value) || Array.isArray(value) ? (value as Record<string | number, unknown>)[part] : undefined
    if (typeof part === 'string' || parts.length === 0) {
      parts.push(String(part))
      continue
    }
    const stage =
      parts.length === 1 && path[0] === 'stages' && isObject(value) && typeof value.name === 'string'
    parts[parts.length - 1] += `[${part}]${stage ? ` (${(value as { name: string }).name})` : ''}`
  }
  return parts
}
