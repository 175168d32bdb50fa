import { PipelineError } from './errors.ts'
import type { EventMessage } from './events.ts'
import type { RequestDefaults } from './pipeline-options.ts'
import type { InputRecord, PipelineRequest } from './plugin.ts'
import type { PluginDriver } from './plugin-driver.ts'
import { isChatRequest } from './prompt-request.ts'
import type { ChatRequest, GenerateRequest } from './types.ts'

/** What a record's request is built from: the job's model, default fields and endpoint. */
export interface RequestBase {
  readonly model: string
  readonly request?: RequestDefaults | undefined
  readonly endpoint?: 'generate' | 'chat' | undefined
}

/** A record's id: its `idField` value as a string, else its 1-based position in the input. */
export function recordId(record: InputRecord, idField: string, position: number): string {
  const value = typeof record === 'object' && record !== null ? record[idField] : undefined
  if (value === undefined || value === null || value === '') return String(position)
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}

/**
 * The request for one record: the defaults, the record's `prompt`/`messages`/`system`, then the
 * prompt builders (`buildPrompt`). Throws `SPOUT_INVALID_RECORD` when there is nothing to send.
 */
export async function buildRecordRequest(
  id: string,
  record: InputRecord,
  base: RequestBase,
  driver: PluginDriver,
): Promise<PipelineRequest> {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new PipelineError('SPOUT_INVALID_RECORD', `record ${id}: not an object`)
  }
  const chat = base.endpoint ? base.endpoint === 'chat' : Array.isArray(record.messages)
  let request: PipelineRequest = chat ? chatRequest(record, base) : generateRequest(record, base)
  if (driver.has('buildPrompt')) request = await driver.hookReduceArg0('buildPrompt', request, record)
  if (typeof request.model !== 'string' || request.model === '') {
    throw new PipelineError('SPOUT_INVALID_RECORD', `record ${id}: the request has no model`)
  }
  if (isChatRequest(request)) {
    if (request.messages?.length === 0) {
      throw new PipelineError('SPOUT_INVALID_RECORD', `record ${id}: no messages to send`)
    }
  } else if (typeof (request as GenerateRequest).prompt !== 'string') {
    throw new PipelineError(
      'SPOUT_INVALID_RECORD',
      `record ${id}: no prompt (give records a \`prompt\` or \`messages\` field, or use a prompt builder such as templatePrompt)`,
    )
  }
  return request
}

/** A chat request: the record's messages (or its prompt as a user message), the system first. */
function chatRequest(record: Record<string, unknown>, base: RequestBase): ChatRequest {
  const { system, prompt: _prompt, ...rest } = base.request ?? {}
  const messages: EventMessage[] = Array.isArray(record.messages)
    ? [...(record.messages as EventMessage[])]
    : typeof record.prompt === 'string'
      ? [{ role: 'user', content: record.prompt }]
      : []
  const systemText = typeof record.system === 'string' ? record.system : system
  if (typeof systemText === 'string' && messages[0]?.role !== 'system') {
    messages.unshift({ role: 'system', content: systemText })
  }
  return { ...rest, model: base.model, messages } as ChatRequest
}

function generateRequest(record: Record<string, unknown>, base: RequestBase): GenerateRequest {
  const { messages: _messages, tools: _tools, ...rest } = base.request ?? {}
  const generate = { ...rest, model: base.model } as GenerateRequest
  if (typeof record.prompt === 'string') generate.prompt = record.prompt
  if (typeof record.system === 'string') generate.system = record.system
  return generate
}
