// Ollama-shaped requests as node-llama-cpp chat histories. The model's own chat template (read
// from the GGUF by node-llama-cpp's wrappers) renders them; the history ends with an empty model
// turn, the one to generate.

import type { ChatRequest, GenerateRequest, Message } from '@spout/core/ollama'
import type { ChatHistoryItem } from 'node-llama-cpp'

function itemOf(message: Message): ChatHistoryItem {
  if (message.role === 'system') return { type: 'system', text: message.content }
  if (message.role === 'assistant') return { type: 'model', response: [message.content] }
  if (message.role === 'tool') {
    const name = message.tool_name ? ` ${message.tool_name}` : ''
    return { type: 'user', text: `[tool${name} result]\n${message.content}` }
  }
  return { type: 'user', text: message.content }
}

export function chatHistoryOf(request: ChatRequest): ChatHistoryItem[] {
  const history = (request.messages ?? []).map(itemOf)
  history.push({ type: 'model', response: [] })
  return history
}

export function generateHistoryOf(request: GenerateRequest): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = []
  if (request.system) history.push({ type: 'system', text: request.system })
  history.push({ type: 'user', text: request.prompt ?? '' })
  history.push({ type: 'model', response: [] })
  return history
}
