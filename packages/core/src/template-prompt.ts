import { TemplateFieldError } from './errors.ts'
import type { InputRecord, PipelineRequest, SpoutPlugin } from './plugin.ts'
import { withSystem, withUserText } from './prompt-request.ts'

type TemplatePart = string | { readonly path: readonly string[]; readonly field: string }

const placeholder = /\{\{\s*([^{}\s]+)\s*\}\}/g

/** A template compiled once: literal text and `{{field}}` / `{{a.b}}` paths. */
export interface CompiledTemplate {
  readonly fields: readonly string[]
  render(record: InputRecord): string
}

/**
 * Compiles a template. `{{field}}` and `{{a.b}}` read the record; strings are inserted as they are,
 * numbers and booleans as text, objects and arrays as JSON. A field that is missing (or `null`)
 * throws a {@link TemplateFieldError}: a prompt never says "undefined".
 */
export function compileTemplate(template: string): CompiledTemplate {
  const parts: TemplatePart[] = []
  let last = 0
  for (const match of template.matchAll(placeholder)) {
    if (match.index > last) parts.push(template.slice(last, match.index))
    const field = match[1]!
    parts.push({ path: field.split('.'), field })
    last = match.index + match[0].length
  }
  if (last < template.length) parts.push(template.slice(last))
  const fields = parts.flatMap((part) => (typeof part === 'string' ? [] : [part.field]))
  return {
    fields,
    render(record) {
      let text = ''
      for (const part of parts) {
        if (typeof part === 'string') text += part
        else text += stringify(lookup(record, part.path), part.field)
      }
      return text
    },
  }
}

function lookup(record: InputRecord, path: readonly string[]): unknown {
  let value: unknown = record
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined
    value = (value as Record<string, unknown>)[key]
  }
  return value
}

function stringify(value: unknown, field: string): string {
  if (value === undefined || value === null) throw new TemplateFieldError(field)
  if (typeof value === 'string') return value
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

export interface TemplatePromptOptions {
  /** The user prompt: `prompt` for generate; a user message appended to the chat. */
  template?: string
  /** The system prompt, also a template. */
  system?: string
  /** Plugin name, default `template-prompt`. */
  name?: string
}

/**
 * A prompt builder that fills `{{field}}` / `{{a.b}}` placeholders from the record: `template`
 * becomes the prompt (generate) or a new user message (chat), `system` the system prompt.
 */
export function templatePrompt(options: TemplatePromptOptions): SpoutPlugin {
  const template = options.template === undefined ? undefined : compileTemplate(options.template)
  const system = options.system === undefined ? undefined : compileTemplate(options.system)
  return {
    name: options.name ?? 'template-prompt',
    buildPrompt(request: PipelineRequest, record: InputRecord): PipelineRequest {
      let next = request
      if (system) next = withSystem(next, system.render(record))
      if (template) next = withUserText(next, template.render(record))
      return next
    },
  }
}
