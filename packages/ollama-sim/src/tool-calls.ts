import { hashText, Random } from './random.ts'

/** A tool call as Ollama's chat stream writes it. */
export interface SimToolCall {
  id: string
  function: { index: number; name: string; arguments: Record<string, unknown> }
}

interface ToolShape {
  function?: {
    name?: unknown
    parameters?: { properties?: Record<string, { type?: unknown; enum?: unknown }> }
  }
}

const places = ['Tokyo', 'Paris', 'Lagos', 'São Paulo', 'Zürich', 'Reykjavík']
const idAlphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'

function argumentValue(schema: { type?: unknown; enum?: unknown }, random: Random): unknown {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return random.pick(schema.enum)
  switch (schema.type) {
    case 'integer':
    case 'number':
      return random.between(1, 100)
    case 'boolean':
      return true
    case 'array':
      return []
    case 'object':
      return {}
    default:
      return random.pick(places)
  }
}

/**
 * The one deterministic tool call a tools-capable model makes when a chat request has `tools`
 * (and the conversation does not already end with a tool result).
 */
export function buildToolCall(tools: readonly unknown[], seedText: string): SimToolCall | undefined {
  const named = tools.filter(
    (tool): tool is ToolShape =>
      typeof tool === 'object' && tool !== null && typeof (tool as ToolShape).function?.name === 'string',
  )
  if (named.length === 0) return undefined
  const random = new Random(hashText(seedText, 0x2f6b1d3a))
  const tool = random.pick(named)
  const properties = tool.function?.parameters?.properties ?? {}
  const parameters: Record<string, unknown> = {}
  for (const [key, schema] of Object.entries(properties)) {
    parameters[key] = argumentValue(typeof schema === 'object' && schema !== null ? schema : {}, random)
  }
  let id = 'call_'
  for (let index = 0; index < 8; index++) id += idAlphabet[random.next() % idAlphabet.length]
  return { id, function: { index: 0, name: tool.function!.name as string, arguments: parameters } }
}
