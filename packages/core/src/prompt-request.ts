import type { EventMessage } from './events.ts'
import type { PipelineRequest } from './plugin.ts'
import type { ChatRequest, GenerateRequest } from './types.ts'

/** True for a chat request (it has `messages`), false for a generate request. */
export function isChatRequest(request: PipelineRequest): request is ChatRequest {
  return Array.isArray((request as { messages?: unknown }).messages)
}

/** The effective system prompt: the request's `system`, or the chat's first system message; `null` when none. */
export function effectiveSystem(request: PipelineRequest): string | null {
  if (isChatRequest(request)) {
    const first = request.messages?.[0]
    return first?.role === 'system' ? first.content : null
  }
  const system = (request as GenerateRequest).system
  return typeof system === 'string' ? system : null
}

/**
 * A copy of the request with this system prompt: `system` for generate; for chat, the first
 * message becomes (or replaces) a system message.
 */
export function withSystem(request: PipelineRequest, system: string): PipelineRequest {
  if (isChatRequest(request)) {
    const messages = (request.messages ?? []) as EventMessage[]
    const rest = messages[0]?.role === 'system' ? messages.slice(1) : messages
    return { ...request, messages: [{ role: 'system', content: system }, ...rest] } as PipelineRequest
  }
  return { ...request, system }
}

/**
 * A copy of the request with this user text: `prompt` for generate; for chat, a user message
 * appended to the conversation.
 */
export function withUserText(request: PipelineRequest, text: string): PipelineRequest {
  if (isChatRequest(request)) {
    const messages = (request.messages ?? []) as EventMessage[]
    return { ...request, messages: [...messages, { role: 'user', content: text }] } as PipelineRequest
  }
  return { ...request, prompt: text }
}
