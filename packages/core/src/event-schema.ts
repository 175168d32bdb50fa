import { z } from 'zod'
import type { SpoutEvent } from './events.ts'

const sequence = z.number().int().positive().optional()
const jobId = z.string().min(1).max(200)
const recordId = z.string().min(1).max(1000)

const eventError = z.object({ code: z.string().max(200), message: z.string().max(10_000) })

const metrics = z.object({
  total_duration: z.number().optional(),
  load_duration: z.number().optional(),
  prompt_eval_count: z.number().optional(),
  prompt_eval_duration: z.number().optional(),
  eval_count: z.number().optional(),
  eval_duration: z.number().optional(),
  tokens_per_second: z.number().optional(),
})

const message = z.object({
  role: z.string(),
  content: z.string(),
  thinking: z.string().optional(),
  images: z.array(z.string()).optional(),
  tool_calls: z.array(z.unknown()).optional(),
  tool_name: z.string().optional(),
})

const hostReport = z.object({
  host: z.string().max(1000),
  backend: z.string().max(100),
  state: z.enum(['up', 'checking', 'down']),
  slots: z.number().int().nonnegative(),
  fixed: z.boolean().optional(),
  inFlight: z.number().int().nonnegative(),
  records: z.number().int().nonnegative(),
  failures: z.number().int().nonnegative(),
  tokens: z.number().nonnegative(),
  tokensPerSecond: z.number().nonnegative(),
  reason: z.string().max(10_000).optional(),
})
const hostReports = z.array(hostReport).max(1000)

const summary = z.object({
  ok: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  tokens: z.number().nonnegative(),
  duration: z.number().nonnegative(),
  filtered: z.number().int().nonnegative().optional(),
  interrupted: z.boolean().optional(),
  error: eventError.optional(),
  hosts: hostReports.optional(),
})

const stage = z.string().min(1).max(200).optional()

/**
 * The schema of every Spout event (zod). The hub validates each incoming frame with it; any
 * consumer of untrusted events can do the same with {@link parseEvent}.
 */
export const spoutEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('job-start'),
    jobId,
    sequence,
    name: z.string().max(1000),
    model: z.string().max(1000),
    host: z.string().max(1000),
    total: z.number().int().nonnegative().optional(),
    startedAt: z.string().max(100),
    stages: z.array(z.string().min(1).max(200)).max(1000).optional(),
  }),
  z.object({
    type: z.literal('record-queued'),
    jobId,
    sequence,
    recordId,
    stage,
  }),
  z.object({
    type: z.literal('record-start'),
    jobId,
    sequence,
    recordId,
    attempt: z.number().int().positive(),
    model: z.string().max(1000),
    host: z.string().max(1000).optional(),
    slots: z.number().int().nonnegative().optional(),
    stage,
    system: z.string().optional(),
    prompt: z.string().optional(),
    messages: z.array(message).optional(),
  }),
  z.object({
    type: z.literal('chunk'),
    jobId,
    sequence,
    recordId,
    seq: z.number().int().nonnegative(),
    text: z.string(),
    thinking: z.string().optional(),
    stage,
  }),
  z.object({
    type: z.literal('record-end'),
    jobId,
    sequence,
    recordId,
    response: z.string(),
    thinking: z.string().optional(),
    doneReason: z.string().optional(),
    metrics: metrics.optional(),
    attempts: z.number().int().nonnegative(),
    host: z.string().max(1000).optional(),
    error: eventError.optional(),
    skipped: z.boolean().optional(),
    stage,
    filtered: z.string().max(10_000).optional(),
    children: z.number().int().nonnegative().optional(),
  }),
  z.object({
    type: z.literal('hosts'),
    jobId,
    sequence,
    hosts: hostReports,
  }),
  z.object({
    type: z.literal('job-end'),
    jobId,
    sequence,
    summary,
    endedAt: z.string().max(100).optional(),
  }),
]) satisfies z.ZodType<SpoutEvent>

export type ParseEventResult = { ok: true; event: SpoutEvent } | { ok: false; message: string }

/** Checks an untrusted value against the event schema; the message names the first bad field. */
export function parseEvent(value: unknown): ParseEventResult {
  const result = spoutEventSchema.safeParse(value)
  if (result.success) return { ok: true, event: result.data as SpoutEvent }
  const issue = result.error.issues[0]
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'event'
  return { ok: false, message: `${where}: ${issue?.message ?? 'invalid event'}` }
}
