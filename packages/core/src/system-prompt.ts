import type { PipelineRequest, SpoutPlugin } from './plugin.ts'
import { withSystem } from './prompt-request.ts'

/**
 * A prompt builder that sets the system prompt of every request: `system` for generate, the
 * leading system message for chat (replacing one that is there).
 */
export function systemPrompt(text: string, options: { name?: string } = {}): SpoutPlugin {
  return {
    name: options.name ?? 'system-prompt',
    buildPrompt(request: PipelineRequest): PipelineRequest {
      return withSystem(request, text)
    },
  }
}
